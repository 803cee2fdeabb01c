"""Import-where-used notebooks edited after their research run (``corpus.build.VARIANTS``): each is diagnosed
at the right cell with the right cause, and a staging kernel that imports scikit-learn at start-up changes
nothing. One research run per notebook, several replays."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from corpus import build

from reprotrack import store
from reprotrack.verify import record_notebook, verify_notebook

pytestmark = pytest.mark.kernel

CORPUS = Path(__file__).resolve().parent / "corpus"


@pytest.fixture(autouse=True)
def _process_hashing(monkeypatch):
    monkeypatch.delenv("PYTHONHASHSEED", raising=False)


@pytest.fixture(scope="module")
def research(tmp_path_factory):
    """Each base notebook recorded once, in a plain kernel: name → (folder, lock)."""
    recorded = {}
    for base in sorted({v.base for v in build.VARIANTS}):
        folder = tmp_path_factory.mktemp(base)
        nb = folder / f"{base}.ipynb"
        shutil.copy(CORPUS / nb.name, nb)
        result = record_notebook(nb)
        assert result.exit_code == 0, result.replay.execution_error
        recorded[base] = (folder, store.read_lock(result.lock_path))
    return recorded


def _edited(variant: build.Variant, source: Path, target: Path) -> None:
    nb = nbformat.read(str(source), as_version=4)
    for index, text in variant.edits.items():
        nb.cells[index + 1].source = text  # the title cell comes first
    if variant.insert is not None:
        before, text = variant.insert
        cell = nbformat.v4.new_code_cell(text)
        cell.id = f"{variant.name.replace('_', '-')}-inserted"
        nb.cells.insert(before + 1, cell)
    nbformat.write(nb, str(target))


def _show(report) -> list[str]:
    return [f"{f.id} cell {f.cell_index} {f.kind}/{f.cause} {f.subject}: {f.message} (upstream {f.upstream_of})"
            for f in report.findings]


def test_the_research_locks_hold_what_the_import_cells_did(research):
    _, digits = research["gallery_digits"]
    loaded, split, forest = digits.cells[0], digits.cells[1], digits.cells[2]
    assert set(loaded.data["digits"]["members"]) >= {".data", ".target", ".images"}
    assert [(s["api"], s["random_state"]) for s in split.splits] == [("train_test_split", 42)]
    assert {"api": "sklearn.ensemble.RandomForestClassifier(random_state=)", "value": 0} in forest.seeds
    _, wine = research["gallery_wine_dataset"]
    assert [i["path"] for i in wine.cells[1].inputs] == ["<site-packages>/sklearn/datasets/data/wine_data.csv"]
    assert set(wine.cells[1].data["wine"]["members"]) == {".data", ".endog", ".exog"}
    assert len(wine.cells[2].splits) == 5


@pytest.mark.parametrize("name", [v.name for v in build.VARIANTS])
def test_an_edited_notebook_is_diagnosed_at_the_right_cell(name, research, tmp_path, monkeypatch, request):
    variant = next(v for v in build.VARIANTS if v.name == name)
    if variant.pending:
        request.applymarker(pytest.mark.xfail(reason=variant.pending, strict=False))
    folder, _ = research[variant.base]
    nb = tmp_path / f"{variant.base}.ipynb"
    shutil.copy(folder / nb.name, tmp_path / nb.name)
    shutil.copy(folder / f"{variant.base}.reprotrack.lock", tmp_path)
    _edited(variant, folder / nb.name, nb)
    if variant.startup:
        startup = tmp_path / "ipython" / "profile_default" / "startup"
        startup.mkdir(parents=True)
        (startup / "00-staging.py").write_text(variant.startup, "utf-8")
        monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    report = verify_notebook(nb).report
    shown = _show(report)
    if variant.expect is None:
        assert (report.status, shown) == ("reproduced", []), name
        return
    code_cell, kind, cause, named = variant.expect
    cell_index = code_cell + 1
    roots = [f for f in report.findings if f.upstream_of is None and f.severity == "error"]
    assert roots and {f.cell_index for f in roots} == {cell_index}, shown
    here = [f for f in report.findings if f.cell_index == cell_index]
    causes = cause.split("|")
    assert any(f.kind == kind and f.cause in causes for f in here), shown
    assert any(named in f.subject or named in f.message for f in here if f.cause in causes), shown
    assert set(variant.also) <= {f.cause for f in here}, shown
    assert all(f.cell_index is None or f.cell_index >= cell_index for f in report.findings), shown
    assert report.status == "differs" and report.first_divergence["cell_index"] == cell_index
