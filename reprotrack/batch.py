"""Verify many notebooks at once: ``reprotrack verify NB1 NB2 … --jobs N``.

Each notebook is verified by ``reprotrack.verify.verify_notebook`` exactly as a single verify would be, one
fresh kernel per notebook. Notebooks of one folder run one after another, never at once (``by_folder``): they
share that folder's files, and parallel answers must be the serial ones. With ``jobs > 1`` notebooks run in a pool of worker *processes*
(``concurrent.futures``, spawn start method): nbclient drives its kernel from an asyncio loop and registers
atexit cleanups, which is robust with one kernel per process and fragile with many per thread; spawn (not
fork) keeps zmq/asyncio state of the parent out of the workers.

Outcomes are per notebook and never abort the batch: a notebook with bad input (missing, no lock, a corrupt
lock) is reported as ``error`` with its one-line reason, and the others still run.

Exit code rule (documented in the README): the overall code is the **largest** per-notebook code —
``3`` some notebook could not be executed > ``2`` some notebook had bad input > ``1`` some notebook differs >
``0`` every notebook reproduced. Both 3 and 2 mean "not verified", which is worse than a verified
difference; 3 ranks above 2 because it is the numerically larger code and means the environment itself is
broken. A usage error of the command line as a whole (a bad option, ``--lock`` with several notebooks) is
exit 2 before anything runs, as for a single notebook.

Interruption (README, Safety): SIGINT/SIGTERM to the parent reach the workers (``_Forward``), each running
replay stops as a single one does and comes back marked ``interrupted``; the CLI exits 128 + the signal.

Nothing here prints: the CLI renders with ``reprotrack.report.batch`` and reports progress through a callback.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from reprotrack import store
from reprotrack.core.diff.model import Report
from reprotrack.core.text import one_line
from reprotrack.errors import ReprotrackError
from reprotrack.verify import verify_notebook

STATUS_BY_EXIT = {0: "reproduced", 1: "differs", 2: "error", 3: "failed"}


@dataclass
class NotebookOutcome:
    """One notebook's verify: its exit code, the diff ``Report`` (None for bad input) and the reason."""

    notebook: str
    exit_code: int
    report: Report | None = None
    error: str | None = None  # bad input (exit 2): one line
    seconds: float = 0.0
    interrupted: int | None = None  # the signal that stopped its replay (SIGINT 2, SIGTERM 15)

    @property
    def status(self) -> str:
        if self.report is not None:
            return self.report.status
        return STATUS_BY_EXIT.get(self.exit_code, "error")


@dataclass
class BatchResult:
    outcomes: list[NotebookOutcome] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """The worst (largest) per-notebook code: 3 > 2 > 1 > 0 (see the module docstring)."""
        return max((o.exit_code for o in self.outcomes), default=0)

    @property
    def interrupted(self) -> int | None:
        """The signal that stopped the batch (its notebooks after the interrupted one were not run)."""
        return next((o.interrupted for o in self.outcomes if o.interrupted), None)


def verify_one(notebook: str, options: dict[str, Any]) -> NotebookOutcome:
    """Verify one notebook, turning bad input into an outcome (runs in a worker process)."""
    start = time.monotonic()
    try:
        result = verify_notebook(notebook, **options)
    except ReprotrackError as exc:
        return NotebookOutcome(notebook, exc.exit_code, error=one_line(str(exc)), seconds=time.monotonic() - start)
    return NotebookOutcome(notebook, result.exit_code, report=result.report, seconds=time.monotonic() - start,
                           interrupted=result.replay.interrupted)


def verify_many(
    notebooks: Sequence[str | os.PathLike[str]],
    *,
    jobs: int = 1,
    done: Callable[[NotebookOutcome], None] | None = None,
    **options: Any,
) -> BatchResult:
    """Verify ``notebooks`` (duplicates, by resolved path, run once) with up to ``jobs`` at a time;
    ``options`` are ``verify_notebook``'s keywords (kernel, order, pin_seeds, timeout, rtol, atol).
    Outcomes come back in the order the notebooks were given; ``done`` is called as each finishes."""
    if "lock" in options or "save_replay" in options or "progress" in options:
        raise ReprotrackError("--lock, --save-replay and per-cell progress apply to one notebook only")
    unique = _unique(notebooks)
    outcomes: dict[str, NotebookOutcome] = {}

    def finish(outcome: NotebookOutcome) -> None:
        outcomes[outcome.notebook] = outcome
        if done is not None:
            done(outcome)

    groups = by_folder(unique)
    if jobs <= 1 or len(groups) == 1:
        for nb in unique:
            finish(verify_one(nb, options))
            if outcomes[nb].interrupted:  # Ctrl-C or SIGTERM: the notebooks after it are not started
                break
    else:
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        workers = min(jobs, len(groups))
        ready = context.Array("i", workers)  # the pids of workers whose signal handlers are in place
        with _Forward(ready) as forward, ProcessPoolExecutor(max_workers=workers, mp_context=context,
                                                             initializer=_worker_start, initargs=(ready,)) as pool:
            pending: dict[Future, list[str]] = {pool.submit(verify_group, group, options): group for group in groups}
            try:
                while pending:
                    finished, _ = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                    if forward.signal is not None:  # groups not handed to a worker yet are not started
                        forward.tell()  # a worker that was still starting when the signal came
                        for future in [f for f in pending if f.cancel()]:
                            del pending[future]
                    for future in finished:
                        for outcome in _results(future, pending.pop(future)):
                            finish(outcome)
            except BaseException:
                for future in pending:
                    future.cancel()
                raise
    return BatchResult([outcomes[nb] for nb in unique if nb in outcomes])


def by_folder(notebooks: list[str]) -> list[list[str]]:
    """Notebooks grouped by the folder they run in, in the order given. Notebooks of one folder share its
    files (a scratch file one writes and another reads, outputs written by relative path), so running them
    at once would make their results depend on timing: each group runs one notebook after another, and only
    groups run in parallel. (Running each in a copy of its folder would break notebooks that use absolute
    paths or write results beside themselves on purpose.)"""
    groups: dict[str, list[str]] = {}
    for nb in notebooks:
        groups.setdefault(os.path.realpath(Path(nb).expanduser().parent), []).append(nb)
    return list(groups.values())


def verify_group(notebooks: list[str], options: dict[str, Any]) -> list[NotebookOutcome]:
    """The notebooks of one folder, one after another (runs in a worker process); an interrupted one ends it."""
    done: list[NotebookOutcome] = []
    for nb in notebooks:
        if _STOPPED is not None:  # the batch was interrupted between two notebooks: this one is not started
            break
        done.append(verify_one(nb, options))
        if done[-1].interrupted:
            break
    return done


class _Forward:
    """SIGINT/SIGTERM to the parent of a parallel batch reach its workers: each replay then stops as a serial one
    does (its running cell interrupted, its kernel shut down, its partial report kept) and its notebook comes back
    marked interrupted; groups not started are not run. Without this, SIGTERM would kill the parent alone and
    leave the workers and their kernels running. Workers sit in their own process group (``_worker_start``) so that
    a Ctrl-C at the terminal reaches them once, through here, and not twice (a second signal means "at once").
    Main thread only; elsewhere the handlers stay as they are."""

    SIGNALS = ("SIGINT", "SIGTERM")

    def __init__(self, ready: Any) -> None:
        self.ready = ready
        self.told: set[int] = set()
        self.signal: int | None = None
        self.previous: dict[int, Any] = {}

    def __enter__(self) -> "_Forward":
        import signal
        import threading

        if threading.current_thread() is threading.main_thread():
            for name in self.SIGNALS:
                number = getattr(signal, name, None)
                if number is not None:
                    self.previous[number] = signal.signal(number, self._on_signal)
        return self

    def __exit__(self, *exc: object) -> None:
        import signal

        for number, handler in self.previous.items():
            signal.signal(number, handler if handler is not None else signal.SIG_DFL)

    def _on_signal(self, number: int, frame: object) -> None:
        if self.signal is None:
            self.signal = number
            self.tell()
        else:  # a second signal: every worker gets it too (its replay then shuts its kernel down at once)
            self.told.clear()
            self.tell(number)

    def tell(self, number: int | None = None) -> None:
        """Pass the signal to every ready worker not told yet. Only ready ones: a worker still starting would die
        of it (the default action) and take the pool down; it is told once it is ready."""
        for pid in self.ready.get_obj()[:]:
            if pid and pid not in self.told:
                self.told.add(pid)
                try:
                    os.kill(pid, number or self.signal or 0)
                except (ProcessLookupError, PermissionError):
                    pass


_STOPPED: int | None = None  # in a worker: the signal forwarded to it, so that it starts no further notebook


def _worker_start(ready: Any) -> None:
    """A worker's set-up: its own process group, and SIGINT/SIGTERM noted (and passed to a replay about to start)
    instead of killing the worker; a running replay handles them itself (``reprotrack.replay.driver``)."""
    import signal

    from reprotrack.replay.driver import note_signal

    def on_signal(number: int, frame: object) -> None:
        global _STOPPED
        _STOPPED = _STOPPED or number
        note_signal(number)

    store.skip_slow_format_checkers()  # a worker reads notebooks and locks like the command that spawned it
    try:
        os.setpgrp()
    except (AttributeError, OSError):  # not POSIX
        pass
    for name in _Forward.SIGNALS:
        number = getattr(signal, name, None)
        if number is not None:
            signal.signal(number, on_signal)
    with ready.get_lock():
        slots = ready.get_obj()
        free = next((i for i, pid in enumerate(slots) if pid == 0), None)
        if free is not None:
            slots[free] = os.getpid()


def _results(future: Future, notebooks: list[str]) -> list[NotebookOutcome]:
    """A worker that crashed (not a notebook that failed: that is exit 3 inside) is exit 3 for its notebooks."""
    try:
        return future.result()
    except Exception as exc:  # a worker process that died, an unpicklable result
        return [NotebookOutcome(nb, 3, error=f"the verify worker failed: {one_line(repr(exc))}") for nb in notebooks]


def _unique(notebooks: Sequence[str | os.PathLike[str]]) -> list[str]:
    seen: dict[str, None] = {}
    for nb in notebooks:
        p = Path(nb).expanduser()
        key = str(p.resolve()) if p.exists() else str(p)
        seen.setdefault(key, None)
    return list(seen)
