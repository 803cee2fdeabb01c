"""Reading and writing lock files: the only module that touches a lock on disk.

Writes are atomic: the text goes to a temporary file in the same folder, is flushed and fsynced, then renamed
over the target (``os.replace`` is atomic on POSIX and Windows), and the folder is fsynced. A process killed
mid-write leaves the previous lock intact; two writers racing on one path each rename a complete file, so
the last complete writer wins and no reader ever sees a torn file.
"""

from __future__ import annotations

import os
import re
import stat
import sys
import tempfile
from pathlib import Path

from reprotrack.core import lockfile
from reprotrack.errors import LockfileError, UsageError

#: Locks larger than this are refused unread: a real lock is kilobytes to a few megabytes.
MAX_LOCK_BYTES = 256 * 1024 * 1024


def skip_slow_format_checkers() -> None:
    """``jsonschema`` (imported by nbformat to read a notebook, and by the lock's validation) imports
    ``rfc3987_syntax`` whenever it is installed -- JupyterLab's dependencies install it -- and that module compiles
    some 35 Earley grammars at import: 2-3 s of every command, for the ``iri`` formats that neither the notebook
    nor the lock schema uses. In the command's own process it is marked absent, so jsonschema leaves that format
    checker out (the import is guarded by jsonschema itself). Called by the command and by its ``--jobs`` workers;
    kernels and the user's processes are untouched."""
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


def read_lock(path: str | os.PathLike[str]) -> lockfile.Lock:
    """The lock at ``path``; every way it can be wrong is one ``LockfileError`` sentence."""
    return lockfile.loads(read_lock_bytes(path), source=_display(Path(path)))


def read_written_lock(path: str | os.PathLike[str]) -> tuple[lockfile.Lock, str]:
    """The lock a replay kernel's agent has just written, and its text (``relocated`` copies it): reprotrack's
    own writer, so not held against the JSON Schema again (see ``lockfile.loads``)."""
    data = read_lock_bytes(path)
    lock = lockfile.loads(data, source=_display(Path(path)), schema_check=False)
    return lock, data.decode("utf-8")


def read_lock_bytes(path: str | os.PathLike[str]) -> bytes:
    """The bytes of the lock file at ``path``, bounded; a missing, special or oversized file is a ``LockfileError``."""
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
    return data


def write_lock(path: str | os.PathLike[str], lock: lockfile.Lock) -> Path:
    """Write ``lock`` atomically; return the path written. Raises ``OSError`` on a full disk or read-only folder."""
    return write_text_atomic(path, lockfile.dumps(lock))


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` to ``path`` so that no reader ever sees a torn file. A symlink is written through to its
    target (atomically there: the link stays a link); a character device or a FIFO (``/dev/stdout``, a pipe)
    is opened and written, never replaced by a regular file."""
    given = Path(path)
    fd = _descriptor(given)
    if fd is not None:  # /dev/stdout, /proc/self/fd/1: this process's own descriptor, shared offset and all
        _write_fd(fd, text.encode("utf-8"))
        return given
    if _special(given):  # a pipe, a terminal, a device: opened, never replaced
        with open(given, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        return given
    _replace_atomic(Path(os.path.realpath(given)) if given.is_symlink() else given, text)
    return given


_DESCRIPTOR = re.compile(r"^/(?:dev/(stdout|stderr|fd/\d+)|proc/(self|\d+)/fd/(\d+))$")


def _descriptor(path: Path) -> int | None:
    """The descriptor number when ``path`` is, or links to, one of this process's open descriptors
    (``/dev/stdout``, ``/dev/fd/3``, ``/proc/self/fd/1``); None otherwise."""
    current = str(path)
    for _ in range(10):
        match = _DESCRIPTOR.match(current)
        if match:
            dev, pid, number = match.groups()
            if dev is not None:
                return {"stdout": 1, "stderr": 2}.get(dev) or int(dev.split("/")[1])
            if pid == "self" or int(pid) == os.getpid():
                return int(number)
        try:
            target = os.readlink(current)
        except OSError:
            return None
        current = os.path.join(os.path.dirname(current), target)
    return None


def _write_fd(fd: int, data: bytes) -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (AttributeError, ValueError, OSError):
            pass
    while data:
        data = data[os.write(fd, data):]


def _special(path: Path) -> bool:
    """An existing path (after links) that is neither a regular file nor a folder: a device, a FIFO, a socket."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def _replace_atomic(target: Path, text: str | bytes) -> None:
    folder = target.parent if str(target.parent) else Path(".")
    data = text.encode("utf-8") if isinstance(text, str) else text
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
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


#: ``-o -``: the output goes to standard output.
STDOUT = "-"


def check_output(path: str | os.PathLike[str] | None, *, inputs: tuple = (), what: str = "output") -> None:
    """Refuse, before any work starts, an output path that would destroy something: an input of the same
    command (the same file after resolving links), a folder, or a path in a folder that does not exist.
    ``None`` and ``-`` (standard output) are always fine; so are devices and FIFOs (written, not replaced)."""
    if path is None or str(path) == STDOUT:
        return
    given = Path(path).expanduser()
    if _special(given) or _descriptor(given) is not None:
        return  # written to, never replaced
    target = Path(os.path.realpath(given))
    if target.is_dir():
        raise UsageError(f"{what} {_display(given)} is a folder; give a file path")
    if not target.parent.is_dir():
        raise UsageError(f"cannot write {what} {_display(given)}: folder {_display(target.parent)} does not exist")
    for source in inputs:
        if source is not None and same_file(given, source):
            raise UsageError(f"{what} {_display(given)} is also an input of this command ({_display(Path(source))}); "
                             "writing it would destroy the input: choose another path")


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """Whether two paths name one file (hard links and symlinks included), existing or not."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(Path(a).expanduser()) == os.path.realpath(Path(b).expanduser())


#: Previous locks kept by ``reprotrack record``: ``NAME.1`` (the latest) … ``NAME.3``.
LOCK_BACKUPS = 3


def back_up_lock(path: str | os.PathLike[str]) -> Path | None:
    """Before a lock is replaced: keep the current one as ``NAME.1`` (older ones shift to ``.2``, ``.3``; the
    oldest is dropped). Returns the backup written, None when there was no lock to keep."""
    given = Path(path)
    try:
        current = Path(os.path.realpath(given)).read_bytes() if given.exists() else None
    except OSError:
        current = None
    if current is None:
        return None
    for n in range(LOCK_BACKUPS - 1, 0, -1):
        older = given.with_name(f"{given.name}.{n}")
        if older.is_file() and not older.is_symlink():
            os.replace(older, given.with_name(f"{given.name}.{n + 1}"))
    backup = given.with_name(f"{given.name}.1")
    _replace_atomic(Path(os.path.realpath(backup)) if backup.is_symlink() else backup, current)
    return backup


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
