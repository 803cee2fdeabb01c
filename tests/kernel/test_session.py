"""The %reprotrack magics and the session, in real IPython shells."""

from __future__ import annotations

import json

from conftest import run

from reprotrack import store
from reprotrack.core import lockfile
from reprotrack.kernel import session


def lock_of(path):
    return store.read_lock(path)


def test_start_records_one_record_per_cell_in_order(ip, tmp_path):
    run(ip, "%reprotrack start")
    run(ip, "a = 1")
    run(ip, "b = a + 1")
    run(ip, "a = 5")
    run(ip, "%reprotrack save")
    lock = lock_of(tmp_path / "reprotrack.lock")
    assert [c.order for c in lock.cells] == [1, 2, 3]
    assert [c.source_sha256 for c in lock.cells] == [lockfile.sha256_text(s) for s in ("a = 1", "b = a + 1", "a = 5")]
    assert all(c.status == "ok" for c in lock.cells)
    assert [c.execution_count for c in lock.cells] == [2, 3, 4]
    assert lock.mode == "record"
    assert lock.environment["python"]
    assert lock.git is None


def test_control_cells_are_not_recorded(ip, tmp_path):
    run(ip, "%reprotrack start")
    run(ip, "%reprotrack status")
    run(ip, "# just a comment\n%reprotrack status")
    run(ip, "x = 1")
    s = session.active()
    assert len(s.cells) == 1


def test_errors_and_syntax_errors_are_recorded_not_raised(ip, tmp_path):
    run(ip, "%reprotrack start")
    result = run(ip, "raise ValueError('bad value')")
    assert isinstance(result.error_in_exec, ValueError)
    run(ip, "def f(:\n  pass")
    run(ip, "%reprotrack save")
    cells = lock_of(tmp_path / "reprotrack.lock").cells
    assert [c.status for c in cells] == ["error", "syntax-error"]
    assert cells[0].error == {"type": "ValueError", "message": "bad value"}
    assert cells[1].error["type"] == "SyntaxError"


def test_cell_ids_from_the_frontend_are_used(ip):
    run(ip, "%reprotrack start")
    ip.run_cell("x = 1", store_history=True, cell_id="abc-123")
    ip.run_cell("y = 1", store_history=True)
    ids = [c.id for c in session.active().cells]
    assert ids[0] == "abc-123"
    assert ids[1] == "src-" + lockfile.sha256_text("y = 1")[:16]


def test_stop_unregisters_and_status_reports(ip, capsys):
    run(ip, "%reprotrack start")
    run(ip, "x = 1")
    s = session.active()
    run(ip, "%reprotrack stop")
    run(ip, "y = 2")
    assert len(s.cells) == 1
    assert session.active() is None
    assert s._pre_run_cell not in ip.events.callbacks["pre_run_cell"]
    capsys.readouterr()
    run(ip, "%reprotrack status")
    assert "not tracking" in capsys.readouterr().out


def test_lock_option_and_save_path(ip, tmp_path):
    target = tmp_path / "sub" / "my.lock"
    target.parent.mkdir()
    run(ip, f"%reprotrack start --lock {target}")
    run(ip, "x = 1")
    run(ip, "%reprotrack save")
    assert lock_of(target).cells[0].order == 1
    other = tmp_path / "other.lock"
    run(ip, f"%reprotrack save --lock {other}")
    assert other.exists()


def test_save_failure_warns_and_keeps_the_record(ip, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    run(ip, f"%reprotrack start --lock {blocker / 'x.lock'}")
    run(ip, "x = 1")
    result = run(ip, "%reprotrack save")
    assert result.success
    err = capsys.readouterr().err
    assert "could not save the lock" in err and "Nothing is lost" in err
    s = session.active()
    assert len(s.cells) == 1 and s.saved_path is None
    run(ip, f"%reprotrack save --lock {tmp_path / 'ok.lock'}")
    assert len(lock_of(tmp_path / "ok.lock").cells) == 1


def test_a_failing_capture_never_breaks_the_cell(ip, capsys):
    from reprotrack.kernel.capture import Capture

    class Broken(Capture):
        name = "broken"

        def after_cell(self, ctx):
            raise RuntimeError("boom inside the tracker")

    run(ip, "%reprotrack start")
    s = session.active()
    broken = Broken()
    s.captures.append(broken)
    s._after.append(broken)
    result = run(ip, "z = 41 + 1")
    assert result.success and ip.user_ns["z"] == 42
    err = capsys.readouterr().err
    assert err.count("boom inside the tracker") == 1 and "Traceback" not in err
    run(ip, "z = 43")
    assert capsys.readouterr().err == ""  # the same warning is not repeated
    assert any("boom" in n for n in s.cells[0].notes)


def test_checkpoint_magic_and_api(ip, tmp_path):
    import reprotrack

    run(ip, "%reprotrack start")
    run(ip, "import numpy as np\nfeatures = np.arange(6).reshape(2, 3)")
    run(ip, "%reprotrack checkpoint features")
    run(ip, "%reprotrack checkpoint feats2 features")
    reprotrack.checkpoint("direct", [1, 2, 3])
    run(ip, "%reprotrack save")
    lock = lock_of(tmp_path / "reprotrack.lock")
    assert set(lock.checkpoints) == {"features", "feats2", "direct"}
    assert lock.checkpoints["features"]["content"] == lock.checkpoints["feats2"]["content"]


def test_help_and_bad_arguments(ip, capsys):
    run(ip, "%reprotrack bogus")
    assert "reprotrack:" in capsys.readouterr().err
    doc = ip.find_line_magic("reprotrack").__doc__
    assert "start" in doc and "--lock" in doc


def test_unload_removes_everything(ip):
    run(ip, "%reprotrack start")
    s = session.active()
    ip.run_line_magic("unload_ext", "reprotrack")
    assert session.active() is None
    assert s._post_run_cell not in ip.events.callbacks["post_run_cell"]
    assert "reprotrack" not in ip.magics_manager.magics["line"]


def test_index_comes_from_the_saved_notebook(ip, tmp_path, monkeypatch):
    from conftest import write_notebook

    nb = write_notebook(tmp_path / "nb.ipynb", ["x = 1", "y = 2"], ids=["first", "second"])
    ip.user_ns["__session__"] = str(nb)
    run(ip, "%reprotrack start")
    ip.run_cell("y = 2", store_history=True, cell_id="second")
    ip.run_cell("x = 1", store_history=True)
    run(ip, "%reprotrack save")
    lock = lock_of(tmp_path / "nb.reprotrack.lock")
    assert lock.notebook == "nb.ipynb"
    assert [(c.id, c.index) for c in lock.cells][0] == ("second", 1)
    assert lock.cells[1].index == 0


def test_run_specific_facts_live_under_run(ip, tmp_path):
    run(ip, "%reprotrack start")
    run(ip, "x = 1")
    run(ip, "%reprotrack save")
    raw = json.loads((tmp_path / "reprotrack.lock").read_text())
    assert {"started", "saved", "host", "lock_path"} <= set(raw["run"])
    assert "duration_s" in raw["cells"][0]["run"]
    for cell in raw["cells"]:
        cell.pop("run")
    text = json.dumps({k: v for k, v in raw.items() if k != "run"})
    assert str(tmp_path) not in text  # no absolute path outside the ignored sections
