"""Fingerprints finished after the cell: one background thread per cell, results applied on the kernel's thread.

A ``Job`` is one value the data capture could not settle in the cell at little cost: a frozen frame or array
(``reprotrack.core.snapshot``, a private copy: its content and the rest of its fingerprint are both left to
the thread), or a value too large to copy whose content the cell hashed and whose rows, approx and stats
follow. The thread only
computes; it never writes into a cell record, which the session, the panel and the privacy policy read on
the kernel's thread. Results are applied by ``Deferred.settle`` on the kernel's thread, which the data
capture calls before any user code runs again (IPython's ``pre_execute``), before a cell's names are
captured, before a save and on stop: so no record is ever read half-written, and the next cell never runs
while the thread reads a value it could change.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class Job:
    """One value to finish. ``content``: the content hash the cell already computed (a live value, which
    must not change before the job is done), else None (a frozen value: the thread hashes it)."""

    name: str
    value: Any
    record: Any
    certain: bool
    parts: tuple[str, ...] | None
    prior: Any = None  #: what was last recorded for the name (``data._Seen``), if anything
    content: str | None = None
    frozen: Any = None  #: the ``Frozen`` snapshot the value came from, kept for the next comparison
    outcome: Any = None  #: a full fingerprint, ``UNCHANGED``, or the exception that stopped the job
    seconds: float = 0.0


#: A job's outcome when the value is provably the one recorded last time (its content is equal).
UNCHANGED = "unchanged"


class Deferred:
    """The queue of one cell's jobs and the thread that works through them."""

    def __init__(self, compute: Callable[[Job], Any]) -> None:
        self.compute = compute
        self.queued: list[Job] = []
        self.running: list[Job] = []
        self.worker: threading.Thread | None = None

    def submit(self, job: Job) -> None:
        self.queued.append(job)

    def drop(self) -> None:
        """Forget queued jobs (a capture that failed half-way: its values may change now)."""
        self.queued = []

    def start(self) -> None:
        jobs, self.queued = self.queued, []
        if not jobs:
            return
        self.running = jobs
        self.worker = threading.Thread(target=self._run, args=(jobs,), name="reprotrack-fingerprint", daemon=True)
        self.worker.start()

    def _run(self, jobs: list[Job]) -> None:
        for job in jobs:
            t0 = time.perf_counter()
            try:
                job.outcome = self.compute(job)
            except Exception as exc:  # noqa: BLE001 - reported when applied, on the kernel's thread
                job.outcome = exc
            job.seconds = time.perf_counter() - t0

    def settle(self) -> tuple[list[Job], float]:
        """Wait for the thread; the finished jobs and the seconds waited."""
        worker, self.worker = self.worker, None
        if worker is None:
            return [], 0.0
        t0 = time.perf_counter()
        worker.join()
        jobs, self.running = self.running, []
        return jobs, time.perf_counter() - t0
