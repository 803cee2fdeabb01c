"""The replay engine: which cells run in which order (pure), and real kernels driven with cell ids and
positions, a kernel that dies, a cell that times out."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import make_notebook, write_notebook

from reprotrack import store
from reprotrack.core import lockfile
from reprotrack.core.fingerprint import fingerprint
from reprotrack.core.lockfile import FINGERPRINT_FORMAT, CellRecord, Lock
from reprotrack.replay import driver as replay
from reprotrack.replay.driver import Step
from reprotrack.verify import record_notebook


def _cells(sources, ids=None):
    return replay.code_cells(make_notebook(sources, ids=ids))


def _lock(*records):
    """A research lock from (id, source, index) triples in execution order."""
    cells = [
        CellRecord(id=cid, order=n, source_sha256=lockfile.sha256_text(src), index=index)
        for n, (cid, src, index) in enumerate(records, 1)
    ]
    return Lock(cells=cells)


SOURCES = ["%load_ext reprotrack\n%reprotrack start", "import os", "x = 1", "y = x + 1", "%reprotrack save"]
IDS = ["start", "imports", "x", "y", "save"]


def test_a_record_runs_every_code_cell_top_down_and_skips_empty_ones():
    cells = _cells(["a = 1", "   ", "b = 2"])
    assert replay.plan(cells) == [Step(0), Step(2)]


def test_recorded_order_follows_the_lock_and_puts_control_cells_where_they_stand():
    research = _lock(("imports", "import os", 1), ("y", "y = x + 1", 3), ("x", "x = 1", 2), ("y", "y = x + 1", 3))
    steps = replay.plan(_cells(SOURCES, IDS), research)
    assert [s.index for s in steps] == [0, 1, 3, 2, 3, 4]
    assert all(s.tracked for s in steps)


def test_notebook_order_runs_each_recorded_cell_once_top_down():
    research = _lock(("imports", "import os", 1), ("y", "y = x + 1", 3), ("x", "x = 1", 2), ("y", "y = x + 1", 3))
    steps = replay.plan(_cells(SOURCES, IDS), research, "notebook")
    assert [s.index for s in steps] == [0, 1, 2, 3, 4]


def test_cells_match_by_source_when_ids_differ_and_by_position_when_the_source_changed():
    research = _lock(("src-aaa", "x = 1", 2), ("old-id", "y = x + 100", 3))
    steps = replay.plan(_cells(SOURCES, ["n0", "n1", "n2", "n3", "n4"]), research)
    # x by its source, the edited y by its recorded position; imports, below %reprotrack start and never
    # recorded, was not run by research while tracking: it runs tracked (the diff says cell-added)
    assert [(s.index, s.tracked) for s in steps] == [(0, True), (1, True), (2, True), (3, True), (4, True)]
    # above the start cell it is the preamble research ran before tracking: untracked
    moved = ["import os", "%load_ext reprotrack\n%reprotrack start", "x = 1", "y = x + 100", "%reprotrack save"]
    steps = replay.plan(_cells(moved, ["n0", "n1", "n2", "n3", "n4"]), research)
    assert [(s.index, s.tracked) for s in steps] == [(0, False), (1, True), (2, True), (3, True), (4, True)]


def test_records_without_a_cell_are_skipped_and_cells_research_never_ran_run_where_they_stand():
    research = _lock(("x", "x = 1", 2), ("gone", "z = 3", 9))
    steps = replay.plan(_cells(SOURCES, IDS), research)
    # y (3) was never run in research: it runs tracked in its notebook position, the diff says cell-added
    assert [s.index for s in steps] == [0, 1, 2, 3, 4]
    assert [s.tracked for s in steps] == [True, True, True, True, True]
    inserted = _lock(("imports", "import os", 1), ("y", "y = x + 1", 3), ("x", "x = 1", 2))
    assert [s.index for s in replay.plan(_cells(SOURCES + ["w = 0"], IDS + ["new"]), inserted)] == [0, 1, 3, 2, 4, 5]
    assert replay.plan(_cells(SOURCES, IDS), _lock(("gone", "z = 3", 9))) == []


def test_an_unknown_order_is_bad_input():
    from reprotrack.errors import ReprotrackError

    with pytest.raises(ReprotrackError):
        replay.plan(_cells(SOURCES, IDS), _lock(("x", "x = 1", 2)), "random")


def test_old_notebooks_without_ids_send_no_cell_ids(tmp_path):
    nb = make_notebook(["a = 1"])
    raw = json.loads(json.dumps(nb))
    raw["nbformat_minor"] = 4
    for cell in raw["cells"]:
        cell.pop("id", None)
    path = tmp_path / "old.ipynb"
    path.write_text(json.dumps(raw))
    _, has_ids = replay.read_notebook(path)
    assert has_ids is False
    assert replay.code_cells(replay.read_notebook(path)[0], with_ids=False)[0].id is None


# -- real kernels ------------------------------------------------------------------------------------------
@pytest.mark.kernel
def test_record_writes_one_record_per_cell_with_ids_positions_and_order(tmp_path):
    nb = write_notebook(
        tmp_path / "study.ipynb",
        ["import numpy as np\nnp.random.seed(3)", "# a note only", "draw = float(np.random.rand())", "1 / 0", "after = 1"],
        ids=["seed", "note", "draw", "boom", "after"],
    )
    seen = []
    result = record_notebook(nb, progress=lambda position, total, run: seen.append((position, total, run.status)))
    assert result.exit_code == 0
    lock = store.read_lock(tmp_path / "study.reprotrack.lock")  # validated against the schema on read
    assert [(c.id, c.index, c.order) for c in lock.cells] == [
        ("seed", 0, 1), ("note", 1, 2), ("draw", 2, 3), ("boom", 3, 4), ("after", 4, 5)
    ]
    assert [c.status for c in lock.cells] == ["ok", "ok", "ok", "error", "ok"]
    assert lock.cells[3].error["type"] == "ZeroDivisionError"
    assert lock.notebook == "study.ipynb" and lock.mode == "record"
    assert lock.run["lock_path"] == str(tmp_path / "study.reprotrack.lock")
    # the kernel's text with its lock path changed in place (``lockfile.relocated``) is the canonical text
    assert (tmp_path / "study.reprotrack.lock").read_text("utf-8") == lockfile.dumps(lock)
    assert seen == [(1, 5, "ok"), (2, 5, "ok"), (3, 5, "ok"), (4, 5, "error"), (5, 5, "ok")]


@pytest.mark.kernel
def test_a_kernel_that_dies_leaves_a_partial_lock_and_no_new_research_lock(tmp_path):
    first = "import numpy as np\nimport pandas as pd\nnp.random.seed(1)\ndf = pd.DataFrame({'a': np.arange(300_000.0)})"
    nb = write_notebook(tmp_path / "dies.ipynb", [first, "import os\nos._exit(1)", "z = 1"])
    result = record_notebook(nb)
    assert result.exit_code == 3
    assert "died while running cell 2" in result.replay.execution_error
    assert [r.status for r in result.replay.runs] == ["ok", "died"]
    partial = result.replay.lock
    assert [c.index for c in partial.cells] == [0]
    assert partial.cells[0].seeds and partial.environment["packages"]["numpy"]
    assert partial.fingerprint_format == FINGERPRINT_FORMAT  # written now: compared exactly, not across formats
    # the frame's fingerprint, made after its cell on the background thread, reached the side file too
    expected = fingerprint(pd.DataFrame({"a": np.arange(300_000.0)}))
    assert {k: partial.cells[0].data["df"][k] for k in ("content", "rows", "approx")} == \
        {k: expected[k] for k in ("content", "rows", "approx")}
    assert not (tmp_path / "dies.reprotrack.lock").exists()


@pytest.mark.kernel
def test_a_cell_over_its_time_limit_is_interrupted_and_what_ran_is_saved(tmp_path):
    nb = write_notebook(tmp_path / "slow.ipynb", ["a = 1", "import time\ntime.sleep(60)", "b = 2"])
    result = record_notebook(nb, timeout=1.5)
    assert result.exit_code == 3
    assert "timed out" in result.replay.execution_error
    cells = result.replay.lock.cells
    assert [(c.index, c.status) for c in cells] == [(0, "ok"), (1, "error")]
    assert cells[1].error["type"] == "KeyboardInterrupt"
