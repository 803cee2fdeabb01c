"""The corpus of realistic notebooks (``tests/corpus``): zero false alarms on clean ones, the right cause on
real ones, with real kernels.

Every clean notebook is recorded once and verified twice: both replays must come back ``reproduced`` with no
finding at all, not even a warning, whatever the machine's speed, memory addresses, temporary names and
widget ids. Every real notebook hides one source of irreproducibility; its replay must name it as the root
(``upstream_of`` empty) at the right cell, with everything else chained under it.

Some real differences show only by chance in a given pair of runs (a time budget that happens to end on the
same step, a set whose order happens to be the same, a search that fails in neither run): such a replay is
repeated, a bounded number of times, and every replay that does differ must give the right cause.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from corpus import build

from reprotrack.verify import record_notebook, verify_notebook

pytestmark = pytest.mark.kernel

CORPUS = Path(__file__).resolve().parent / "corpus"
#: The noise kinds of the issue that the clean notebooks must cover between them.
ISSUE_NOISE = {"printed-duration", "timeit", "tqdm-bar", "object-address", "cell-file-warning",
               "library-warning-path", "stream-chunking", "widget-output", "tqdm-widget", "display-id",
               "estimator-html-ids", "figure-repr", "figure-image", "cv_results-timings", "user-rule"}
ISSUE_CAUSES = {"unseeded-randomness", "unexplained", "cell-error"}
TRIES = 4


@pytest.fixture(autouse=True)
def _process_hashing(monkeypatch):
    """Kernels get this process's environment: string hashing must be what it is by default (random)."""
    monkeypatch.delenv("PYTHONHASHSEED", raising=False)


def _copy(name: str, tmp_path: Path) -> Path:
    target = tmp_path / f"{name}.ipynb"
    shutil.copy(CORPUS / f"{name}.ipynb", target)
    if build.NOTEBOOKS[name].pyproject:
        (tmp_path / "pyproject.toml").write_text(build.NOTEBOOKS[name].pyproject, "utf-8")
    return target


def _record(nb: Path) -> None:
    result = record_notebook(nb)
    assert result.exit_code == 0, result.replay.execution_error


def _show(report) -> list[str]:
    return [f"{f.id} cell {f.cell_index} {f.kind}/{f.cause} {f.subject}: {f.message} (upstream {f.upstream_of})"
            for f in report.findings]


def test_the_corpus_files_are_the_ones_the_builder_writes():
    on_disk = {p.stem for p in CORPUS.glob("*.ipynb")}
    assert on_disk == set(build.NOTEBOOKS), "run: python tests/corpus/build.py"
    for name, notebook in build.NOTEBOOKS.items():
        assert (CORPUS / f"{name}.ipynb").read_text("utf-8") == build.text(notebook), \
            f"{name}.ipynb is stale: run python tests/corpus/build.py"


def test_the_corpus_covers_the_issue():
    noise = {kind for nb in build.CLEAN for kind in nb.noise}
    causes = {nb.expect[2] for nb in build.REAL}
    assert ISSUE_NOISE <= noise, ISSUE_NOISE - noise
    assert ISSUE_CAUSES <= causes, ISSUE_CAUSES - causes


@pytest.mark.parametrize("name", [nb.name for nb in build.CLEAN])
def test_a_clean_notebook_replays_with_zero_findings_twice(name, tmp_path):
    nb = _copy(name, tmp_path)
    _record(nb)
    for attempt in range(2):
        result = verify_notebook(nb)
        report = result.report
        assert (report.status, _show(report)) == ("reproduced", []), f"replay {attempt + 1} of {name}"
        assert result.exit_code == 0
    if build.NOTEBOOKS[name].pyproject:  # the user's rule is what makes it clean: the capture applied it at
        # record time (the lock holds the normalised text), so the diff compares what the rule left
        printed = json.dumps([c.get("outputs") for c in json.loads(nb.with_suffix(".reprotrack.lock").read_text())["cells"]])
        assert "[worker N]" in printed and not re.search(r"\[worker [0-9]+\]", printed)


@pytest.mark.parametrize("name", [nb.name for nb in build.REAL if nb.expect[2] != "cell-error"])
def test_a_real_difference_has_the_right_root_cause(name, tmp_path):
    notebook = build.NOTEBOOKS[name]
    code_cell, kind, cause, named = notebook.expect
    cell_index = code_cell + 1  # the title cell comes first
    nb = _copy(name, tmp_path)
    _record(nb)
    for _ in range(TRIES):
        report = verify_notebook(nb).report
        if report.findings:
            break
    else:
        pytest.fail(f"{name}: {TRIES} replays all reproduced the research run")
    shown = _show(report)
    roots = [f for f in report.findings if f.upstream_of is None]
    assert [(f.kind, f.cause, f.cell_index) for f in roots] == [(kind, cause, cell_index)], shown
    root = roots[0]
    assert named in root.subject or named in root.message, shown
    assert all(f.cell_index is None or f.cell_index >= cell_index for f in report.findings), shown
    assert report.status == "differs" and report.first_divergence["cell_index"] == cell_index
    if cause == "unexplained":  # says what was checked and found equal, and guesses no cause
        for checked in ("its code", "seeds", "input files", "data recorded by the cells before it",
                        "package versions", "PYTHONHASHSEED"):
            assert checked in root.message, root.message
        assert not [f for f in report.findings if f.kind in ("randomness", "environment")], shown


def test_a_search_that_fails_on_unlucky_splits_is_a_cell_error_under_the_unseeded_split(tmp_path):
    """Research's search cell ran cleanly or failed; the replay's split differs, so the search fails in one
    run and not the other (or with another score): cell-error, explained by the split's unseeded draw."""
    notebook = build.NOTEBOOKS["flaky_search"]
    code_cell, kind, cause, named = notebook.expect
    search_cell, split_cell = code_cell + 1, code_cell
    nb = _copy("flaky_search", tmp_path)
    _record(nb)
    for _ in range(TRIES):
        report = verify_notebook(nb).report
        shown = _show(report)
        roots = [f for f in report.findings if f.upstream_of is None]
        if report.findings:  # whatever the search did, the only root is the unseeded split
            assert [(f.kind, f.cause, f.cell_index) for f in roots] == \
                [("randomness", "unseeded-randomness", split_cell)], shown
            assert "train_test_split" in roots[0].subject, shown
        errors = [f for f in report.findings if f.cause == "cell-error"]
        if errors:
            break
    else:
        pytest.fail(f"the search failed in neither or both runs alike in {TRIES} replays")
    assert [(f.kind, f.cell_index) for f in errors] == [(kind, search_cell)], shown
    assert errors[0].upstream_of == roots[0].id, shown
    assert "RuntimeError" in errors[0].message and "no candidate reached" in errors[0].message
