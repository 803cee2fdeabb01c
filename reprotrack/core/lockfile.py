"""The lockfile model and its one serialisation.

A lock is the record of one run of a notebook: the environment, the git state, and one ``CellRecord`` per
cell execution, in execution order. This module is the only place that knows the file format: it turns a
``Lock`` into deterministic JSON (sorted keys, 2-space indent, trailing newline, so that ``git diff`` of two
locks is readable) and parses JSON back into a ``Lock``, validating it against the JSON Schema shipped in
``reprotrack/schema/lockfile.schema.json``.

Pure: no IPython, no file system (``reprotrack.store`` reads and writes files), never pickle, never eval.

Keys named ``run`` (top level and per cell) hold what is time-, host- or path-specific (timestamps, host
name, absolute paths, durations). The diff ignores them by contract: see ``IGNORED_KEYS``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields
from functools import lru_cache
from importlib import resources
from typing import Any

from reprotrack._version import __version__
from reprotrack.core.text import one_line
from reprotrack.errors import LockfileError

#: ``major.minor``. A reader accepts any minor version of its major (unknown keys are kept, not used);
#: another major version is refused with a clear error.
LOCKFILE_VERSION = "1.0"
MAJOR = 1
#: The canonical format this reprotrack writes fingerprints in (``reprotrack.core.fingerprint.valuestream``:
#: 3 streams pandas string columns as lengths and UTF-8 bytes). A lock without the key is format 2.
FINGERPRINT_FORMAT = 3
OLDEST_FINGERPRINT_FORMAT = 2
#: ``cells[].inputs[].reader`` values of inputs that are code, not data: the user's own modules a cell imported,
#: scripts it ran with ``%run``. The diff calls their change ``execution/source-changed``.
CODE_READERS = ("import", "run")


def is_code(entry: Any) -> bool:
    """Whether an ``inputs[]`` entry is code the cell ran (``CODE_READERS``), not a data file it read."""
    return isinstance(entry, dict) and entry.get("reader") in CODE_READERS

#: Keys the diff never looks at: what differs between two honest runs of the same notebook.
IGNORED_KEYS = frozenset({"run"})

#: Cell statuses.
STATUSES = ("ok", "error", "syntax-error")


def sha256_text(text: str) -> str:
    """sha256 of a text's UTF-8 bytes: how a cell's source is identified without storing it."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass
class CellRecord:
    """One execution of one cell. A cell run twice gives two records with the same ``id``."""

    id: str
    order: int
    source_sha256: str
    index: int | None = None
    execution_count: int | None = None
    status: str = "ok"
    error: dict[str, str] | None = None
    seeds: list[dict[str, Any]] = field(default_factory=list)
    randomness: list[dict[str, Any]] = field(default_factory=list)
    inputs: list[dict[str, Any]] = field(default_factory=list)
    data: dict[str, dict[str, Any]] = field(default_factory=dict)
    splits: list[dict[str, Any]] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    run: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> CellRecord:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in known})


@dataclass
class Lock:
    """A whole run: environment, git, cells in execution order, named checkpoints."""

    environment: dict[str, Any] = field(default_factory=dict)
    git: dict[str, Any] | None = None
    cells: list[CellRecord] = field(default_factory=list)
    checkpoints: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: checkpoint name → ``order`` of the last cell run (a script's last stage) whose facts precede it: the
    #: seeds, inputs and splits ``reprotrack check`` attributes to the checkpoint. Absent in older locks.
    checkpoint_at: dict[str, int] = field(default_factory=dict)
    #: False for a run that did not finish (a script that failed, was killed or timed out): such a lock is
    #: never a contract and ``check`` reports it as a failed run.
    complete: bool = True
    #: performance requirements by name (``reprotrack.core.requirements``): value, min / max / within
    requirements: dict[str, dict[str, Any]] = field(default_factory=dict)
    notebook: str | None = None
    mode: str = "record"
    notes: list[str] = field(default_factory=list)
    run: dict[str, Any] = field(default_factory=dict)
    #: ``{"policy": "values"|"safe"|"hashed", "salt": hex}`` (``reprotrack.core.privacy``); None: an old lock,
    #: read as ``values``
    privacy: dict[str, str] | None = None
    lockfile_version: str = LOCKFILE_VERSION
    generator: dict[str, str] = field(default_factory=lambda: _generator())
    fingerprint_format: int = FINGERPRINT_FORMAT
    #: whether cells' ``inputs`` hold the user's own code (``CODE_READERS``); False: a lock written before
    #: reprotrack recorded it, whose cells say nothing about code either way
    code_inputs: bool = True

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        if out.get("privacy") is None:  # old readers' schemas need not know the key
            out.pop("privacy", None)
        return out

    @property
    def privacy_policy(self) -> str:
        """The policy the lock was written under (``values`` for a lock older than privacy policies)."""
        return (self.privacy or {}).get("policy") or "values"

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Lock:
        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in raw.items() if k in known and k != "cells"}
        kwargs.setdefault("fingerprint_format", OLDEST_FINGERPRINT_FORMAT)
        kwargs.setdefault("code_inputs", False)
        lock = cls(**kwargs)
        lock.cells = [CellRecord.from_dict(c) for c in raw.get("cells", [])]
        return lock


def _generator() -> dict[str, str]:
    return {"name": "reprotrack", "version": __version__}


def dumps(lock: Lock) -> str:
    """The canonical text of a lock: sorted keys, 2-space indent, UTF-8 safe, trailing newline."""
    return json.dumps(_view(lock), sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def relocated(text: str, lock: Lock, lock_path: str) -> str:
    """``lock`` with ``run.lock_path`` set to ``lock_path``, as text: ``text`` (what ``dumps`` made of ``lock`` in
    a kernel of this same version) with that one value changed in place, or the lock serialised again when the
    text is not that (another writer's version, the value not held exactly once). Serialising a notebook's lock
    again costs ~50 ms of pure-Python JSON encoding."""
    old = lock.run.get("lock_path")
    lock.run["lock_path"] = lock_path
    if isinstance(old, str) and (lock.generator or {}).get("version") == __version__:
        needle = '"lock_path": ' + json.dumps(old, ensure_ascii=False)
        if text.count(needle) == 1:
            return text.replace(needle, '"lock_path": ' + json.dumps(lock_path, ensure_ascii=False))
    return dumps(lock)


def _view(lock: Lock) -> dict[str, Any]:
    """``lock.to_dict()`` without its deep copy (``asdict`` copies every fingerprint: a third of the time of
    writing a lock), for serialising only: it shares the lock's values and must not be changed."""
    out = {f.name: getattr(lock, f.name) for f in fields(lock)}
    out["cells"] = [cell_view(cell) for cell in lock.cells]
    if out.get("privacy") is None:
        out.pop("privacy", None)
    return out


def cell_view(cell: CellRecord) -> dict[str, Any]:
    """A cell record as JSON-ready fields, sharing its values (``asdict`` would deep-copy every fingerprint):
    for serialising only, never to be changed."""
    return {f.name: getattr(cell, f.name) for f in fields(cell)}


def loads(text: str | bytes, *, source: str = "lockfile", schema_check: bool = True) -> Lock:
    """Parse and validate a lock. Every way a file can be wrong becomes one ``LockfileError`` sentence.
    ``schema_check=False`` is for a lock reprotrack's own writer made a moment ago (a replay kernel's): its
    version and shape are still checked, the JSON Schema is not (~0.1 s for a notebook's lock)."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise LockfileError(f"{source} is not UTF-8 text (byte {exc.start}); is it really a reprotrack lock?") from None
    if not text.strip():
        raise LockfileError(f"{source} is empty; record the notebook again with `reprotrack record`.")
    try:
        raw = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise LockfileError(f"{source} is nested too deeply to be a reprotrack lock.") from None
    except ValueError as exc:
        raise LockfileError(f"{source} is not valid JSON ({one_line(exc, 160)}); it may be truncated or corrupt.") from None
    return from_raw(raw, source=source, schema_check=schema_check)


def from_raw(raw: Any, *, source: str = "lockfile", schema_check: bool = True) -> Lock:
    if not isinstance(raw, dict):
        raise LockfileError(f"{source} is JSON but not a reprotrack lock (expected an object at the top).")
    version = raw.get("lockfile_version")
    if not isinstance(version, str):
        raise LockfileError(f"{source} has no lockfile_version; it is not a reprotrack lock.")
    major = version.split(".", 1)[0]
    if not (major.isascii() and major.isdigit()) or len(major) > 6:  # "٣" is a digit; 5000 digits overflow int()
        raise LockfileError(f"{source} has a malformed lockfile_version {version[:20]!r}.")
    if int(major) != MAJOR:
        newer = int(major) > MAJOR
        hint = "upgrade reprotrack to read it" if newer else "record the notebook again"
        raise LockfileError(f"{source} has lockfile_version {version[:20]}, this reprotrack reads {MAJOR}.x; {hint}.")
    if schema_check:
        _validate(raw, source)
        return Lock.from_dict(raw)
    try:
        return Lock.from_dict(raw)
    except (TypeError, AttributeError, ValueError) as exc:
        raise LockfileError(f"{source} is not shaped like a reprotrack lock ({one_line(exc, 160)}).") from None


def _validate(raw: dict[str, Any], source: str) -> None:
    import jsonschema

    validator = _validator()
    error = jsonschema.exceptions.best_match(validator.iter_errors(raw))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        raise LockfileError(f"{source} does not match the lockfile schema at {where}: {one_line(error.message, 160)}")


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """The JSON Schema shipped in the package."""
    text = resources.files("reprotrack").joinpath("schema/lockfile.schema.json").read_text("utf-8")
    return json.loads(text)


@lru_cache(maxsize=1)
def _validator():
    """The schema's validator, with one shortcut: an array whose items must be plain numbers or integers (the
    statistics of every fingerprint: ~80 % of a notebook lock's nodes) is checked by one loop; only when an item
    is not a plain ``int``/``float`` does jsonschema's own ``items`` run (so the error is its own). 0.06 s → 0.03 s
    for the quickstart's lock."""
    import jsonschema

    cls = jsonschema.validators.validator_for(schema())
    default_items = cls.VALIDATORS["items"]

    def items(validator: Any, subschema: Any, instance: Any, where: dict[str, Any]) -> Any:
        if type(instance) is list and not where.get("prefixItems") and type(subschema) is dict and len(subschema) == 1:
            plain = _PLAIN_ITEMS.get(subschema.get("type"))  # type: ignore[arg-type]
            if plain is not None and all(map(plain, instance)):
                return
        yield from default_items(validator, subschema, instance, where)

    return jsonschema.validators.extend(cls, {"items": items})(schema())


def _plain_number(value: Any) -> bool:
    kind = type(value)
    return kind is float or kind is int


def _plain_integer(value: Any) -> bool:
    kind = type(value)
    return kind is int or (kind is float and value.is_integer())


#: ``{"type": T}`` item schemas checked by a loop: a subset of what jsonschema accepts as T (never ``bool``).
_PLAIN_ITEMS = {"number": _plain_number, "integer": _plain_integer}


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in a lock")
