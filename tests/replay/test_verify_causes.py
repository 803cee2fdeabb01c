"""Every cause of the diagnosis vocabulary, end to end with real kernels: one research run, then one replay per
scenario, each diagnosed at the right cell with the right cause and what follows from it folded under it.

The study notebook reads the scenario from the environment through a function (a function is not data, so the
switch itself is never a finding): the replay kernel inherits the test's environment, as a staging kernel
inherits its machine's. Environment causes are made by editing a copy of the research lock's environment,
which is what a lock recorded on another machine looks like. A handful of causes need their own research run
(an unseeded research run, a cell the notebook lost or gained, a changed source, a cell that raised).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import write_notebook

from reprotrack import store
from reprotrack.verify import record_notebook, verify_notebook

pytestmark = pytest.mark.kernel

CELLS = [
    "import os\nimport numpy as np\nimport pandas as pd\nfrom sklearn.model_selection import train_test_split\n"
    "from sklearn.linear_model import LogisticRegression\n\n"
    "def scenario():\n    return os.environ.get('RT_SCENARIO', 'base')",
    "np.random.seed(1 if scenario() == 'seed-changed' else 0)",
    "df = pd.read_csv('data.csv')",
    """df['noise'] = np.random.normal(size=len(df))
s = scenario()
if s == 'rows-reordered':
    df = df.iloc[::-1].reset_index(drop=True)
elif s == 'rows-removed':
    df = df.iloc[:-7]
elif s == 'rows-added':
    df = pd.concat([df, df.tail(4)], ignore_index=True)
elif s == 'schema-changed':
    df['k'] = df['k'].astype('int32')
elif s == 'precision':
    df['x'] = df['x'] * (1 + 1e-13)
elif s == 'values-changed':
    df.loc[3, 'x'] = 1000.0
elif s == 'new-categories':
    df.loc[:60, 'cat'] = 'zebra'
elif s == 'distribution-shift':
    df['y'] = df['y'] + 1.5
del s""",
    "train, test = train_test_split(df, test_size=0.3 if scenario() == 'split-sizes' else 0.25,\n"
    "                               random_state=np.random.RandomState() if scenario() == 'unseeded' else 0)",
    """model = LogisticRegression(max_iter=1000).fit(train[['x', 'y']], train['label'])
proba = model.predict_proba(test[['x', 'y']])
if scenario() == 'nan':
    proba[0, 0] = np.nan
print(f"accuracy: {model.score(test[['x', 'y']], test['label']):.4f}")""",
    "print('done' if scenario() != 'output-changed' else 'finished')",
]
IDS = ["imports", "seed", "load", "features", "split", "model", "report"]

#: scenario → (cell index of the root cause, kind, cause)
SCENARIOS = {
    "seed-changed": (1, "randomness", "seed-changed"),
    "rows-reordered": (3, "data", "rows-reordered"),
    "rows-removed": (3, "data", "rows-removed"),
    "rows-added": (3, "data", "rows-added"),
    "schema-changed": (3, "data", "schema-changed"),
    "values-changed": (3, "data", "values-changed"),
    "new-categories": (3, "data", "new-categories"),
    "distribution-shift": (3, "data", "distribution-shift"),
    "split-sizes": (4, "split", "split-changed"),
    "nan": (5, "output", "nan-or-inf"),
    "output-changed": (6, "output", "output-changed"),
}


def _data() -> pd.DataFrame:
    rng = np.random.default_rng(42)
    n = 400
    df = pd.DataFrame({"x": rng.normal(size=n), "y": rng.normal(size=n), "k": rng.integers(0, 100, n),
                       "cat": rng.choice(list("abc"), n)})
    df["label"] = (df.x + df.y + rng.normal(scale=0.5, size=n) > 0).astype(int)
    return df


@pytest.fixture(scope="module")
def research(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("causes")
    nb = write_notebook(folder / "study.ipynb", CELLS, ids=IDS)
    _data().to_csv(folder / "data.csv", index=False)
    mp = pytest.MonkeyPatch()
    mp.setenv("RT_SCENARIO", "base")
    try:
        assert record_notebook(nb).exit_code == 0
    finally:
        mp.undo()
    return folder


@pytest.fixture
def study(research, tmp_path) -> Path:
    folder = tmp_path / "study"
    shutil.copytree(research, folder)
    return folder / "study.ipynb"


def _roots(report):
    return [f for f in report.findings if not f.upstream_of]


def _assert_diagnosed(report, cell: int, kind: str, cause: str) -> None:
    """``cause`` is found at ``cell`` as a root, or -- where the scenario's switch is invisible to the lock,
    as a database or a hidden parameter would be -- directly under that cell's ``unexplained`` root."""
    described = [(f.id, f.cell_index, f.kind, f.cause, f.upstream_of, f.message) for f in report.findings]
    assert report.status == "differs", described
    assert report.first_divergence["cell_index"] == cell, described
    roots = _roots(report)
    unexplained = {f.id for f in roots if f.cause == "unexplained" and f.cell_index == cell}
    found = {(f.cell_index, f.kind, f.cause) for f in report.findings if not f.upstream_of or f.upstream_of in unexplained}
    assert (cell, kind, cause) in found, described
    # every root cause sits in the first diverging cell; what later cells show is folded under one
    assert {f.cell_index for f in roots} == {cell}, described
    ids = {f.id for f in report.findings}
    assert all(f.upstream_of in ids for f in report.findings if f.upstream_of), described


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_each_cause_is_diagnosed_at_its_cell_with_consequences_folded(study, scenario, monkeypatch):
    monkeypatch.setenv("RT_SCENARIO", scenario)
    result = verify_notebook(study)
    assert result.exit_code == 1
    _assert_diagnosed(result.report, *SCENARIOS[scenario])


def test_precision_noise_is_a_warning_and_the_run_still_reproduces(study, monkeypatch):
    monkeypatch.setenv("RT_SCENARIO", "precision")
    report = verify_notebook(study).report
    assert report.status == "reproduced"
    assert report.findings and {(f.severity, f.cause) for f in report.findings} == {("warning", "precision")}
    assert report.findings[0].cell_index == 3 and report.findings[0].subject == "df"


def test_the_clean_replay_reproduces(study, monkeypatch):
    monkeypatch.setenv("RT_SCENARIO", "base")
    result = verify_notebook(study)
    assert (result.exit_code, result.report.findings) == (0, [])


def test_a_changed_input_file_is_the_root_of_the_data_it_fed(study, monkeypatch):
    monkeypatch.setenv("RT_SCENARIO", "base")
    changed = _data()
    changed.loc[10:30, "y"] += 3.0  # an ETL step that went wrong for some rows
    changed.to_csv(study.parent / "data.csv", index=False)
    report = verify_notebook(study).report
    _assert_diagnosed(report, 2, "data", "input-file-changed")
    assert any(f.cause in ("values-changed", "distribution-shift") and f.subject == "df" and f.upstream_of
               for f in report.findings)


def _edit_environment(study: Path, change) -> Path:
    lock = study.with_name("study.reprotrack.lock")
    data = json.loads(lock.read_text())
    change(data["environment"])
    edited = study.with_name("elsewhere.lock")
    edited.write_text(json.dumps(data))
    return edited


@pytest.mark.parametrize("cause,change", [
    ("package-version", lambda env: env["packages"].__setitem__("numpy", "1.21.0")),
    # a package the research code imported (so also in user_packages) that staging does not have
    ("package-missing", lambda env: (env["packages"].__setitem__("lightgbm", "4.3.0"),
                                     env.setdefault("user_packages", []).append("lightgbm"))),
    ("python-version", lambda env: env.__setitem__("python", "3.9.18")),
    ("platform", lambda env: env["platform"].__setitem__("machine", "arm64")),
    ("blas-threads", lambda env: [pool.__setitem__("num_threads", 64) for pool in env.get("threadpools") or []]),
])
def test_environment_causes_come_first(study, cause, change, monkeypatch):
    monkeypatch.setenv("RT_SCENARIO", "base")
    edited = _edit_environment(study, change)
    report = verify_notebook(study, lock=edited).report
    found = [f for f in report.findings if f.kind == "environment" and f.cause == cause]
    assert found, [(f.kind, f.cause, f.message) for f in report.findings]
    assert not found[0].upstream_of
    assert report.findings[0].kind == "environment"  # reports lead with the environment
    assert not [f for f in report.findings if f.kind != "environment"]  # the results themselves reproduced


def test_an_unseeded_research_split_is_unseeded_randomness_at_its_cell(study, monkeypatch):
    monkeypatch.setenv("RT_SCENARIO", "unseeded")
    assert record_notebook(study).exit_code == 0  # the research itself forgot the seed
    report = verify_notebook(study).report
    _assert_diagnosed(report, 4, "randomness", "unseeded-randomness")
    root = next(f for f in _roots(report) if f.cause == "unseeded-randomness")
    assert "RandomState()" in root.subject + root.message  # the call that made the unseeded generator
    assert any(f.kind == "split" and f.upstream_of == root.id for f in report.findings)


def _rewrite(study: Path, edit) -> None:
    import nbformat

    nb = nbformat.read(study, as_version=4)
    edit(nb)
    nbformat.write(nb, study)


def test_a_changed_source_says_what_it_did_downstream(study, monkeypatch):
    monkeypatch.setenv("RT_SCENARIO", "base")

    def edit(nb):
        before = nb.cells[4].source
        nb.cells[4].source = before.replace("np.random.RandomState() if scenario() == 'unseeded' else 0", "7")
        assert nb.cells[4].source != before
    _rewrite(study, edit)
    report = verify_notebook(study).report
    _assert_diagnosed(report, 4, "execution", "source-changed")
    assert any(f.upstream_of and f.cell_index == 5 for f in report.findings)


def test_a_cell_the_notebook_lost_and_cells_it_gained_are_run_and_reported(study, monkeypatch):
    import nbformat

    monkeypatch.setenv("RT_SCENARIO", "base")

    def edit(nb):
        del nb.cells[6]  # the report cell is gone
        nudge = nbformat.v4.new_code_cell("df = df.iloc[:-5]")  # inserted after the research run
        nudge.id = "nudge"
        nb.cells.insert(4, nudge)
        extra = nbformat.v4.new_code_cell("print('a new cell')")
        extra.id = "extra"
        nb.cells.insert(1, extra)  # and a new one sits above the others, shifting every position
    _rewrite(study, edit)
    for order in ("recorded", "notebook"):
        result = verify_notebook(study, order=order)
        report = result.report
        described = [(f.cell_index, f.cause, f.subject, f.upstream_of, f.message) for f in report.findings]
        assert result.exit_code == 1, described
        missing = [f for f in report.findings if f.cause == "cell-missing"]
        assert len(missing) == 1 and missing[0].cell_id == "report", described
        roots = [f for f in report.findings if not f.upstream_of]
        # the shifted cells were found by their ids: none of them differs on its own
        assert not [f for f in roots if f.cause in ("source-changed", "output-changed")], described
        # a replay never skips code research never ran: both cells run where they stand, and are reported
        added = {f.cell_id: f for f in report.findings if f.cause == "cell-added"}
        assert set(added) == {"extra", "nudge"}, described
        nudge = added["nudge"]
        assert nudge.cell_index == 5 and report.first_divergence["cell_id"] in ("extra", "nudge"), described
        consequences = [f for f in report.findings if f.upstream_of == nudge.id or f.upstream_of == added["extra"].id]
        assert {f.cell_id for f in consequences} >= {"split"}, described
        assert "Downstream it led to" in nudge.message + added["extra"].message, described


def test_a_cell_that_raises_only_in_the_replay_is_a_cell_error(study, monkeypatch):
    monkeypatch.setenv("RT_SCENARIO", "base")
    _data().drop(columns="label").to_csv(study.parent / "data.csv", index=False)  # the label column is gone
    report = verify_notebook(study).report
    errors = [f for f in report.findings if f.cause == "cell-error"]
    assert errors and "KeyError" in errors[0].message
    assert errors[0].upstream_of  # a consequence of the changed file, not a root
    roots = _roots(report)
    assert roots[0].cause == "input-file-changed" and roots[0].cell_index == 2
    assert errors[0].cell_index == 5 and errors[0].upstream_of == roots[0].id
    assert store.read_lock(study.with_name("study.reprotrack.lock")).cells  # the research lock is untouched
