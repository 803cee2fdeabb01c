"""Atomic writes and careful reads of lock files."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from reprotrack import store
from reprotrack.core import lockfile
from reprotrack.core.lockfile import CellRecord, Lock
from reprotrack.errors import LockfileError


def make_lock(n: int = 1) -> Lock:
    return Lock(
        environment={"python": "3.11"},
        cells=[CellRecord(id=f"c{i}", order=i + 1, source_sha256=lockfile.sha256_text(str(i))) for i in range(n)],
    )


def test_write_then_read(tmp_path):
    path = tmp_path / "a.lock"
    store.write_lock(path, make_lock(3))
    assert store.read_lock(path) == make_lock(3)
    assert [p.name for p in tmp_path.iterdir()] == ["a.lock"]  # no temporary file left behind


def test_missing_folder_and_directory_are_clear_errors(tmp_path):
    with pytest.raises(LockfileError, match="no lock file"):
        store.read_lock(tmp_path / "nope.lock")
    with pytest.raises(LockfileError, match="is a folder"):
        store.read_lock(tmp_path)


def test_read_only_folder_raises_oserror_and_keeps_old(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root ignores folder permissions")
    path = tmp_path / "a.lock"
    store.write_lock(path, make_lock(1))
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(OSError):
            store.write_lock(path, make_lock(2))
    finally:
        tmp_path.chmod(0o700)
    assert len(store.read_lock(path).cells) == 1


def test_sigkill_during_save_leaves_previous_lock_intact(tmp_path):
    """A writer killed at random moments in a tight save loop never leaves a torn or invalid file."""
    path = tmp_path / "a.lock"
    store.write_lock(path, make_lock(1))
    script = textwrap.dedent(
        f"""
        from reprotrack import store
        from reprotrack.core import lockfile
        from reprotrack.core.lockfile import Lock, CellRecord
        import sys
        big = Lock(cells=[CellRecord(id=str(i), order=i + 1, source_sha256=lockfile.sha256_text(str(i))) for i in range(3000)])
        print("ready", flush=True)
        while True:
            store.write_lock({str(path)!r}, big)
        """
    )
    for _ in range(5):
        proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
        assert proc.stdout.readline().strip() == b"ready"
        import time

        time.sleep(0.15)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        lock = store.read_lock(path)  # always complete and valid
        assert len(lock.cells) in (1, 3000)


def test_concurrent_writers_never_corrupt(tmp_path):
    path = tmp_path / "a.lock"
    script = textwrap.dedent(
        f"""
        import sys
        from reprotrack import store
        from reprotrack.core import lockfile
        from reprotrack.core.lockfile import Lock, CellRecord
        n = int(sys.argv[1])
        lock = Lock(cells=[CellRecord(id=str(i), order=i + 1, source_sha256=lockfile.sha256_text(str(i))) for i in range(n)])
        for _ in range(30):
            store.write_lock({str(path)!r}, lock)
        """
    )
    procs = [subprocess.Popen([sys.executable, "-c", script, str(n)]) for n in (10, 2000)]
    for p in procs:
        assert p.wait() == 0
    assert len(store.read_lock(path).cells) in (10, 2000)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.lock"]


def test_default_lock_paths(tmp_path):
    nb = tmp_path / "analysis.ipynb"
    assert store.default_lock_path(nb) == tmp_path / "analysis.reprotrack.lock"
    assert store.find_lock_for(nb) == tmp_path / "analysis.reprotrack.lock"
    (tmp_path / "reprotrack.lock").write_text("{}")
    assert store.find_lock_for(nb) == tmp_path / "reprotrack.lock"
