"""Fingerprints of the data each cell created or changed (``cells[].data{name → fingerprint}``).

Never the whole namespace: the candidates come from the cell's AST (``names``), in two strengths.

* Certain (assigned, item/attribute-assigned, ``inplace=True``): fingerprinted and recorded every time,
  even when the value is the same as before (the record says "this cell produced this value"). In a
  cell that raised, they are only possible: the assignment may not have run.
* Possible (receivers of other method calls, names passed to calls, globals that functions defined in the
  notebook read or rebind): their ``content`` hash is compared with the last one recorded for the name;
  recorded (full fingerprint) only when it differs or none was recorded yet. The content hash is the
  proof of "unchanged": no identity or shape token can prove a mutable buffer unchanged (``arr.sort()``
  keeps id, shape, dtype and data pointer), so none is trusted for mutable objects.

What *is* trusted as proof: the identity of an immutable scalar (``int``, ``float``, ``str``, ``bytes``,
numpy scalars...). Such a value, still the very object fingerprinted last time (a reference is kept, so
its id cannot be reused), reuses its fingerprint: ``x = 1`` re-run costs a dict lookup.

Cells whose effect on the namespace the AST cannot show (``%run``, star imports, ``exec``…, see
``names.opaque``) get a by-identity comparison of the namespace before and after them: rebound, new and
deleted names are certain candidates. That shallow copy of the namespace is the only per-cell cost that
grows with the namespace, and only such cells pay it.

What counts as data (frames, arrays, estimators, scalars, containers and objects holding them; never clock
readings, modules or IPython's own names) is decided in ``reprotrack.kernel.capture.datakinds``. Dask and Spark
frames are lazy: they are fingerprinted after a cell only with ``%reprotrack start --distributed``
(``_distributed``); otherwise nothing is computed and they are named as left to checkpoints. A name deleted by
the cell (or rebound to something that is not data) after it held data is recorded as ``DELETED``/the
type-only fingerprint, so a later diff sees it go. A dict or frame is fingerprinted without its timing
keys/columns (``reprotrack.core.noise.durations``; named under the ignored ``run`` key): two honest runs
never take equally long.

Cheapest proof first. A pandas DataFrame/Series or numeric numpy array that is recorded is also frozen: a
private copy (``reprotrack.core.snapshot``: numpy buffers copied, immutable Arrow arrays shared; up to
``MAX_FROZEN_BYTES`` each and ``FROZEN_BUDGET`` per session). Next time the name is a candidate, the value is
compared with that copy at memory speed: the same bits (same labels, index and dtypes) reuse the fingerprint
recorded then, with nothing hashed -- a cell run again, a frame passed to ``fit``, a column rebuilt the same.
Otherwise the value is frozen anew and, from ``BACKGROUND_BYTES`` on, fingerprinted whole (content, rows,
approx, stats) on one background thread, from the copy, so nothing the next cell does can change what is
recorded (``deferred``); its content decides, as in the cell, whether a possible candidate is recorded. The
thread never races the user's next code: IPython's ``pre_execute`` event (every execution, control and silent
ones too), ``on_save`` and stop wait for it and put its results into the records on the kernel's thread; the
wait counts in the session's ``tracker_seconds``. A value that cannot be frozen (too large, object dtype, other
types) gets its ``content`` hash in the cell; when equal to the content last recorded, the fingerprint
recorded then is reused, else the rest follows (in the background from ``BACKGROUND_BYTES`` on).

Objects larger than ``REPROTRACK_MAX_BYTES`` (default 1 GiB, shallow size) get only ``content`` and
``stats`` (``rows`` and ``approx`` skipped, listed under ``skipped``): the fingerprint engine hashes in
bounded chunks, so the extra memory stays bounded whatever the size.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reprotrack.core.noise.durations import without_durations
from reprotrack.core.snapshot import MAX_FROZEN_BYTES, Frozen, freeze
from reprotrack.core.text import exception_text
from reprotrack.kernel.capture import Capture
from reprotrack.kernel.capture.datakinds import (
    IMMUTABLE_SCALARS,
    data_kind,
    globals_of_called,
    is_user_name,
    np_generic,
    shallow_bytes,
    why_not_data,
)
from reprotrack.kernel.capture.deferred import UNCHANGED, Deferred, Job
from reprotrack.kernel.capture.names import (
    EMPTY,
    CellNames,
    cell_names,
    names_of_source,
)

if TYPE_CHECKING:  # pragma: no cover
    from reprotrack.core.lockfile import Lock
    from reprotrack.kernel.context import CellContext
    from reprotrack.kernel.session import Session

DEFAULT_MAX_BYTES = 1 << 30
BACKGROUND_BYTES = 1 << 20  # frames and arrays from this size on: fingerprinted in the background
#: What the private copies of recorded frames and arrays (``core.snapshot``) may hold in all, per session.
FROZEN_BUDGET = 64 << 20  # what the copies of a session may hold in all: the memory a user pays for them
#: The fingerprint recorded for a name the cell deleted.
DELETED: dict[str, Any] = {"type": "deleted", "deleted": True, "shape": None, "schema": None, "content": None,
                           "rows": None, "approx": None, "stats": None}
#: Characters whose presence means IPython may transform the cell (magics, shell escapes, help).
_IPYTHON_SYNTAX = ("%", "!", "?")
_SKIPPED_WHEN_LARGE = ("rows", "approx")


def max_bytes() -> int:
    try:
        return max(0, int(os.environ.get("REPROTRACK_MAX_BYTES", DEFAULT_MAX_BYTES)))
    except ValueError:
        return DEFAULT_MAX_BYTES


@dataclass
class _Seen:
    """What was last recorded for a name: its content hash, and the object itself when it is an immutable
    scalar (a live reference: identity then proves equality)."""

    content: str | None
    fingerprint: dict[str, Any]
    scalar: Any = None
    has_scalar: bool = False
    #: a private copy of the frame or array as recorded: proves a later value equal without hashing it
    frozen: Frozen | None = None


class DataCapture(Capture):
    name = "data"

    def __init__(self, fingerprint: Callable[..., dict[str, Any]] | None = None) -> None:
        self._fingerprint = fingerprint
        self.seen: dict[str, _Seen] = {}
        self.names: CellNames = EMPTY
        self.snapshot: dict[str, Any] | None = None
        self.was_data: set[str] = set()
        self.max_bytes = DEFAULT_MAX_BYTES
        self.session: Session | None = None
        self.lazy: dict[str, Any] = {}  # name -> the Dask/Spark frame last handled (immutable: identity)
        self.told = False
        self.deferred = Deferred(self._compute)
        self.events: Any = None

    def install(self, session: Session) -> None:
        self.session = session
        self.lazy.clear()
        self.seen.clear()
        self.max_bytes = max_bytes()
        events = getattr(getattr(session, "shell", None), "events", None)
        if events is not None:
            events.register("pre_execute", self.settle)
            self.events = events

    def uninstall(self) -> None:
        self.settle()
        if self.events is not None:
            try:
                self.events.unregister("pre_execute", self.settle)
            except ValueError:
                pass
            self.events = None
        self.seen.clear()
        self.snapshot = None

    def on_save(self, lock: Lock) -> None:
        self.settle()

    # -- fingerprints finished after the cell (``deferred``) ------------------------------------------
    def settle(self) -> None:
        """Wait for the background fingerprints and put them into their records: called before any user code
        runs again, before a cell's names are captured, before a save and on stop. The wait counts as the
        tracker's time."""
        jobs, waited = self.deferred.settle()
        if self.session is not None and hasattr(self.session, "tracker_seconds"):
            self.session.tracker_seconds += waited
        for job in jobs:
            self._apply(job)

    def _compute(self, job: Job) -> Any:
        """On the background thread: the job's fingerprint, or ``UNCHANGED`` when its content is the one last
        recorded for the name. Reads only the job (a frozen value, or a live one the kernel waits for)."""
        prior = job.prior
        if job.content is None and prior is not None and prior.content is not None:
            content = self.fingerprint(job.value, parts=("content",)).get("content")
            if content is not None and content == prior.content:
                return UNCHANGED
        full = self._full(job.value, job.parts)
        if job.content is not None and full.get("content") != job.content:
            raise RuntimeError("the value changed while it was being fingerprinted")
        return full

    def _apply(self, job: Job) -> None:
        """On the kernel's thread: the job's outcome into its record (privacy applied) and into ``seen``."""
        record, name, outcome = job.record, job.name, job.outcome
        if outcome == UNCHANGED and isinstance(outcome, str):
            job.prior.frozen = job.frozen
            self.seen[name] = job.prior
            if job.certain:
                record.data[name] = self._protect(dict(job.prior.fingerprint))
            return
        if isinstance(outcome, BaseException):
            if job.content is not None:  # the content the cell hashed stays recorded
                _note(record, f"data fingerprint left at its content ({exception_text(outcome, 100)})")
            else:
                self.seen.pop(name, None)
                record.data.pop(name, None)  # the place a certain name held
                _note(record, f"data {name!r} not fingerprinted ({exception_text(outcome, 100)})")
            return
        self.seen[name] = _Seen(outcome.get("content"), outcome, frozen=job.frozen)
        record.data[name] = self._protect(dict(outcome))

    def _protect(self, fp: dict[str, Any]) -> dict[str, Any]:
        protect = getattr(self.session, "protect_fingerprint", None)
        return protect(fp) if protect is not None else fp

    # -- the cell --------------------------------------------------------------------------------
    def before_cell(self, ctx: CellContext) -> None:
        self.settle()
        self.deferred.drop()  # left by a cell whose capture failed half-way: its values may change now
        names = self.names = names_for(ctx)
        ns = ctx.user_ns
        self.snapshot = {k: v for k, v in ns.items() if is_user_name(k)} if names.opaque else None
        self.was_data = {n for n in names.deleted if n in ns and data_kind(ns[n]) is not None}

    def after_cell(self, ctx: CellContext) -> None:
        names, self.names = self.names, EMPTY
        snapshot, self.snapshot = self.snapshot, None
        was_data, self.was_data = self.was_data, set()
        ns = ctx.user_ns
        certain = set(names.certain)
        maybe = set(names.maybe)
        if ctx.record.status != "ok":  # the cell stopped early: its assignments may not have happened
            maybe |= certain
            certain = set()
        deleted = set(names.deleted)
        if snapshot is not None:
            for key, value in ns.items():
                if is_user_name(key) and snapshot.get(key, _ABSENT) is not value:
                    certain.add(key)
            for key, value in snapshot.items():
                if key not in ns:
                    deleted.add(key)
                    if data_kind(value) is not None:
                        was_data.add(key)
        if names.called:
            maybe |= globals_of_called(names.called, ns)
        data = ctx.record.data
        for name in sorted(deleted):
            if name not in ns and (name in was_data or name in self.seen):
                data[name] = dict(DELETED)
                self.seen.pop(name, None)
        for name in sorted((certain | maybe) - names.clocks):
            if not is_user_name(name) or name not in ns:
                continue
            try:
                if data_kind(ns[name]) == "distributed":
                    self._distributed(ctx.record, name, ns[name], name in certain)
                    continue
                fp = self._capture(name, ns[name], name in certain, ctx.record)
            except Exception as exc:  # noqa: BLE001 - a hostile object must not stop the other names
                _note(ctx.record, f"data {name!r} not fingerprinted ({exception_text(exc, 100)})")
                continue
            if fp is PENDING:  # a certain name holds its place (the panel counts it); the thread fills it
                if name in certain:
                    data[name] = {"pending": True}
                continue
            if fp is not None:
                data[name] = fp
            elif name in certain:
                reason = why_not_data(ns[name])
                if reason:
                    _note(ctx.record, f"data {name!r} not fingerprinted: {reason}")
        self.deferred.start()

    def _capture(self, name: str, obj: Any, certain: bool, record: Any = None) -> dict[str, Any] | None:
        seen = self.seen.get(name)
        kind = data_kind(obj)
        if kind is None:
            if seen is None:
                return None
            del self.seen[name]  # data replaced by something that is not: say what it became
            return self.fingerprint(obj, parts=("content",))
        if seen is not None and seen.has_scalar and seen.scalar is obj:
            return dict(seen.fingerprint) if certain else None
        size = shallow_bytes(obj) if kind in ("frame", "array", "container") else 0
        parts = None
        large = size > self.max_bytes
        if large:
            parts = tuple(p for p in ("content", "rows", "approx", "stats") if p not in _SKIPPED_WHEN_LARGE)
        if kind in ("frame", "array") and record is not None:
            return self._content_first(name, obj, certain, seen, parts, record, size >= BACKGROUND_BYTES)
        if not certain and seen is not None:
            if self.fingerprint(obj, parts=("content",))["content"] == seen.content:
                return None
        fp = self._full(obj, parts)
        scalar = kind == "scalar" and isinstance(obj, IMMUTABLE_SCALARS + (np_generic(),))
        self.seen[name] = _Seen(fp.get("content"), fp, obj if scalar else None, scalar)
        return fp

    def _content_first(self, name: str, obj: Any, certain: bool, seen: _Seen | None,
                       parts: tuple[str, ...] | None, record: Any, background: bool) -> Any:
        """A frame or array: the cheapest proof first. Compared with the private copy frozen when it was last
        recorded (``core.snapshot``), a value with the same bits needs no hash at all. Otherwise it is frozen
        anew, and a large one is fingerprinted whole in the background (``PENDING``). A value too large to
        freeze gets its content now: the last full fingerprint when that is equal, else the rest (in the
        background for large values, the kernel waiting for it before any more code runs)."""
        if seen is not None and seen.frozen is not None and seen.frozen.same_as(obj):
            return dict(seen.fingerprint) if certain else None
        frozen = self._freeze(name, obj) if parts is None else None  # past max_bytes: never copied
        if frozen is not None and background:
            self.deferred.submit(Job(name, frozen.value, record, certain, parts, prior=seen, frozen=frozen))
            return PENDING
        if not background and (seen is None or seen.content is None):  # nothing to reuse: straight to the full
            fp = self._full(obj, parts)
            self.seen[name] = _Seen(fp.get("content"), fp, frozen=frozen)
            return fp
        fp = self.fingerprint(obj, parts=("content",))
        if seen is not None and fp.get("content") is not None and fp["content"] == seen.content:
            seen.frozen = frozen
            return dict(seen.fingerprint) if certain else None  # settled: before_cell waited for it
        if background:  # a live value: the next execution waits for this job (``settle`` on pre_execute)
            self.deferred.submit(Job(name, obj, record, certain, parts, content=fp.get("content")))
        else:
            fp = self._full(obj, parts)
        self.seen[name] = _Seen(fp.get("content"), fp, frozen=frozen)
        return fp

    def _freeze(self, name: str, obj: Any) -> Frozen | None:
        """A private copy of ``obj`` within what the session's copies may hold in all (``FROZEN_BUDGET``)."""
        held = sum(s.frozen.nbytes for n, s in self.seen.items() if s.frozen is not None and n != name)
        try:
            return freeze(obj, min(MAX_FROZEN_BYTES, FROZEN_BUDGET - held))
        except Exception:  # noqa: BLE001 - no room for a copy (MemoryError): hashed in the cell instead
            return None

    def _full(self, obj: Any, parts: tuple[str, ...] | None) -> dict[str, Any]:
        """The full fingerprint (or, past ``max_bytes``, all but ``_SKIPPED_WHEN_LARGE``)."""
        fp = self.fingerprint(obj, parts=parts)
        if parts is not None:
            fp["skipped"] = list(_SKIPPED_WHEN_LARGE)
        return fp

    def _distributed(self, record: Any, name: str, obj: Any, certain: bool) -> None:
        """A Dask/Spark frame: fingerprinting it runs a computation on the cluster, so only with
        ``%reprotrack start --distributed``; else it is named under ``run.distributed.skipped`` (ignored by
        the diff) and left to ``%reprotrack checkpoint``. Such frames are immutable (a Dask ``ddf[c] = ...``
        is an assignment, hence certain), so a possible candidate still the same object is unchanged."""
        if not certain and self.lazy.get(name) is obj:
            return
        self.lazy[name] = obj
        info = record.run.setdefault("distributed", {})
        if not getattr(self.session, "distributed", False):
            info.setdefault("skipped", []).append(name)
            if not self.told and self.session is not None:
                self.told = True
                self.session.warn(f"{name!r} is a distributed (Dask/Spark) frame: not fingerprinted per cell, "
                                  "that would run a computation; %reprotrack checkpoint NAME fingerprints one, "
                                  "%reprotrack start --distributed every one after its cell", record)
            return
        t0 = time.perf_counter()
        fp = self.fingerprint(obj)
        info.setdefault("fingerprinted", []).append(name)
        info["seconds"] = round(info.get("seconds", 0.0) + time.perf_counter() - t0, 3)
        self.seen[name] = _Seen(fp.get("content"), fp)
        record.data[name] = fp

    def fingerprint(self, obj: Any, parts: tuple[str, ...] | None = None) -> dict[str, Any]:
        if self._fingerprint is None:  # on first use: the engine loads pandas, the user's to import
            from reprotrack.core.fingerprint import fingerprint

            self._fingerprint = fingerprint
        obj, durations = without_durations(obj)  # cv_results_ tables: timing columns are not data
        fp = self._fingerprint(obj) if parts is None else self._fingerprint(obj, parts=parts)
        if durations:
            fp["run"] = {"durations_left_out": durations}
        return fp


_ABSENT = object()
#: ``_capture``'s answer for a value whose fingerprint the background thread makes (``deferred``).
PENDING: Any = object()


def names_for(ctx: CellContext) -> CellNames:
    """The cell's names: from the raw source when IPython cannot have transformed it (cached per source,
    ~2 µs), else from the session's transformed AST."""
    source = ctx.source
    if not any(ch in source for ch in _IPYTHON_SYNTAX) and not source[:1].isspace() and ">>>" not in source:
        names = names_of_source(source)
        if names is not None:
            return names
    return cell_names(ctx.tree)


def _note(record: Any, message: str) -> None:
    if len(record.notes) < 50 and message not in record.notes:
        record.notes.append(message)
