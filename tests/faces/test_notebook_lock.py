"""The lock belongs to its notebook: a renamed notebook's lock is named in the error, a lock recorded from
another notebook is refused (exit 2) unless its cells are this notebook's."""

from __future__ import annotations

import pytest
from conftest import write_notebook

from reprotrack import cli, store
from reprotrack.core.lockfile import CellRecord, Lock, sha256_text
from reprotrack.errors import ReprotrackError
from reprotrack.notebook_lock import research_lock
from reprotrack.verify import verify_notebook

CELLS = ["import numpy as np", "x = np.arange(10)", "total = x.sum()"]
IDS = ["imports", "data", "total"]


def _lock_of(name: str, cells=CELLS, ids=IDS) -> Lock:
    return Lock(notebook=name, cells=[CellRecord(id=i, order=n, source_sha256=sha256_text(s), index=n - 1)
                                      for n, (i, s) in enumerate(zip(ids, cells), 1)])


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0], err
    return err[0]


def test_no_lock_names_the_lock_recorded_from_the_same_cells(tmp_path, capsys):
    nb = write_notebook(tmp_path / "retention.ipynb", CELLS, ids=IDS)  # renamed from Untitled.ipynb
    store.write_lock(tmp_path / "Untitled.reprotrack.lock", _lock_of("Untitled.ipynb"))
    store.write_lock(tmp_path / "other.reprotrack.lock", _lock_of("other.ipynb", ["y = 2"], ["y"]))
    with pytest.raises(ReprotrackError) as caught:
        verify_notebook(nb)
    message = str(caught.value)
    assert "retention.reprotrack.lock" in message and "--lock Untitled.reprotrack.lock" in message
    assert "other" not in message
    assert cli.main(["verify", str(nb)]) == 2
    assert "Untitled.reprotrack.lock" in _one_error_line(capsys)


def test_no_lock_at_all_says_how_to_make_one(tmp_path, capsys):
    nb = write_notebook(tmp_path / "a.ipynb", CELLS, ids=IDS)
    store.write_lock(tmp_path / "b.reprotrack.lock", _lock_of("b.ipynb", ["y = 2"], ["y"]))
    assert cli.main(["verify", str(nb)]) == 2
    line = _one_error_line(capsys)
    assert "no lock file for a.ipynb" in line and "reprotrack record" in line and "b.reprotrack" not in line


def test_a_shared_lock_of_another_notebook_is_refused_unless_its_cells_match(tmp_path, capsys):
    a = write_notebook(tmp_path / "a.ipynb", ["import pandas as pd", "df = pd.DataFrame({'x': [1]})"], ids=["p", "q"])
    store.write_lock(tmp_path / "reprotrack.lock", _lock_of("b.ipynb"))
    assert cli.main(["verify", str(a)]) == 2
    line = _one_error_line(capsys)
    assert "recorded from b.ipynb, not a.ipynb" in line
    assert cli.main(["verify", str(a), "--lock", str(tmp_path / "reprotrack.lock")]) == 2  # chosen, still not its
    capsys.readouterr()
    # a copy of b under another name (same cells, one of them edited since) may use it
    copy = write_notebook(tmp_path / "copy.ipynb", [CELLS[0], "x = np.arange(12)", CELLS[2]], ids=IDS)
    research, path = research_lock(copy, None, [(i, sha256_text(s)) for i, s in zip(IDS, CELLS)])
    assert path.name == "reprotrack.lock" and research.notebook == "b.ipynb"
    assert copy.exists()
