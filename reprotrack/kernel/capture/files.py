"""Files a cell read (``cells[].inputs[]``): path, size and a streamed content hash of each.

Two ways in:

* The readers of pandas (``read_csv``, ``read_parquet``, ``read_excel``… see ``PANDAS_READERS``) and numpy
  (``load``, ``loadtxt``, ``genfromtxt``, ``fromfile``) are wrapped (reversibly, ``patching``), also when
  pandas or numpy is imported after ``start``; they name what was read (``"reader": "pandas.read_csv"``),
  including files read by C code (pyarrow) that no Python ``open`` would show; a library imported inside
  a cell is patched at its import (``imports``), so the same cell's reads are named too.
* Everything else opened for reading through Python (``open``, ``io.open``, ``Path.read_text``,
  ``gzip.open``…) is seen through an audit hook on the ``open`` event (``reader: "open"``). Audit hooks
  cannot be removed, so the hook is installed once per process and does nothing but one global test
  unless a tracked cell is running; it never raises (an exception in an audit hook would fail the
  user's ``open``). While a wrapped reader runs, the opens it makes are its own, not recorded twice.

The rule: a file a cell's call reads as data is that cell's input, wherever it lives. An explicit reader
call is always recorded, wherever the file is. A data file (``DATA_SUFFIXES``: CSV, TSV, ARFF, NumPy,
Parquet, Feather, Excel, HDF5, MATLAB, Stata/SPSS/SAS files, also compressed) that a library opens during
the cell's call counts too, also inside the interpreter's prefixes and site-packages: the CSV files
``sklearn.datasets.load_iris`` or a statistics library's dataset loader read from the installed package.
What is not recorded: opens by the tracker itself (hashing, the lock), opens from other threads, anything
opened while a module is being imported (a library reading its own tables at import), and what libraries
read for themselves: every other file under the interpreter's prefixes and site-packages (code, fonts,
configuration, descriptions), ``/proc``, ``/sys``, ``/dev``, ``/etc``, ``/usr``, dot-directories of the
home folder such as IPython's profile and caches (``~/.cache``, matplotlib's font list), ``.git``, Python
sources and extension modules.

The user's own code is an input too: a script a cell runs with ``%run`` (``"reader": "run"``), and a module a
tracked cell imports (or reloads: ``importlib.reload``, ``%autoreload``) whose ``.py`` file lies outside the
interpreter's prefixes and site-packages -- a ``helpers.py`` beside the notebook, a ``src/`` folder put on
``sys.path``, a project installed in editable mode -- recorded in that cell with ``"reader": "import"`` and
``"module"``: its name. The diff calls a change of its content
``execution/source-changed`` (the code differs), not a data change. Seen after the cell from ``sys.modules``
(nothing is hooked into the import itself); modules imported before ``start`` and the tracker's own are not.

Each input: ``path`` relative to the notebook folder (``session.base_dir``) when inside it, under
site-packages as ``<site-packages>/sklearn/datasets/data/iris.csv`` (the same on every machine), else as given;
URLs lose their credentials, query and fragment (never a secret in the lock) and get ``bytes``/``content``
null, as do buffers and file objects without a file behind them (``"path": "<BytesIO>"``). ``content`` is
``xxh3-128:<hex>`` of the file's bytes, read in 1 MiB chunks, cached by (path, size, mtime_ns); a folder
(partitioned parquet) hashes its files' relative names and hashes in sorted order. Hashing happens after
the cell: a file the cell both reads and rewrites is hashed as it is at the end (noted in the cell).

Files written are watched too (the ``open`` event's mode; ``DataFrame.to_parquet`` and the other writers whose
files Arrow or HDF5 open from C are wrapped): a cell that overwrites a file an earlier cell read as data, with
other content, makes the notebook unable to reproduce itself -- its next run reads what this run wrote. That
is said at once (a warning naming both cells) and kept in the cell's ``run.overwrote``
(``[{"path", "read_by"}]``), from which the diff explains the changed input of a replay. A file an earlier cell
of the same run wrote is an intermediate result, not an input from outside: its entry says ``written_by`` (that
cell's order), and the diff counts its change as a consequence of what changed before, not a root cause.
"""

from __future__ import annotations

import functools
import os
import re
import site
import sys
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import xxhash

from reprotrack.kernel.capture import Capture
from reprotrack.kernel.capture.imports import WATCHER
from reprotrack.kernel.capture.patching import Patcher
from reprotrack.kernel.context import cell_label

if TYPE_CHECKING:  # pragma: no cover
    from reprotrack.kernel.context import CellContext
    from reprotrack.kernel.session import Session

PANDAS_READERS = ("read_csv", "read_table", "read_fwf", "read_json", "read_excel", "read_parquet", "read_feather",
                  "read_pickle", "read_hdf", "read_orc", "read_stata", "read_sas", "read_spss", "read_xml",
                  "read_html")
NUMPY_READERS = ("load", "loadtxt", "genfromtxt", "fromfile")
#: DataFrame writers whose files Arrow or HDF5 open from C (other writers open through Python: the audit hook)
PANDAS_ARROW_WRITERS = ("to_parquet", "to_feather", "to_orc", "to_hdf")
_PATH_KWARGS = ("filepath_or_buffer", "path_or_buf", "path", "io", "file", "fname", "filepath", "path_or_buffer")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_CODE_SUFFIXES = (".py", ".pyc", ".pyo", ".pyd", ".pyi", ".so", ".pth", ".dylib", ".dll")
_SYSTEM_PREFIXES = ("/proc/", "/sys/", "/dev/", "/etc/", "/usr/", "/run/", "/var/lib/", "/var/cache/")
#: Files that are data wherever they are, also inside an installed package (a bundled dataset).
DATA_SUFFIXES = (".csv", ".tsv", ".arff", ".npy", ".npz", ".parquet", ".pq", ".feather", ".arrow", ".xls", ".xlsx",
                 ".h5", ".hdf5", ".hdf", ".mat", ".dta", ".sav", ".xpt", ".sas7bdat", ".orc", ".avro")
_COMPRESSED = (".gz", ".bz2", ".xz", ".zip", ".zst", ".lzma")
CHUNK = 1 << 20
MAX_UP = 3  # folders above the notebook's that the user's own modules are named relative to
MAX_CACHED = 10_000

_STATE: FileCapture | None = None  # the capture of the tracked cell running now, else None
_HOOKED = False


class _Local(threading.local):
    depth = 0  # inside a wrapped reader: its opens are its own
    quiet = False  # the tracker is reading (hashing): not the user's input


_LOCAL = _Local()


@dataclass
class _Read:
    reader: str
    target: Any  # absolute path (str), or a description already stripped of secrets
    local: bool
    as_given: str = ""


@dataclass
class _Cell:
    thread: int
    reads: list[_Read] = field(default_factory=list)
    writes: list[str] = field(default_factory=list)  # absolute paths opened for writing


class FileCapture(Capture):
    name = "files"

    def __init__(self) -> None:
        self.patcher = Patcher()
        self.cell: _Cell | None = None
        self.base_dirs: tuple[str, ...] = ()
        self.lock_path = ""
        self.ignored: tuple[str, ...] = ()
        self.home = ""
        self.cache: dict[tuple[str, int, int], str] = {}
        self.packages: tuple[str, ...] = ()  # site-packages and the interpreter's prefixes (<site-packages>/)
        self.module_names: set[str] = set()  # sys.modules' names when last looked at
        self.module_count = 0
        self.user_modules: dict[str, tuple[Any, Any]] = {}  # user module name → (module, its spec when recorded)
        self.session: Any = None
        #: absolute path → (the first cell that read it: its record, the content it read, the path as recorded)
        self.read_by: dict[str, tuple[Any, str, str]] = {}
        #: absolute path → the order of the last cell that wrote it
        self.written: dict[str, int] = {}

    # -- lifecycle -------------------------------------------------------------------------------
    def install(self, session: Session) -> None:
        self.session = session
        base = str(getattr(session, "base_dir", None) or os.getcwd())
        self.base_dirs = tuple(dict.fromkeys((os.path.abspath(base), os.path.realpath(base))))
        self.lock_path = os.path.abspath(str(getattr(session, "lock_path", "") or ""))
        # a folder that holds the notebook folder (the home folder, say) does not hide the notebook's files
        self.ignored = tuple(p for p in _ignored_prefixes(getattr(session, "shell", None))
                             if not any((b.rstrip(os.sep) + os.sep).startswith(p) for b in self.base_dirs))
        try:
            self.home = os.path.expanduser("~").rstrip(os.sep) + os.sep
        except Exception:  # noqa: BLE001 - no home folder
            self.home = ""
        if len(self.home) < 3:  # "/" as home would make every dot-folder of the disk a library's
            self.home = ""
        self.packages = _site_packages()
        self.module_names = set(sys.modules)  # imported before start: not a tracked cell's import
        self.module_count = len(sys.modules)
        self.patcher.when_imported("pandas", self._patch_pandas)
        self.patcher.when_imported("numpy", self._patch_numpy)
        shell = getattr(session, "shell", None)
        if shell is not None:  # %run script.py / notebook.ipynb: the script is code the cell ran
            for name in ("safe_execfile", "safe_execfile_ipy"):
                self.patcher.patch(type(shell), name, _run_wrapper)
        _install_hook()

    def uninstall(self) -> None:
        global _STATE
        if _STATE is self:
            _STATE = None
        self.cell = None
        self.patcher.restore_all()

    def _patch_pandas(self, module: Any) -> None:
        for name in PANDAS_READERS:
            self.patcher.patch(module, name, reader_wrapper(f"pandas.{name}"), rebind=True)
        frame = getattr(module, "DataFrame", None)
        for name in PANDAS_ARROW_WRITERS if isinstance(frame, type) else ():
            self.patcher.patch(frame, name, _writer_wrapper)

    def _patch_numpy(self, module: Any) -> None:
        for name in NUMPY_READERS:
            self.patcher.patch(module, name, reader_wrapper(f"numpy.{name}"), rebind=True)

    # -- the cell --------------------------------------------------------------------------------
    def before_cell(self, ctx: CellContext) -> None:
        global _STATE
        self.patcher.poll()
        self.patcher.rebind(ctx.user_ns)
        self.cell = _Cell(thread=threading.get_ident())
        _STATE = self

    def after_cell(self, ctx: CellContext) -> None:
        global _STATE
        if _STATE is self:
            _STATE = None
        cell, self.cell = self.cell, None
        modules = self._modules() if cell is not None else []
        if cell is not None and cell.writes:
            self.overwritten(ctx, cell.writes)
            both = sorted({r.target for r in cell.reads if r.local} & set(cell.writes))
            if both:
                ctx.record.notes.append("read and rewrote " + ", ".join(self.display(p, p) for p in both[:5])
                                        + ": recorded as the cell left it")
        try:
            self._inputs(ctx, cell, modules)
        finally:
            for full in cell.writes if cell is not None else ():
                self.written[full] = ctx.record.order  # what later cells read there, this run made

    def _inputs(self, ctx: CellContext, cell: _Cell | None, modules: list[tuple[str, str]]) -> None:
        if cell is None or not (cell.reads or modules):
            return
        inputs: dict[Any, dict[str, Any]] = {}
        for read in cell.reads:
            key = read.target
            entry = inputs.get(key)
            if entry is not None:
                if entry["reader"] == "open" and read.reader != "open":
                    entry["reader"] = read.reader  # the library call says more than its open
                continue
            if read.local:
                if read.reader == "open" and os.path.isdir(read.target):
                    continue  # os.open of a folder (an fsync, a lock, a listing): no data was read from it
                entry = {"path": self.display(read.target, read.as_given), "reader": read.reader}
                entry["bytes"], entry["content"] = self.hash_path(read.target)
            else:
                entry = {"path": read.target, "bytes": None, "content": None, "reader": read.reader}
            inputs[key] = entry
        for key, entry in inputs.items():
            if not isinstance(key, str) or entry.get("content") is None:
                continue
            if key in self.written:  # an intermediate file: an earlier cell of this run wrote it
                entry["written_by"] = self.written[key]
            elif key not in self.read_by:
                self.read_by[key] = (ctx.record, entry["content"], entry["path"])
        for name, path in modules:
            size, content = self.hash_path(path)
            if content is not None:
                inputs[("import", path)] = {"path": self.display(path, self.nearby(path)), "reader": "import",
                                            "module": name, "bytes": size, "content": content}
        ctx.record.inputs.extend(inputs.values())

    def overwritten(self, ctx: CellContext, writes: list[str]) -> None:
        """Files this cell wrote that an earlier cell (or this one) read as data, now with other content: the
        notebook overwrote its own input, so its next run reads other data there. Said now, and kept in the
        record (``run.overwrote``, which the diff reads to explain an input that changed)."""
        for full in dict.fromkeys(writes):
            first = self.read_by.get(full)
            if first is None:
                continue
            reader, content, path = first
            _, now = self.hash_path(full)
            if now == content:
                continue
            record = ctx.record
            record.run.setdefault("overwrote", []).append({"path": path, "read_by": reader.order})
            where = cell_label(record)
            read = "it" if reader is record else cell_label(reader)
            warn = getattr(self.session, "warn", None)
            if warn is not None:
                warn(f"{where} overwrote {path}, which {read} read as data: the next run of the notebook reads "
                     "other data there; write results to another file", cell=record)

    def _modules(self) -> list[tuple[str, str]]:
        try:
            return self.imported_modules()
        except Exception:  # noqa: BLE001 - a strange object in sys.modules must not cost the cell its file inputs
            return []

    def imported_modules(self) -> list[tuple[str, str]]:
        """The user's own modules (name, absolute ``.py`` path) imported or reloaded since the last cell:
        new names in ``sys.modules`` (looked at only when their number moved), and recorded modules whose
        spec was replaced (a reload makes a new one)."""
        found = []
        for name, (module, spec) in list(self.user_modules.items()):
            if sys.modules.get(name) is not module or _spec(module) is not spec:
                del self.user_modules[name]
                if name in sys.modules:
                    self.module_names.discard(name)  # reloaded or replaced: looked at again below
                    self.module_count = -1
        if len(sys.modules) == self.module_count:
            return found
        current = list(sys.modules.items())
        self.module_count = len(current)
        for name, module in current:
            if name in self.module_names:
                continue
            self.module_names.add(name)
            path = self.user_module_file(name, module)
            if path is not None:
                self.user_modules[name] = (module, _spec(module))
                found.append((name, path))
        return sorted(found)

    def user_module_file(self, name: str, module: Any) -> str | None:
        """The absolute source path of ``module`` when it is the user's own code, else None."""
        if name == "reprotrack" or name.startswith("reprotrack.") or name == "__main__":
            return None
        try:
            path = getattr(module, "__file__", None)
        except Exception:  # noqa: BLE001 - a module object with a hostile __getattr__
            return None
        if not isinstance(path, str) or not path.endswith(".py"):
            return None  # built-in, namespace package, extension module, bytecode only
        full = os.path.abspath(path)
        if full.startswith(self.ignored + self.packages + _SYSTEM_PREFIXES):
            return None
        parts = full.split(os.sep)
        if "site-packages" in parts or "dist-packages" in parts or not os.path.isfile(full):
            return None
        return full

    # -- noting reads (called inside the user's cell: cheap, never raises) ----------------------------
    def note(self, reader: str, target: Any) -> None:
        cell = self.cell
        if cell is None or cell.thread != threading.get_ident():
            return
        if isinstance(target, (list, tuple)):
            for item in target[:100]:
                self.note(reader, item)
            return
        read = describe(reader, target)
        if read is not None and read.target != self.lock_path:
            cell.reads.append(read)

    def opened(self, args: tuple[Any, ...]) -> None:
        """The ``open`` audit event: ``(path, mode, flags)``."""
        if _LOCAL.depth or _LOCAL.quiet:
            return
        cell = self.cell
        if cell is None or cell.thread != threading.get_ident():
            return
        path, mode, flags = (tuple(args) + (None, None, None))[:3]
        if not isinstance(path, (str, bytes)) and not hasattr(path, "__fspath__"):
            return  # a file descriptor
        if isinstance(mode, str):
            reading, writing = "r" in mode, any(c in mode for c in "wax+")
        elif isinstance(flags, int):
            access = flags & os.O_ACCMODE
            reading, writing = access == os.O_RDONLY, access != os.O_RDONLY
        else:
            return
        raw = os.fsdecode(os.fspath(path))
        full = os.path.abspath(raw)
        if full == self.lock_path or self._internal(full) or WATCHER.importing():
            return
        if writing:
            cell.writes.append(full)
        if reading:
            cell.reads.append(_Read("open", full, True, raw))

    def wrote(self, target: Any) -> None:
        """A writer wrapped here (Arrow writes files from C: no ``open`` event) was given ``target``."""
        cell = self.cell
        if cell is None or cell.thread != threading.get_ident():
            return
        if isinstance(target, (str, bytes)) or hasattr(target, "__fspath__"):
            full = os.path.abspath(os.path.expanduser(os.fsdecode(os.fspath(target))))
            if full != self.lock_path:
                cell.writes.append(full)

    def _internal(self, full: str) -> bool:
        if full.endswith(_CODE_SUFFIXES):
            return True
        if full.startswith(self.ignored):
            # installed packages and the interpreter: only their data files (a bundled dataset) are inputs;
            # caches, configuration and system folders never
            return not (full.startswith(self.packages) and is_data_file(full))
        if self.home and full.startswith(self.home) and full[len(self.home):].startswith("."):
            # a dot-folder of the home created after start (matplotlib's ~/.cache/matplotlib font list)
            top = self.home + full[len(self.home):].split(os.sep, 1)[0] + os.sep
            if not any((b.rstrip(os.sep) + os.sep).startswith(top) for b in self.base_dirs):
                return True
        parts = full.split(os.sep)
        return "__pycache__" in parts or ".git" in parts

    # -- after the cell --------------------------------------------------------------------------
    def display(self, full: str, as_given: str) -> str:
        for base in self.base_dirs:
            for candidate in (full, os.path.realpath(full)):
                if candidate == base or candidate.startswith(base.rstrip(os.sep) + os.sep):
                    return os.path.relpath(candidate, base).replace(os.sep, "/")
        for folder in self.packages:  # the same on every machine: <site-packages>/sklearn/datasets/data/iris.csv
            if full.startswith(folder):
                label = "<site-packages>/" if folder.endswith(("site-packages" + os.sep, "dist-packages" + os.sep)) \
                    else "<prefix>/"
                return label + full[len(folder):].replace(os.sep, "/")
        return as_given or full

    def nearby(self, full: str) -> str:
        """A file outside the notebook folder as a path relative to it when it is close by (``../src/utils.py``,
        at most ``MAX_UP`` folders up: the same in every checkout of the project), else as it is."""
        if not self.base_dirs:
            return full
        try:
            relative = os.path.relpath(full, self.base_dirs[0])
        except ValueError:  # another drive (Windows)
            return full
        ups = relative.replace(os.sep, "/").split("/").count("..")
        return relative.replace(os.sep, "/") if ups <= MAX_UP else full

    def hash_path(self, full: str) -> tuple[int | None, str | None]:
        _LOCAL.quiet = True
        try:
            if os.path.isdir(full):
                return self._hash_dir(full)
            st = os.stat(full)
            key = (full, st.st_size, st.st_mtime_ns)
            digest = self.cache.get(key)
            if digest is None:
                if len(self.cache) >= MAX_CACHED:
                    self.cache.clear()
                digest = self.cache[key] = file_hash(full)
            return st.st_size, digest
        except OSError:
            return None, None  # gone, unreadable, a socket...
        finally:
            _LOCAL.quiet = False

    def _hash_dir(self, folder: str) -> tuple[int, str]:
        h = xxhash.xxh3_128()
        total = 0
        for root, dirs, files in os.walk(folder):
            dirs.sort()
            for name in sorted(files):
                path = os.path.join(root, name)
                size, digest = self.hash_path(path)
                _LOCAL.quiet = True
                rel = os.path.relpath(path, folder).replace(os.sep, "/")
                h.update(f"{rel}\0{size}\0{digest}\n".encode("utf-8", "surrogateescape"))
                total += size or 0
        return total, "xxh3-128:" + h.hexdigest()


def is_data_file(path: str) -> bool:
    """Whether the name says data (``DATA_SUFFIXES``, also compressed: ``digits.csv.gz``)."""
    name = path.lower()
    for suffix in _COMPRESSED:
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    return name.endswith(DATA_SUFFIXES)


def _site_packages() -> tuple[str, ...]:
    """The folders packages are installed in, and the interpreter's prefixes, longest first."""
    folders: set[str] = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    try:
        folders.update(site.getsitepackages())
        folders.add(site.getusersitepackages())
    except Exception:  # noqa: BLE001 - some embedded interpreters lack these
        pass
    folders.update(p for p in sys.path if p.rstrip(os.sep).endswith(("site-packages", "dist-packages")))
    out = {os.path.abspath(f).rstrip(os.sep) + os.sep for f in folders if f}
    out.update(os.path.realpath(f).rstrip(os.sep) + os.sep for f in folders if f)
    return tuple(sorted(out, key=len, reverse=True))


def file_hash(path: str) -> str:
    """``xxh3-128:<hex>`` of a file's bytes, read in chunks into one reused buffer (bounded memory)."""
    h = xxhash.xxh3_128()
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as fh:
        while True:
            n = fh.readinto(buf)
            if not n:
                break
            h.update(view[:n])
    return "xxh3-128:" + h.hexdigest()


def describe(reader: str, target: Any) -> _Read | None:
    """What a reader was given: a local path (absolute now: the cell may change directory later), a URL
    without its secrets, or a description of a buffer."""
    if isinstance(target, int) or target is None:
        return None
    if isinstance(target, bytes) or hasattr(target, "__fspath__"):
        try:
            target = os.fsdecode(os.fspath(target))
        except TypeError:
            return _Read(reader, f"<{type(target).__name__}>", False)
    if isinstance(target, str):
        if _URL.match(target):
            parts = urlsplit(target)
            if parts.scheme == "file":
                return _Read(reader, os.path.abspath(parts.path), True, parts.path)
            return _Read(reader, clean_url(target), False)
        if "\n" in target or len(target) > 4096 or target.lstrip()[:1] in ("{", "[", "<"):
            return _Read(reader, "<literal text>", False)  # read_json/read_html of literal content
        return _Read(reader, os.path.abspath(os.path.expanduser(target)), True, target)
    name = getattr(target, "name", None)
    if isinstance(name, str) and name and os.path.isfile(name):
        return _Read(reader, os.path.abspath(name), True, name)
    return _Read(reader, f"<{type(target).__name__}>", False)


def clean_url(url: str) -> str:
    """The URL without user, password, query or fragment: what was read, never how one was let in."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.port is not None:
            host = f"{host}:{parts.port}"
        return urlunsplit((parts.scheme, host, parts.path, "", ""))
    except ValueError:
        return url.split("://", 1)[0] + "://<unparsable>"


def reader_wrapper(api: str) -> Any:
    def make(original: Any) -> Any:
        @functools.wraps(original)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            state = _STATE
            if state is None or _LOCAL.depth:
                return original(*args, **kwargs)
            try:
                target = args[0] if args else next((kwargs[k] for k in _PATH_KWARGS if k in kwargs), None)
                state.note(api, target)
            except Exception:  # noqa: BLE001 - bookkeeping never fails the user's read
                pass
            _LOCAL.depth += 1
            try:
                return original(*args, **kwargs)
            finally:
                _LOCAL.depth -= 1

        return wrapper

    return make


def _writer_wrapper(original: Any) -> Any:
    """``DataFrame.to_parquet``/``to_feather``/``to_orc``/``to_hdf``: the file written is noted (a written file
    that a cell read as data is an overwritten input)."""
    @functools.wraps(original)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        state = _STATE
        if state is not None and not _LOCAL.depth:
            try:
                state.wrote(args[0] if args else next((kwargs[k] for k in _PATH_KWARGS if k in kwargs), None))
            except Exception:  # noqa: BLE001 - bookkeeping never fails the user's write
                pass
        return original(self, *args, **kwargs)

    return wrapper


def _spec(module: Any) -> Any:
    """``module.__spec__`` (replaced by every reload), None for an object whose attributes raise."""
    try:
        return getattr(module, "__spec__", None)
    except Exception:  # noqa: BLE001 - a lazy module proxy with a hostile __getattr__
        return None


def _run_wrapper(original: Any) -> Any:
    """``InteractiveShell.safe_execfile`` (``%run script.py``) and ``safe_execfile_ipy`` (``%run x.ipynb``):
    the file run is recorded as the cell's input with ``"reader": "run"``, code like an imported module."""
    @functools.wraps(original)
    def wrapper(self: Any, fname: Any, *args: Any, **kwargs: Any) -> Any:
        state = _STATE
        if state is not None and not _LOCAL.depth:
            try:
                state.note("run", fname)
            except Exception:  # noqa: BLE001 - bookkeeping never fails the user's %run
                pass
        return original(self, fname, *args, **kwargs)

    return wrapper


def _audit(event: str, args: tuple[Any, ...]) -> None:
    state = _STATE
    if state is None or event != "open":
        return
    try:
        state.opened(args)
    except Exception:  # noqa: BLE001 - an exception here would fail the user's open
        pass


def _install_hook() -> None:
    global _HOOKED
    if not _HOOKED:
        sys.addaudithook(_audit)
        _HOOKED = True


def _ignored_prefixes(shell: Any) -> tuple[str, ...]:
    """Folders whose files libraries read for themselves."""
    folders = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    try:
        folders.update(site.getsitepackages())
        folders.add(site.getusersitepackages())
    except Exception:  # noqa: BLE001 - some embedded interpreters lack these
        pass
    home = os.path.expanduser("~")
    try:
        folders.update(os.path.join(home, n) for n in os.listdir(home) if n.startswith("."))
    except OSError:
        pass
    for attr in ("ipython_dir",):
        value = getattr(shell, attr, None)
        if isinstance(value, str):
            folders.add(value)
    out = {os.path.abspath(f).rstrip(os.sep) + os.sep for f in folders if f}
    out.update(os.path.realpath(f).rstrip(os.sep) + os.sep for f in folders if f)
    return tuple(sorted(out)) + _SYSTEM_PREFIXES
