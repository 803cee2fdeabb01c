"""Hardening: the tracker never loses a lock.

* A kernel (a real IPython shell in its own process) killed with SIGKILL in the middle of ``%reprotrack save``
  leaves the previous lock intact and valid (``KILL_POINTS`` kills at spread-out moments).
* Two kernels saving the same path at once, while a third process reads it, never produce a torn file: every
  read is a complete, valid lock, and the last complete writer wins.
* A full disk (``RLIMIT_FSIZE``: the kernel refuses to grow a file, which binds root too), a folder that is
  a regular file, a lock path that is a folder, a folder that does not exist, a target on a read-only
  filesystem: one clear warning, the previous lock untouched, no temporary file left, and the record stays
  in memory so that the next ``save`` writes everything.
  (``chmod`` does not stop root, so none of these rely on permissions.)
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest import run

from reprotrack import store
from reprotrack.kernel import session

ROOT = Path(__file__).resolve().parents[2]

#: A kernel-like process: a real InteractiveShell with the extension, N tracked cells, then saves in a loop.
SHELL = textwrap.dedent(
    """
    import sys
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    ip = InteractiveShell.instance(config=config)
    ip.run_line_magic("load_ext", "reprotrack")
    lock, cells, saves, tag = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    ip.run_cell("%reprotrack start --lock " + lock, store_history=True)
    ip.run_cell("import numpy as np\\nimport pandas as pd", store_history=True)
    for i in range(cells):
        ip.run_cell(f"v{i} = pd.DataFrame({{'a': np.arange({i} + 50.0), 'tag': '{tag}'}})", store_history=True)
    from reprotrack.kernel import session
    s = session.active()
    s.checkpoint("tag", tag)
    print("ready", flush=True)
    n = 0
    while saves < 0 or n < saves:
        if s.save() is None:
            sys.exit(5)
        n += 1
    print("done", n, flush=True)
    """
)


def _shell(lock: Path, cells: int, saves: int, tag: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", SHELL, str(lock), str(cells), str(saves), tag],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=lock.parent)


def _tag(lock) -> str:
    """Which writer wrote a lock (its checkpoint, fingerprinted: compare with the writers' own)."""
    from reprotrack.core.fingerprint import fingerprint

    content = lock.checkpoints["tag"]["content"]
    return next(t for t in ("first", "second", "third") if fingerprint(t)["content"] == content)


def _no_temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


#: Moments (seconds after the kernel says it is saving) at which it is killed.
KILL_POINTS = [0.0, 0.005, 0.02, 0.05, 0.12, 0.25]


def test_sigkill_in_the_middle_of_save_leaves_the_previous_lock_valid(tmp_path):
    lock = tmp_path / "nb.reprotrack.lock"
    first = _shell(lock, 3, 1, "first")
    assert first.wait(timeout=120) == 0, first.stderr.read().decode()
    before = store.read_lock(lock)
    assert _tag(before) == "first"
    survived = 0
    for delay in KILL_POINTS:
        proc = _shell(lock, 120, -1, "second")  # a bigger lock, saved again and again until killed
        lines = []
        while not lines or lines[-1] not in (b"ready", b""):
            lines.append(proc.stdout.readline().strip())
        assert lines[-1] == b"ready", lines
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stdout.close()
        proc.stderr.close()
        after = store.read_lock(lock)  # complete and valid against the schema, whatever the moment
        assert _tag(after) in ("first", "second")
        assert len(after.cells) == (len(before.cells) if _tag(after) == "first" else 121)
        survived += 1
    assert survived == len(KILL_POINTS)
    # a killed writer may leave its own temporary file (never the lock); the next save is unaffected by it
    assert lock.exists()


def test_two_kernels_saving_one_path_never_corrupt_it(tmp_path):
    """Two real shells save the same lock 12 times each while this process reads it as fast as it can."""
    lock = tmp_path / "shared.lock"
    writers = [_shell(lock, 2, 12, "first"), _shell(lock, 80, 12, "second")]
    reads = 0
    seen = set()
    while any(w.poll() is None for w in writers):
        if lock.exists():
            try:
                seen.add(_tag(store.read_lock(lock)))  # never a LockfileError: no torn file is ever visible
            except FileNotFoundError:  # pragma: no cover - os.replace never unlinks the target
                raise
            reads += 1
    for w in writers:
        out, err = w.communicate(timeout=60)
        assert w.returncode == 0, err.decode()
        assert out.decode().split()[-1] == "12"
    final = store.read_lock(lock)
    assert _tag(final) in ("first", "second") and len(final.cells) in (3, 81)
    assert seen <= {"first", "second"} and reads > 0
    assert _no_temporaries(tmp_path) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shared.lock"]


# -- saves that cannot happen -----------------------------------------------------------------------------
def _tracked_cells(ip, n: int = 3) -> None:
    run(ip, "%reprotrack start")
    for i in range(n):
        assert run(ip, f"x{i} = [{i}] * 3").success


def _save_fails_cleanly(ip, capsys, target: Path, previous: Path | None = None) -> str:
    """``%reprotrack save --lock target`` warns in one line, keeps the record and any previous lock."""
    old = previous.read_bytes() if previous is not None and previous.exists() else None
    cells = len(session.active().cells)
    capsys.readouterr()
    result = run(ip, f"%reprotrack save --lock {target}")
    out = capsys.readouterr()
    assert result.success  # the magic never raises into the cell
    text = out.out + out.err
    assert "Traceback" not in text
    warning = [ln for ln in text.splitlines() if "could not save the lock" in ln]
    assert len(warning) == 1, text
    assert "Nothing is lost" in warning[0] and "save again" in warning[0]
    s = session.active()
    assert len(s.cells) == cells and s.unsaved_cells > 0  # kept in memory for the retry
    if old is not None:
        assert previous.read_bytes() == old
    return warning[0]


def _retry_saves_everything(ip, path: Path) -> None:
    s = session.active()
    cells = len(s.cells)
    assert run(ip, f"%reprotrack save --lock {path}").success
    assert s.saved_path == path.resolve() and s.unsaved_cells == 0
    assert len(store.read_lock(path).cells) == cells


def test_a_full_disk_warns_keeps_the_previous_lock_and_the_record(ip, tmp_path, capsys):
    """``RLIMIT_FSIZE`` makes every write beyond a few bytes fail with EFBIG, for root as well: the same code
    path as ENOSPC (the write raises after the temporary file was created)."""
    _tracked_cells(ip)
    lock = tmp_path / "nb.lock"
    _retry_saves_everything(ip, lock)  # a good lock exists
    assert run(ip, "more = list(range(100))").success
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of being killed
    try:
        resource.setrlimit(resource.RLIMIT_FSIZE, (256, hard))
        warning = _save_fails_cleanly(ip, capsys, lock, previous=lock)
        assert "File too large" in warning or "No space" in warning
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous_handler)
    assert _no_temporaries(tmp_path) == []
    _retry_saves_everything(ip, lock)
    assert "more" in store.read_lock(lock).cells[-1].data


@pytest.mark.parametrize("kind", ["parent-is-a-file", "target-is-a-folder", "missing-folder", "read-only-fs"])
def test_an_unwritable_target_warns_and_keeps_the_record(ip, tmp_path, capsys, kind):
    _tracked_cells(ip)
    if kind == "parent-is-a-file":
        (tmp_path / "plain").write_text("not a folder")
        target = tmp_path / "plain" / "nb.lock"
    elif kind == "target-is-a-folder":
        target = tmp_path / "nb.lock"
        target.mkdir()
        (target / "keep").write_text("x")
    elif kind == "missing-folder":
        target = tmp_path / "no" / "such" / "folder" / "nb.lock"
    else:
        target = Path("/proc/reprotrack-test.lock")  # procfs refuses new files, also to root
    _save_fails_cleanly(ip, capsys, target)
    if kind == "target-is-a-folder":
        assert sorted(p.name for p in target.iterdir()) == ["keep"]
    assert _no_temporaries(tmp_path) == []
    _retry_saves_everything(ip, tmp_path / "retry.lock")


def test_failed_saves_in_a_row_stay_one_warning_each_and_bounded(ip, tmp_path, capsys):
    """Ten failing saves in a row: each says so (deduplicated when identical), the cells keep running."""
    _tracked_cells(ip, 1)
    (tmp_path / "plain").write_text("")
    capsys.readouterr()
    for i in range(10):
        run(ip, f"%reprotrack save --lock {tmp_path / 'plain' / f'nb{i % 2}.lock'}")
        assert run(ip, f"y{i} = {i}").success
    err = capsys.readouterr().err
    assert 1 <= err.count("could not save the lock") <= session.MAX_PRINTED_WARNINGS
    assert len(session.active().notes) <= session.MAX_NOTES
    _retry_saves_everything(ip, tmp_path / "ok.lock")
    assert len(store.read_lock(tmp_path / "ok.lock").cells) == 11


def test_the_script_api_save_failure_returns_none_and_keeps_checkpoints(tmp_path, capsys):
    import reprotrack

    s = reprotrack.start(lock=tmp_path / "plain" / "x.lock") if "lock" in reprotrack.start.__code__.co_varnames \
        else session.Session(lock_path=tmp_path / "plain" / "x.lock").start()
    (tmp_path / "plain").write_text("")
    s.checkpoint("features", [1.0, 2.0])
    assert s.save() is None
    assert "could not save the lock" in capsys.readouterr().err
    assert s.save(tmp_path / "x.lock") == (tmp_path / "x.lock").resolve()
    assert set(store.read_lock(tmp_path / "x.lock").checkpoints) == {"features"}
    s.stop()


def test_a_lock_written_by_save_is_byte_identical_to_its_canonical_text(ip, tmp_path):
    """What the retry wrote is the one serialisation (no partial or appended text)."""
    from reprotrack.core import lockfile

    _tracked_cells(ip)
    path = tmp_path / "nb.lock"
    _retry_saves_everything(ip, path)
    text = path.read_text("utf-8")
    assert text == lockfile.dumps(lockfile.loads(text))
    assert json.loads(text)["lockfile_version"] == lockfile.LOCKFILE_VERSION
    assert os.stat(path).st_size == len(text.encode("utf-8"))
