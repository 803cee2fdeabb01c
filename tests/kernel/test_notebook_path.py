"""The notebook a kernel runs now: renamed after ``%reprotrack start``, the lock follows its new name."""

from __future__ import annotations

import json

from conftest import run, write_notebook

from reprotrack.kernel import notebook_path

CELLS = ["a = 1", "b = a + 1"]


def test_a_notebook_renamed_while_tracking_saves_the_lock_under_its_new_name(ip, tmp_path):
    old = write_notebook(tmp_path / "Untitled.ipynb", CELLS, ids=["c1", "c2"])
    ip.user_ns["__session__"] = str(old)  # what ipykernel sets from JPY_SESSION_NAME at kernel start
    run(ip, "%reprotrack start")
    ip.run_cell(CELLS[0], store_history=True, cell_id="c1")
    ip.run_cell(CELLS[1], store_history=True, cell_id="c2")
    old.rename(tmp_path / "retention.ipynb")  # JupyterLab's rename: the kernel is not told
    run(ip, "%reprotrack save")
    assert not (tmp_path / "Untitled.reprotrack.lock").exists()
    lock = json.loads((tmp_path / "retention.reprotrack.lock").read_text())
    assert lock["notebook"] == "retention.ipynb" and [c["index"] for c in lock["cells"]] == [0, 1]


def test_vs_code_names_the_notebook_and_a_chosen_lock_path_is_kept(ip, tmp_path):
    first = write_notebook(tmp_path / "first.ipynb", CELLS)
    second = write_notebook(tmp_path / "second.ipynb", CELLS)
    ip.user_ns["__vsc_ipynb_file__"] = str(first)
    run(ip, "%reprotrack start")
    run(ip, "a = 1")
    ip.user_ns["__vsc_ipynb_file__"] = str(second)  # renamed in VS Code
    run(ip, "%reprotrack save")
    assert (tmp_path / "second.reprotrack.lock").exists() and not (tmp_path / "first.reprotrack.lock").exists()
    run(ip, "%reprotrack start --lock chosen.lock")
    run(ip, "%reprotrack save")
    assert (tmp_path / "chosen.lock").exists()


def test_a_sibling_is_taken_only_when_it_holds_most_recorded_cells(tmp_path):
    write_notebook(tmp_path / "x.ipynb", CELLS, ids=["c1", "zz"])
    write_notebook(tmp_path / "y.ipynb", CELLS, ids=["c1", "c2"])
    assert notebook_path.sibling_with_cells(tmp_path, ["c1", "c2"]).name == "y.ipynb"
    assert notebook_path.sibling_with_cells(tmp_path, ["q1", "q2"]) is None
    assert notebook_path.sibling_with_cells(tmp_path, ["src-abc"]) is None  # derived ids say nothing


def test_outside_a_jupyter_server_nothing_is_asked():
    assert notebook_path.server_session_path("no-such-kernel") is None
