"""Reading and writing lock files: the only module that touches a lock on disk.

Writes are atomic: the text goes to a temporary file in the same folder, is flushed and fsynced, then renamed
over the target (``os.replace`` is atomic on POSIX and Windows), and the folder is fsynced. A process killed
mid-write leaves the previous lock intact; two writers racing on one path each rename a complete file, so
the last complete writer wins and no reader ever sees a torn file.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from reprotrack.core import lockfile
from reprotrack.errors import LockfileError

#: Locks larger than this are refused unread: a real lock is kilobytes to a few megabytes.
MAX_LOCK_BYTES = 256 * 1024 * 1024


def read_lock(path: str | os.PathLike[str]) -> lockfile.Lock:
    p = Path(path)
    name = _display(p)
    try:
        info = p.stat()
    except FileNotFoundError:
        raise LockfileError(f"no lock file at {name}; record one with `reprotrack record NOTEBOOK` or %reprotrack save.") from None
    except OSError as exc:
        raise LockfileError(f"cannot read {name}: {exc.strerror or exc}.") from None
    size = info.st_size
    if stat.S_ISDIR(info.st_mode):
        raise LockfileError(f"{name} is a folder, not a lock file.")
    if not stat.S_ISREG(info.st_mode):  # a FIFO would block forever, /dev/zero would never end
        raise LockfileError(f"{name} is not a regular file, so not a lock file.")
    if size > MAX_LOCK_BYTES:
        raise LockfileError(f"{name} is {size} bytes, larger than any reprotrack lock ({MAX_LOCK_BYTES} max).")
    try:
        with open(p, "rb") as fh:
            data = fh.read(MAX_LOCK_BYTES + 1)  # bounded even if the file grows after the stat
    except OSError as exc:
        raise LockfileError(f"cannot read {name}: {exc.strerror or exc}.") from None
    if len(data) > MAX_LOCK_BYTES:
        raise LockfileError(f"{name} is larger than any reprotrack lock ({MAX_LOCK_BYTES} bytes max).")
    return lockfile.loads(data, source=name)


def write_lock(path: str | os.PathLike[str], lock: lockfile.Lock) -> Path:
    """Write ``lock`` atomically; return the path written. Raises ``OSError`` on a full disk or read-only folder."""
    return write_text_atomic(path, lockfile.dumps(lock))


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            mode = target.stat().st_mode & 0o777
        except FileNotFoundError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(folder)
    return target


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _display(p: Path) -> str:
    text = str(p)
    return text if len(text) <= 200 else "…" + text[-199:]


#: The lock name when no notebook is known (scripts, unknown frontends).
DEFAULT_LOCK_NAME = "reprotrack.lock"


def default_lock_path(notebook: str | os.PathLike[str] | None) -> Path:
    """``analysis.ipynb`` → ``analysis.reprotrack.lock`` beside it (one lock per notebook, so several
    notebooks can share a folder); ``reprotrack.lock`` in the working folder when no notebook is known."""
    if notebook is None:
        return Path.cwd().resolve() / DEFAULT_LOCK_NAME
    nb = Path(notebook).resolve()
    return nb.with_name(nb.stem + ".reprotrack.lock")


def find_lock_for(notebook: str | os.PathLike[str]) -> Path:
    """The lock ``verify`` uses for a notebook when none is given: ``<stem>.reprotrack.lock``, else a
    ``reprotrack.lock`` in the notebook's folder."""
    own = default_lock_path(notebook)
    if own.exists():
        return own
    shared = own.with_name(DEFAULT_LOCK_NAME)
    return shared if shared.exists() else own
