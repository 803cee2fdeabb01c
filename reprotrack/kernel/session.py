"""The tracking session: IPython events in, one ``CellRecord`` per cell run, a ``Lock`` out.

``Session.start`` registers ``pre_run_cell``/``post_run_cell`` handlers and installs the captures
(``reprotrack.kernel.capture``); each handler is wrapped so that a failure inside reprotrack becomes one concise
warning and a note in the lock: an exception escaping an IPython event handler would put a traceback into
the user's cell output, and a tracker that breaks a cell once gets uninstalled.

The session works without IPython too (``shell=None``): scripts and production code use it for
``checkpoint`` and ``save`` only.
"""

from __future__ import annotations

import os
import socket
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from reprotrack import store
from reprotrack.config import load_options, load_privacy
from reprotrack.core import lockfile
from reprotrack.core import privacy as privacy_policy
from reprotrack.core.diff.matching import order_notes
from reprotrack.core.diff.model import DiffOptions
from reprotrack.core.lockfile import CellRecord, Lock
from reprotrack.core.text import one_line, redact
from reprotrack.errors import ReprotrackError
from reprotrack.kernel.capture import Capture, load_captures
from reprotrack.kernel.capture.datakinds import distributed_text
from reprotrack.kernel.context import CellContext, active, is_control_cell, set_active
from reprotrack.kernel.notebook_path import current_notebook, find_notebook

#: Warnings printed per session at most; later ones go to the lock's notes only.
MAX_PRINTED_WARNINGS = 20
#: Notes kept per cell / per lock at most (a misbehaving object must not bloat the lock).
MAX_NOTES = 50


class Session:
    def __init__(
        self,
        shell: Any = None,
        *,
        lock_path: str | os.PathLike[str] | None = None,
        notebook: str | os.PathLike[str] | None = None,
        mode: str = "record",
        distributed: bool = False,
        privacy: str | None = None,
        salt: str | None = None,
    ) -> None:
        self.shell = shell
        #: fingerprint Dask/Spark frames after each cell (runs a computation); else left to checkpoints
        self.distributed = distributed
        self.mode = mode if shell is not None or mode == "replay" else "script"
        self.notebook_path: Path | None = Path(notebook).resolve() if notebook else find_notebook(shell)
        self.base_dir: Path = self.notebook_path.parent if self.notebook_path else Path.cwd()
        self.lock_path: Path = Path(lock_path).resolve() if lock_path else store.default_lock_path(self.notebook_path)
        #: whether the lock's path was chosen (``--lock``) rather than named after the notebook
        self.lock_chosen = lock_path is not None
        self.cells: list[CellRecord] = []
        self.checkpoints: dict[str, dict[str, Any]] = {}
        #: checkpoint name → order of the last cell run whose facts precede it (see ``Lock.checkpoint_at``)
        self.checkpoint_at: dict[str, int] = {}
        #: False while a script run has not finished (its snapshots are partial locks)
        self.complete = True
        self.requirements: dict[str, dict[str, Any]] = {}
        self.notes: list[str] = []
        self.current: CellContext | None = None
        self.captures: list[Capture] = []
        self.listeners: list[Callable[[Session, CellRecord | None], None]] = []
        self.paused = False
        self.running = False
        self.started_at = datetime.now(timezone.utc)
        self.saved_path: Path | None = None
        #: run by ``reprotrack record``/``verify`` (``replay.agent``): the lock goes only where the driver says,
        #: so a notebook's own ``save("x.lock")`` cannot replace a lock before the driver decided to
        self.driven = False
        self.unsaved_cells = 0
        self.tracker_seconds = 0.0
        self._printed: set[str] = set()
        #: ``[tool.reprotrack]`` of the nearest pyproject.toml (the captures read ``normalise`` from it)
        self.config: DiffOptions | None = None
        self._positions_stamp: tuple[str, int] | None = None
        self._positions: tuple[dict[str, int], dict[str, int]] | None = None
        self._before: list[Capture] = []
        self._after: list[Capture] = []
        #: what the lock keeps of data values and text (``reprotrack.core.privacy``); None until ``start``
        #: reads ``[tool.reprotrack] privacy``; a replay is given the research lock's policy and salt
        self.privacy: str | None = privacy_policy.check_policy(privacy) if privacy is not None else None
        self.salt: str = salt or privacy_policy.new_salt()

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> Session:
        if self.running:
            return self
        previous = active()
        if previous is not None and previous is not self:
            previous.stop()
        try:
            self.config = load_options(self.base_dir)
        except ReprotrackError as exc:  # a wrong [tool.reprotrack] value: said once, the defaults apply
            self.warn(f"{exc}; recording with the default settings")
        if self.privacy is None:
            try:
                self.privacy = load_privacy(self.base_dir) or privacy_policy.DEFAULT_POLICY
            except ReprotrackError as exc:
                self.privacy = privacy_policy.DEFAULT_POLICY
                self.warn(f"{exc}; recording with privacy {self.privacy}")
        self.captures = load_captures(self.warn)
        for capture in list(self.captures):
            if not self.guard(capture.install, self, what=f"{capture.name} install"):
                self.captures.remove(capture)
        self._before = [c for c in self.captures if type(c).before_cell is not Capture.before_cell]
        self._after = [c for c in self.captures if type(c).after_cell is not Capture.after_cell]
        if self.shell is not None:
            self.shell.events.register("pre_run_cell", self._pre_run_cell)
            self.shell.events.register("post_run_cell", self._post_run_cell)
        self.running = True
        self.paused = False
        set_active(self)
        return self

    def stop(self) -> None:
        if not self.running:
            return
        if self.shell is not None:
            for event, handler in (("pre_run_cell", self._pre_run_cell), ("post_run_cell", self._post_run_cell)):
                try:
                    self.shell.events.unregister(event, handler)
                except ValueError:
                    pass
        for capture in reversed(self.captures):
            self.guard(capture.uninstall, what=f"{capture.name} uninstall")
        self.current = None
        self.running = False
        if active() is self:
            set_active(None)

    # -- IPython events ----------------------------------------------------------------------------
    def _pre_run_cell(self, info: Any) -> None:
        t0 = time.perf_counter()
        try:
            self.current = None
            if self.paused:
                return
            source = getattr(info, "raw_cell", "") or ""
            if is_control_cell(source):
                return
            record = CellRecord(
                id="",
                order=len(self.cells) + 1,
                source_sha256=lockfile.sha256_text(source),
            )
            record.id, record.index = _cell_identity(info, record.source_sha256)
            if record.index is None and self.notebook_path is not None:
                record.index = self._position(record)
            ctx = CellContext(record=record, source=source, shell=self.shell)
            self.current = ctx
            for capture in self._before:  # ``guard``, inlined: ~1 µs a hook on every cell
                try:
                    capture.before_cell(ctx)
                except Exception as exc:  # noqa: BLE001
                    self._hook_failed(f"{capture.name} before cell", exc, record)
        except Exception as exc:  # noqa: BLE001 - never break the user's cell
            self._internal_error("pre_run_cell", exc)
        finally:
            self.tracker_seconds += time.perf_counter() - t0

    def _post_run_cell(self, result: Any) -> None:
        t0 = time.perf_counter()
        ctx = self.current
        try:
            if ctx is None:
                return
            record = ctx.record
            ctx.result = result
            record.execution_count = getattr(result, "execution_count", None)
            record.run["duration_s"] = round(t0 - ctx.started, 6)
            if getattr(result, "error_before_exec", None) is not None:
                record.status = "syntax-error"
                record.error = _error_summary(result.error_before_exec)
            elif getattr(result, "error_in_exec", None) is not None:
                record.status = "error"
                record.error = _error_summary(result.error_in_exec)
            for capture in self._after:
                try:
                    capture.after_cell(ctx)
                except Exception as exc:  # noqa: BLE001
                    self._hook_failed(f"{capture.name} after cell", exc, record)
            if self.guard(self.protect_record, record, what="privacy", cell=record) is None:
                record.data, record.outputs = {}, {}  # fail closed: nothing unprotected reaches the lock
                record.error = {"type": (record.error or {}).get("type", ""), "message": ""} if record.error else None
            self.cells.append(record)
            self.unsaved_cells += 1
            for listener in list(self.listeners):
                self.guard(listener, self, record, what="panel update")
        except Exception as exc:  # noqa: BLE001
            self._internal_error("post_run_cell", exc)
        finally:
            self.current = None
            self.tracker_seconds += time.perf_counter() - t0

    # -- facts from outside cells ------------------------------------------------------------------
    def checkpoint(self, name: str, obj: Any) -> dict[str, Any] | None:
        """Fingerprint ``obj`` under ``name``: production code can be checked against it by name."""
        if not isinstance(name, str) or not name:
            raise TypeError("checkpoint name must be a non-empty string")
        fp = self.guard(_fingerprint, obj, what=f"checkpoint {name!r}")
        if fp is None:
            return None
        fp = self.guard(privacy_policy.protect, fp, self.policy, self.salt, what=f"checkpoint {name!r} privacy")
        if fp is None:
            return None
        self.checkpoints[name] = fp
        # taken inside a running cell: that cell's facts so far count (its record is appended after it)
        self.checkpoint_at[name] = self.current.record.order if self.current is not None else len(self.cells)
        self.unsaved_cells += 1
        return fp

    # -- privacy -----------------------------------------------------------------------------------
    @property
    def policy(self) -> str:
        return self.privacy or privacy_policy.DEFAULT_POLICY

    def protect_fingerprint(self, fp: dict[str, Any]) -> dict[str, Any]:
        """``fp`` as the lock may hold it under this session's policy (a background fingerprint's rest)."""
        return privacy_policy.protect(fp, self.policy, self.salt) if self.policy != "values" else fp

    def protect_record(self, record: CellRecord) -> None:
        """The one place a cell's labels and messages meet the privacy policy (printed text is treated by
        the output capture, before it is summarised)."""
        policy, salt = self.policy, self.salt
        if policy == "values":
            return
        record.data = {name: privacy_policy.protect(fp, policy, salt) if isinstance(fp, dict) else fp
                       for name, fp in record.data.items()}
        result = record.outputs.get("result")
        if isinstance(result, dict) and isinstance(result.get("fingerprint"), dict):
            result["fingerprint"] = privacy_policy.protect(result["fingerprint"], policy, salt)
        if isinstance(record.error, dict) and isinstance(record.error.get("message"), str):
            record.error["message"] = privacy_policy.protect_message(record.error["message"], policy, salt)
        # the tracker's own notes quote exceptions raised by users' objects: identifying parts tagged
        record.notes = [privacy_policy.redact_identifying(n, salt) if isinstance(n, str) else n for n in record.notes]

    def expect(self, name: str, value: Any, **bounds: Any) -> dict[str, Any] | None:
        """Record a performance requirement with this run's value (``reprotrack.core.requirements``); a value
        that already breaks it is a warning here, and a finding when verify replays the run. Without bounds the
        value alone is recorded (a production run's measurement, held to the research requirement by check)."""
        from reprotrack.core import requirements
        from reprotrack.errors import UsageError

        try:
            requirements.number(value, name)
        except UsageError as exc:  # a NaN metric is a result to report, not a reason to stop the user's run
            self.warn(f"requirement {name!r} not recorded: {exc}")
            return None
        req = requirements.make(name, value, **bounds) if bounds else requirements.measurement(name, value)
        self.requirements[name] = req
        self.unsaved_cells += 1
        kept, message = requirements.check(name, req, value)
        if not kept:
            self.warn(f"requirement not met: {message}")
        return req

    # -- the lock ----------------------------------------------------------------------------------
    def _position(self, record: CellRecord) -> int | None:
        """The cell's position in the saved notebook (by id, else unique source), so that the panel and
        the notes say ``cell 6`` as the notebook does. The file is re-read only when it changed on disk."""
        path = self.notebook_path
        try:
            stamp = (str(path), path.stat().st_mtime_ns)
        except OSError:
            return None
        if self._positions_stamp != stamp:
            self._positions_stamp, self._positions = stamp, notebook_positions(path)
        if not self._positions:
            return None
        by_id, by_source = self._positions
        return by_id.get(record.id, by_source.get(record.source_sha256))

    def follow_notebook(self) -> None:
        """Take the notebook's current name (renamed since start, in JupyterLab or VS Code): the lock is
        named after it unless a path was chosen. Only a research run's own session asks."""
        if self.shell is None or self.mode != "record":
            return
        now = current_notebook(self.shell, self.notebook_path, [c.id for c in self.cells])
        if now is None or now == self.notebook_path:
            return
        self.notebook_path = now
        self.base_dir = now.parent
        if not self.lock_chosen:
            self.lock_path = store.default_lock_path(now)

    def build_lock(self) -> Lock:
        positions = notebook_positions(self.notebook_path) if self.notebook_path else None
        if positions:
            by_id, by_source = positions
            for record in self.cells:
                if record.index is None:
                    record.index = by_id.get(record.id, by_source.get(record.source_sha256))
        lock = Lock(
            cells=list(self.cells),
            checkpoints=dict(self.checkpoints),
            checkpoint_at=dict(self.checkpoint_at),
            complete=self.complete,
            requirements=dict(self.requirements),
            notebook=self.notebook_path.name if self.notebook_path else None,
            mode=self.mode,
            notes=[n if self.policy == "values" else privacy_policy.redact_identifying(n, self.salt)
                   for n in self.notes[:MAX_NOTES]],
            privacy={"policy": self.policy, "salt": self.salt},
        )
        lock.run = {
            "started": self.started_at.isoformat(timespec="seconds"),
            "saved": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "host": socket.gethostname(),
            "notebook_path": str(self.notebook_path) if self.notebook_path else None,
            "lock_path": str(self.lock_path),
            "tracker_seconds": round(self.tracker_seconds, 6),
        }
        for capture in self.captures:
            self.guard(capture.on_save, lock, what=f"{capture.name} on save")
        return lock

    def save(self, path: str | os.PathLike[str] | None = None) -> Path | None:
        """Write the lock atomically. On a full disk or read-only folder: a warning, the record is kept."""
        # a replay writes only where its driver said: a notebook's own save("x.lock") is the research lock
        if not path:
            self.guard(self.follow_notebook, what="finding the notebook's name")
        target = Path(path).resolve() if path and self.mode != "replay" and not self.driven else self.lock_path
        if target.suffix == ".ipynb" or (
                self.notebook_path is not None and store.same_file(target, self.notebook_path)):
            self.warn(f"not saving the lock to {target}: it is a notebook, not a lock path; "
                      "give a .lock path (%reprotrack save --lock PATH)")
            return None
        try:
            lock = self.build_lock()
            store.write_lock(target, lock)
        except OSError as exc:
            self.warn(
                f"could not save the lock to {target}: {exc.strerror or exc}. "
                "Nothing is lost: the record stays in memory; run %reprotrack save again (or save --lock PATH)."
            )
            return None
        except Exception as exc:  # noqa: BLE001
            self._internal_error("save", exc)
            return None
        self.saved_path = target
        self.unsaved_cells = 0
        for listener in list(self.listeners):
            self.guard(listener, self, None, what="panel update")
        return target

    def summary(self) -> str:
        state = "paused" if self.paused else ("tracking" if self.running else "stopped")
        cells = len(self.cells)
        seeds = sum(len(c.seeds) for c in self.cells)
        unseeded = sum(1 for c in self.cells for r in c.randomness if not r.get("seeded", True))
        splits = sum(len(c.splits) for c in self.cells)
        data = sum(len(c.data) for c in self.cells)
        errors = sum(1 for c in self.cells if c.status != "ok")
        saved = f"saved to {self.saved_path}" if self.saved_path else "not saved yet"

        lazy = distributed_text([c.run.get("distributed") for c in self.cells])
        if lazy:
            saved += f"; {lazy}"
        if self.saved_path and self.unsaved_cells:
            saved += f" ({self.unsaved_cells} newer change(s) not saved)"
        order = order_notes(self.cells)
        told = f" ({'; '.join(order)})" if order else ""
        return (
            f"reprotrack: {state} ({self.mode}); {cells} cell run(s){told}, {errors} with errors; "
            f"{seeds} seed(s), {unseeded} unseeded draw(s), {data} data fingerprint(s), {splits} split(s), "
            f"{len(self.checkpoints)} checkpoint(s); lock {self.lock_path.name} {saved}"
        )

    # -- never break the user's cell ---------------------------------------------------------------
    def warn(self, message: str, cell: CellRecord | None = None) -> None:
        """One concise line to the user (deduplicated, bounded) and a note in the lock."""
        message = " ".join(str(message).split())
        target = cell.notes if cell is not None else self.notes
        if len(target) < MAX_NOTES and message not in target:
            target.append(message)
        if message in self._printed or len(self._printed) >= MAX_PRINTED_WARNINGS:
            return
        self._printed.add(message)
        try:
            print(f"reprotrack: {message}", file=sys.stderr)
        except Exception:  # noqa: BLE001 - a closed stderr must not matter
            pass

    def guard(self, func: Callable[..., Any], *args: Any, what: str, cell: CellRecord | None = None) -> Any:
        try:
            result = func(*args)
        except Exception as exc:  # noqa: BLE001
            self._hook_failed(what, exc, cell)
            return None
        return True if result is None else result

    def _hook_failed(self, what: str, exc: Exception, cell: CellRecord | None = None) -> None:
        self.warn(f"internal error in {what} ({type(exc).__name__}: {one_line(exc, 200)}); tracking continues", cell)

    def _internal_error(self, where: str, exc: BaseException) -> None:
        try:
            self.warn(f"internal error in {where} ({type(exc).__name__}: {one_line(exc, 200)}); tracking continues")
        except Exception:  # noqa: BLE001
            pass


def start_or_resume(shell: Any, *, lock: str | os.PathLike[str] | None = None, notebook: str | os.PathLike[str] | None = None,
                    distributed: bool = False, privacy: str | None = None) -> tuple[Session, bool]:
    """The session tracking this process and whether it is new: a running one is resumed (unpaused; a new
    ``lock`` path and ``distributed`` taken), else a new one is started. A replay's session is only resumed:
    it keeps the lock path its driver gave it, so nothing a notebook says can make a replay write the
    research lock (and a ``reprotrack run`` script's session keeps the path ``run`` gave it)."""
    current = active()
    if current is not None and (current.mode == "replay" or getattr(current, "keeps_lock_path", False)):
        current.paused = False
        return current, False
    if current is not None and current.running:
        if lock and not current.driven:
            current.lock_path = Path(lock).expanduser().resolve()
            current.lock_chosen = True
        current.distributed = current.distributed or distributed
        if privacy is not None:  # cells recorded from now on; a replay keeps the research lock's policy
            current.privacy = privacy_policy.check_policy(privacy)
        current.paused = False
        return current, False
    return Session(shell, lock_path=lock, notebook=notebook, distributed=distributed, privacy=privacy).start(), True


def _fingerprint(obj: Any) -> dict[str, Any]:
    # imported on first use: the fingerprint engine loads pandas, which is the user's to import (or not)
    from reprotrack.core.fingerprint import fingerprint

    return fingerprint(obj)


def _cell_identity(info: Any, source_sha256: str) -> tuple[str, int | None]:
    """The frontend's cell id when it sends one (JupyterLab, Notebook 7, VS Code, our replay), else an id
    derived from the source hash; and the notebook position when the client tells it (our replay does)."""
    cell_id = getattr(info, "cell_id", None)
    meta = getattr(info, "cell_meta", None) or {}
    index = None
    hint = meta.get("reprotrack") if isinstance(meta, dict) else None
    if isinstance(hint, dict) and isinstance(hint.get("index"), int):
        index = hint["index"]
    if not isinstance(cell_id, str) or not cell_id:
        cell_id = f"src-{source_sha256[:16]}"
    return cell_id[:200], index


def _error_summary(exc: BaseException) -> dict[str, str]:
    return {"type": type(exc).__name__, "message": redact(one_line(exc, 500))}




def notebook_positions(path: Path) -> tuple[dict[str, int], dict[str, int]] | None:
    """Cell id → position and source sha256 → position (unique sources only) of the code cells of a saved
    notebook: how records get their ``index`` when the frontend does not say it. None if unreadable."""
    import json

    try:
        raw = json.loads(path.read_text("utf-8"))
        cells = raw["cells"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    by_id: dict[str, int] = {}
    by_source: dict[str, int] = {}
    seen: set[str] = set()
    for index, cell in enumerate(cells):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        if isinstance(cell.get("id"), str):
            by_id[cell["id"]] = index
        digest = lockfile.sha256_text(source)
        if digest in seen:
            by_source.pop(digest, None)
        else:
            seen.add(digest)
            by_source[digest] = index
    return by_id, by_source
