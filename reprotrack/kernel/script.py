"""Tracking a Python script or module with no IPython shell: the session of ``reprotrack run`` and of
``reprotrack.start()`` outside IPython.

A script has no cells, so it gets **stages**: the first opens when tracking starts, and every
``reprotrack.checkpoint(name, obj)`` closes the running stage and opens the next. Each stage is one
``CellRecord`` (``id`` ``stage-N``) that the captures fill exactly as they fill a notebook cell -- the seeds set,
the randomness drawn, the files read and the splits made while it ran (libraries are patched the moment they
are imported, so the script needs no reprotrack import for that) -- and ``Lock.checkpoint_at`` says which
stages precede each checkpoint, so ``reprotrack check`` attributes those facts to it. The captures that read a
cell's source (data fingerprints of assigned names, seed constructors read from the code) see no source here:
a script's data is compared at its checkpoints.

``main`` is the child process of ``reprotrack run``: it runs the script as ``__main__`` (``runpy``), writes
a partial lock (``complete: false``; no environment facts) at every checkpoint and the complete one only
when the script returned
(or called ``sys.exit(0)``). A script that raised, exited non-zero, was killed or called ``os._exit`` leaves
at most a partial lock, which is never mistaken for a complete one. Never touches the research lock: it
writes only the path its parent gave it.
"""

from __future__ import annotations

import os
import runpy
import sys
import traceback
from pathlib import Path
from typing import Any

from reprotrack.core.lockfile import CellRecord, sha256_text
from reprotrack.core.text import one_line, redact
from reprotrack.kernel.context import CellContext
from reprotrack.kernel.session import Session

#: What a stage's record is identified by (a script has no cell ids).
STAGE_PREFIX = "stage-"


class StageContext(CellContext):
    """A stage's context: no shell; the namespace is the script's globals (patched names are rebound there)."""

    namespace: dict[str, Any] | None = None

    @property
    def user_ns(self) -> dict[str, Any]:
        return self.namespace if self.namespace is not None else {}


class ScriptSession(Session):
    """A session whose "cells" are the stages between checkpoints (see the module docstring)."""

    #: ``reprotrack.start(lock=…)`` inside a run script must not redirect the run's lock
    keeps_lock_path = False

    def __init__(self, *, lock_path: str | os.PathLike[str] | None = None, script: str | None = None,
                 namespace: dict[str, Any] | None = None, partial_until_finished: bool = False,
                 privacy: str | None = None) -> None:
        super().__init__(None, lock_path=lock_path, mode="script", privacy=privacy)
        self.script = script
        self.namespace = namespace
        self.keeps_lock_path = partial_until_finished
        #: ``reprotrack run``: every lock written before the script ends is partial
        self.complete = not partial_until_finished
        self.extra_targets: list[Path] = []

    def build_lock(self):
        lock = super().build_lock()
        lock.run["script"] = self.script
        return lock

    def start(self) -> ScriptSession:
        super().start()
        if self.current is None:
            self.open_stage()
        return self

    def stop(self) -> None:
        if self.running and self.current is not None:
            self.close_stage()
        super().stop()

    # -- stages ------------------------------------------------------------------------------------
    def open_stage(self) -> None:
        order = len(self.cells) + 1
        ident = f"{STAGE_PREFIX}{order}"
        record = CellRecord(id=ident, order=order, source_sha256=sha256_text(f"{self.script or ''}\0{ident}"))
        ctx = StageContext(record=record, source="", shell=None)
        ctx.namespace = self.namespace
        self.current = ctx
        for capture in self._before:
            self.guard(capture.before_cell, ctx, what=f"{capture.name} before stage", cell=record)

    def close_stage(self, error: BaseException | None = None) -> None:
        ctx, self.current = self.current, None
        if ctx is None:
            return
        record = ctx.record
        if error is not None:
            record.status = "error"
            record.error = {"type": type(error).__name__, "message": redact(one_line(error, 500))}
        for capture in self._after:
            self.guard(capture.after_cell, ctx, what=f"{capture.name} after stage", cell=record)
        self.cells.append(record)
        self.unsaved_cells += 1

    def checkpoint(self, name: str, obj: Any) -> dict[str, Any] | None:
        fp = super().checkpoint(name, obj)
        if fp is not None and self.running and self.current is not None:
            self.close_stage()
            self.open_stage()
            if not self.complete:
                self.snapshot()
        return fp

    def snapshot(self) -> None:
        """What a killed run leaves behind, marked partial: the stages and checkpoints so far, without the
        captures' save-time facts (the environment scan costs seconds; the final save records it)."""
        captures, self.captures = self.captures, []
        try:
            self.save()
        finally:
            self.captures = captures

    def save(self, path: str | os.PathLike[str] | None = None) -> Path | None:
        """The script's own ``reprotrack.save(path)`` during a run also gets the final lock at the end."""
        if path is not None and self.keeps_lock_path:
            target = Path(path).resolve()
            if target != self.lock_path and target not in self.extra_targets:
                self.extra_targets.append(target)
        return super().save(path)

    def finish(self, error: BaseException | None = None) -> None:
        """The script ended: close the last stage, mark the lock complete when it returned normally, save."""
        self.close_stage(error)
        self.complete = error is None
        if error is not None:
            self.notes.append(f"the script did not finish: {type(error).__name__}: {redact(one_line(error, 300))}")
        self.save()
        for target in self.extra_targets:
            self.save(target)
        super().stop()


def start_script_session(lock: str | os.PathLike[str] | None = None, *, privacy: str | None = None) -> ScriptSession:
    """``reprotrack.start()`` in a plain Python process: stages between checkpoints, the process's
    ``__main__`` globals as the namespace."""
    main = sys.modules.get("__main__")
    namespace = vars(main) if main is not None else None
    script = getattr(main, "__file__", None)
    return ScriptSession(lock_path=lock, script=os.path.basename(script) if script else None,
                         namespace=namespace, privacy=privacy).start()


def main(argv: list[str] | None = None) -> None:
    """``python -c 'from reprotrack.kernel.script import main; main()' LOCK (--script PATH | --module NAME)
    [ARGS…]``: run the target as ``__main__`` under a ``ScriptSession``; exit 0 only when it finished."""
    argv = list(sys.argv[1:] if argv is None else argv)
    lock, how, target, args = argv[0], argv[1], argv[2], argv[3:]
    namespace: dict[str, Any] = {}  # runpy makes the script's globals; nothing was imported before it
    shown = target if how == "--module" else os.path.basename(target)
    session = ScriptSession(lock_path=lock, script=shown, namespace=namespace, partial_until_finished=True)
    if how == "--module":
        sys.argv = [target, *args]
        sys.path.insert(0, os.getcwd())
    else:
        sys.argv = [target, *args]
        sys.path.insert(0, os.path.dirname(os.path.abspath(target)))
    session.start()
    error: BaseException | None = None
    code = 0
    try:
        if how == "--module":
            runpy.run_module(target, run_name="__main__", alter_sys=True)
        else:
            runpy.run_path(target, run_name="__main__")
    except SystemExit as exc:
        if exc.code not in (None, 0):
            error = exc
            code = exc.code if isinstance(exc.code, int) else 1
            if not isinstance(exc.code, int):
                print(exc.code, file=sys.stderr)
    except BaseException as exc:  # noqa: BLE001 - the script's error is reported as Python would, then recorded
        traceback.print_exc()
        error = exc
        code = 1
    session.finish(error)
    sys.stdout.flush()
    sys.exit(code)
