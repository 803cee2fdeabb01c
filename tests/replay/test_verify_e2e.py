"""verify end to end with real kernels: record a research run, change one thing, replay, read the diagnosis.

One research run (recorded once per module) is copied into each test's folder; each test changes what its
scenario needs (a data file, a cell's source, the kernel) and replays it."""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import pytest
from conftest import write_notebook

from reprotrack import store
from reprotrack.replay import driver as replay
from reprotrack.verify import record_notebook, verify_notebook

pytestmark = pytest.mark.kernel

CELLS = [
    "%load_ext reprotrack\n%reprotrack start",
    "import numpy as np\nimport pandas as pd\nnp.random.seed(0)",
    "df = pd.read_csv('data.csv')\nlen(df)",
    "df['z'] = df['a'] * 2 + np.random.normal(size=len(df))",
    "score = float(df['z'].mean())\nprint(f'score: {score:.6f}')",
    "%reprotrack save",
]
IDS = ["start", "imports", "load", "feature", "metric", "save"]


def _missing(*modules: str) -> list[str]:
    import importlib.util

    return [m for m in modules if importlib.util.find_spec(m) is None]


#: The diff, its report and options are built by a sibling task; these tests run as soon as they exist.
needs_diff = pytest.mark.skipif(
    bool(_missing("reprotrack.core.diff", "reprotrack.report", "reprotrack.config")),
    reason="not built yet: " + ", ".join(_missing("reprotrack.core.diff", "reprotrack.report", "reprotrack.config")),
)


def _write_data(folder: Path, values=range(20)) -> None:
    (folder / "data.csv").write_text("a,b\n" + "".join(f"{v},{v % 3}\n" for v in values))


@pytest.fixture(scope="module")
def research(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("research")
    _write_data(folder)
    nb = write_notebook(folder / "study.ipynb", CELLS, ids=IDS)
    result = record_notebook(nb)
    assert result.exit_code == 0, result.replay.execution_error
    return folder


@pytest.fixture
def study(research, tmp_path) -> Path:
    """A private copy of the research folder (notebook, data, lock)."""
    target = tmp_path / "study"
    shutil.copytree(research, target)
    return target / "study.ipynb"


@pytest.fixture(autouse=True)
def _no_orphan_kernels():
    """Every replay shuts its kernel down, whatever happened in it."""
    yield
    deadline = time.monotonic() + 10
    while _kernel_children() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _kernel_children() == []


def _kernel_children() -> list[int]:
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil comes with ipykernel
        return []
    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            if "ipykernel" in " ".join(child.cmdline()) and child.status() != psutil.STATUS_ZOMBIE:
                found.append(child.pid)
        except psutil.NoSuchProcess:
            continue
    return found


def _edit(nb: Path, cell_id: str, source: str) -> None:
    import nbformat

    notebook = nbformat.read(str(nb), as_version=4)
    for cell in notebook.cells:
        if cell.get("id") == cell_id:
            cell.source = source
    nbformat.write(notebook, str(nb))


def _causes(report) -> list[tuple[str, int | None]]:
    return [(f.cause, f.cell_index) for f in report.findings]


def test_the_research_lock_has_every_tracked_cell_in_order(research):
    lock = store.read_lock(research / "study.reprotrack.lock")
    assert [(c.id, c.index) for c in lock.cells] == [("imports", 1), ("load", 2), ("feature", 3), ("metric", 4)]


@needs_diff
def test_an_unchanged_notebook_reproduces_and_its_own_save_leaves_the_research_lock_alone(study, tmp_path):
    lock = study.with_name("study.reprotrack.lock")
    before = lock.read_bytes()
    result = verify_notebook(study, save_replay=tmp_path / "replay.lock")
    assert result.report.findings == []
    assert (result.report.status, result.exit_code) == ("reproduced", 0)
    assert lock.read_bytes() == before
    replayed = store.read_lock(tmp_path / "replay.lock")
    assert replayed.mode == "replay"
    assert [c.id for c in replayed.cells] == ["imports", "load", "feature", "metric"]


@needs_diff
@pytest.mark.skipif(bool(_missing("reprotrack.kernel.capture.files")), reason="the input-file capture is not built yet")
def test_a_changed_data_file_is_diagnosed_at_the_cell_that_read_it(study):
    _write_data(study.parent, values=list(range(19)) + [100])
    result = verify_notebook(study)
    assert result.exit_code == 1
    roots = [f for f in result.report.findings if not f.upstream_of]
    assert ("input-file-changed", 2) in [(f.cause, f.cell_index) for f in roots]
    assert result.report.first_divergence is not None


@needs_diff
def test_a_cell_that_raises_is_a_cell_error_and_the_report_still_covers_later_cells(study, tmp_path):
    _edit(study, "feature", "raise ValueError('feature store unavailable')")
    result = verify_notebook(study, save_replay=tmp_path / "replay.lock")
    assert result.exit_code == 1
    errors = [f for f in result.report.findings if f.cause == "cell-error"]
    assert errors[0].cell_index == 3 and "ValueError" in errors[0].message
    assert all(f.upstream_of for f in errors[1:])  # the KeyError in the next cell is a consequence
    # the cell after it still ran (and failed on the missing column: a consequence, not a root cause)
    replayed = store.read_lock(tmp_path / "replay.lock")
    assert [c.id for c in replayed.cells] == ["imports", "load", "feature", "metric"]


@needs_diff
def test_out_of_order_research_is_flagged_and_notebook_order_exposes_it(tmp_path):
    folder = tmp_path / "hidden"
    folder.mkdir()
    nb = write_notebook(folder / "hidden.ipynb", ["x = 10", "x = 1", "print(f'result: {x * 2}')"], ids=["a", "b", "c"])
    # the researcher ran cell b, then a, then c: the printed result depends on that hidden order
    steps = [replay.Step(1), replay.Step(0), replay.Step(2)]
    research = replay.run(replay.ReplayJob(nb, tuple(steps), mode="record", lock_out=folder / "hidden.reprotrack.lock",
                                           partial=tmp_path / "partial.jsonl"))
    assert research.ok
    recorded = verify_notebook(nb)
    assert "execution-order" in [f.cause for f in recorded.report.findings]
    assert not [f for f in recorded.report.findings if f.kind == "output"]
    top_down = verify_notebook(nb, order="notebook")
    assert top_down.exit_code == 1
    assert "execution-order" in [f.cause for f in top_down.report.findings]
    assert [f for f in top_down.report.findings if f.kind == "output" and f.cell_index == 2]


@needs_diff
def test_a_replay_in_another_kernelspec_runs_there(study, tmp_path, monkeypatch):
    import json

    spec = tmp_path / "jupyter" / "kernels" / "staging"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "staging", "language": "python",
        "env": {"REPROTRACK_TEST_KERNELSPEC": "staging"},
    }))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    marks = tmp_path / "marks"
    marks.mkdir()
    monkeypatch.setenv("REPROTRACK_TEST_MARKS", str(marks))
    _edit(study, "save", "import os as _os\nopen(_os.path.join(_os.environ['REPROTRACK_TEST_MARKS'], "
                         "_os.environ.get('REPROTRACK_TEST_KERNELSPEC', 'default')), 'w').close()\n%reprotrack save")
    record_notebook(study)  # the research run with the default kernel
    result = verify_notebook(study, kernel="staging")
    assert result.replay.kernel == "staging"
    assert sorted(p.name for p in marks.iterdir()) == ["default", "staging"]
    assert result.exit_code == 0, [f.message for f in result.report.findings]


@needs_diff
def test_pin_seeds_replays_an_unseeded_research_run_exactly(tmp_path):
    nb = write_notebook(tmp_path / "unseeded.ipynb",
                        ["import numpy as np", "rng = np.random.default_rng()\nprint(f'draw: {rng.random():.12f}')"],
                        ids=["imports", "draw"])
    assert record_notebook(nb).exit_code == 0
    loose = verify_notebook(nb)
    assert loose.exit_code == 1
    assert {f.cell_index for f in loose.report.findings if not f.upstream_of} == {1}
    pinned = verify_notebook(nb, pin_seeds=True, save_replay=tmp_path / "replay.lock")
    assert (pinned.exit_code, pinned.report.findings) == (0, [])
    assert store.read_lock(tmp_path / "replay.lock").cells[1].outputs == store.read_lock(
        tmp_path / "unseeded.reprotrack.lock").cells[1].outputs
