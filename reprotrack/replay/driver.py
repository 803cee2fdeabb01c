"""Run a notebook headless in a fresh kernel with tracking on: the engine of ``record`` and ``verify``.

The replay owns its kernel and always shuts it down, on success, on a cell that raises, on a timeout and on a
kernel that dies (nbclient's ``async_setup_kernel`` context; no orphaned kernel processes). Each code cell is
sent with its nbformat ``id`` as the Jupyter ``cellId`` and its position in ``metadata.reprotrack.index``
(ipykernel hands both to IPython, where ``reprotrack.kernel.session`` reads them): nbclient sends neither.

Which cells run, and in which order, is a ``plan`` (pure): for a record every code cell top-down; for a verify
the research lock's execution order (cells mapped by id, else source hash, else position), or the notebook's
order with ``--order notebook``. The kernel side lives in ``reprotrack.replay.agent``, reached in the kernel through the shim
``reprotrack.replaying`` (the name every version injects).

It never interprets results: ``reprotrack.verify`` turns the two locks into a report.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import math
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from reprotrack import store
from reprotrack.core import lockfile
from reprotrack.core.lockfile import FINGERPRINT_FORMAT, Lock
from reprotrack.core.text import cell_name, one_line
from reprotrack.errors import ExecutionError, ReprotrackError
from reprotrack.kernel.context import is_control_cell
from reprotrack.replay import leftovers
from reprotrack.replay.agent import read_partial

if TYPE_CHECKING:  # pragma: no cover
    from nbformat import NotebookNode

#: Seconds a silent bookkeeping call (setup, finish) may take.
SILENT_TIMEOUT = 120.0


@dataclass
class Step:
    """One cell execution of the replay: notebook position, and whether the tracker records it."""

    index: int
    tracked: bool = True


@dataclass
class CellRun:
    """What happened to one step: ``ok``, ``error`` (the cell raised), ``timeout`` or ``died``."""

    index: int
    cell_id: str | None
    status: str
    seconds: float


@dataclass
class ReplayResult:
    """The lock the kernel wrote (or the partial one rebuilt from what it appended before dying)."""

    lock: Lock | None
    runs: list[CellRun] = field(default_factory=list)
    execution_error: str | None = None
    kernel: str = ""
    #: the signal (SIGINT 2, SIGTERM 15) that stopped the replay early; None when it ran to its end
    interrupted: int | None = None
    #: background processes the notebook left running, ended with the kernel (``replay.leftovers``)
    ended: list[str] = field(default_factory=list)
    #: the text of ``lock`` as the kernel wrote it (None for a partial lock)
    lock_text: str | None = None

    @property
    def ok(self) -> bool:
        return self.execution_error is None


Progress = Callable[[int, int, CellRun], None]


@dataclass(frozen=True)
class ReplayJob:
    """What one headless run of a notebook is: which cells in which order, in which kernel, for how long, and
    how and where the kernel records (``mode`` ``record`` or ``replay``, the lock it writes, the partial file it
    appends to as cells finish, the research seeds it pins, the privacy policy and salt it records under)."""

    notebook: Path
    steps: tuple[Step, ...]
    mode: str
    lock_out: Path
    partial: Path
    kernel: str | None = None
    #: seconds one cell may run (None: no limit)
    timeout: float | None = None
    #: the research lock's cells whose seeds the replay pins (``verify --pin-seeds``)
    pins: list[dict[str, Any]] | None = None
    #: ``{"policy", "salt"}``: a replay records under the research lock's, so that labels compare
    privacy: dict[str, str] | None = None
    #: the notebook already read (None: ``run`` reads it) and whether its cells carry nbformat ids
    nb: NotebookNode | None = None
    has_ids: bool = True

    def setup_code(self) -> str:
        """The silent call that sets reprotrack up in the fresh kernel for this job."""
        kwargs = {"mode": self.mode, "lock_out": str(self.lock_out), "notebook": str(self.notebook),
                  "partial": str(self.partial)}
        if self.privacy:
            kwargs.update({k: str(self.privacy[k]) for k in ("policy", "salt") if self.privacy.get(k)})
        pin_arg = f", pins=__import__('json').loads({json.dumps(json.dumps(self.pins))})" if self.pins else ""
        args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
        return f"__import__('reprotrack.replaying').replaying.setup({args}{pin_arg})"


# -- which cells run ------------------------------------------------------------------------------------
@dataclass
class NotebookCell:
    index: int
    id: str | None
    sha256: str
    control: bool
    starts: bool = False  # a control cell that starts tracking (``%reprotrack start``)


def code_cells(nb: NotebookNode, *, with_ids: bool = True) -> list[NotebookCell]:
    """The notebook's non-empty code cells (empty cells are never executed by any frontend)."""
    cells = []
    for index, cell in enumerate(nb.cells):
        if cell.get("cell_type") != "code" or not str(cell.get("source", "")).strip():
            continue
        source = cell.source
        cid = cell.get("id") if with_ids else None
        control = is_control_cell(source)
        cells.append(NotebookCell(index, cid if isinstance(cid, str) else None, lockfile.sha256_text(source), control,
                                  control and "%reprotrack start" in source))
    return cells


def plan(cells: list[NotebookCell], research: Lock | None = None, order: str = "recorded") -> list[Step]:
    """The replay's steps. Without a research lock (``record``): every code cell top-down, tracked.

    With one: each research record mapped to a notebook cell (by id, else source sha256, else its recorded
    position, so a cell whose source changed still runs where it was); records with no cell are skipped (the
    diff says cell-missing). A cell the research never ran is never skipped: a replay must not pass a
    notebook whose code it did not run. It runs, tracked, in its notebook position (before the first step
    that stands below it), so the diff reports it as ``cell-added`` with what it changed downstream;
    reprotrack's own control cells run there too, and the preamble before the first recorded cell (what
    the research ran before ``%reprotrack start``) runs untracked. ``order="notebook"`` runs every code
    cell top-down.
    """
    if order not in ("recorded", "notebook"):
        raise ReprotrackError(f"unknown order {order!r}: use recorded or notebook")
    if research is None:
        return [Step(c.index) for c in cells]
    by_id = {c.id: c for c in cells if c.id}
    by_index = {c.index: c for c in cells}
    by_sha: dict[str, list[NotebookCell]] = {}
    for c in cells:
        by_sha.setdefault(c.sha256, []).append(c)
    found: list[NotebookCell | None] = []
    for record in research.cells:
        match = by_id.get(record.id)
        if match is None and record.source_sha256 in by_sha:
            same = by_sha[record.source_sha256]
            match = next((c for c in same if c.index == record.index), same[0])
        found.append(match)
    # a record found neither by id nor by source is an edited cell where it was recorded, unless another
    # record claims the cell now at that position (cells were inserted or deleted above it)
    claimed = {c.index for c in found if c is not None}
    sequence: list[int] = []
    for record, match in zip(research.cells, found):
        if match is None and record.index is not None and record.index not in claimed:
            match = by_index.get(record.index)
        if match is not None:
            sequence.append(match.index)
    if not sequence:
        return []
    first = min(sequence)
    ran = set(sequence)
    extras = [c for c in cells if c.index not in ran]
    # the preamble research ran before tracking: above its ``%reprotrack start`` (when the notebook has one
    # above the first recorded cell), else above the first recorded cell; a cell inserted between the start
    # and the first recorded cell is tracked like any other cell research never ran
    start = max((c.index for c in cells if c.starts and c.index < first), default=first)
    untracked = {c.index for c in extras if c.index < start and not c.control}
    if order == "notebook":
        # "Restart & Run All": every code cell top-down, the ones research never ran included (the diff
        # says cell-added); the preamble before the first recorded cell stays untracked
        return [Step(c.index, c.index not in untracked) for c in cells]
    steps = [Step(i) for i in sequence]
    for extra in extras:  # ascending: each goes before the first step that stands below it in the notebook
        at = next((k for k, step in enumerate(steps) if step.index > extra.index), len(steps))
        steps.insert(at, Step(extra.index, extra.index not in untracked))
    return steps


# -- running them -----------------------------------------------------------------------------------------
def read_notebook(path: Path) -> tuple[NotebookNode, bool]:
    """The notebook and whether its cell ids are real (nbformat ≥ 4.5): older files get random ids on read,
    which must never be sent as cell ids (they would differ between record and verify)."""
    import nbformat

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ReprotrackError(f"no notebook at {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ReprotrackError(f"cannot read notebook {path}: {exc}") from None
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise ReprotrackError(f"{path} is not a Jupyter notebook (not JSON: {one_line(exc, 200)})") from None
    problem = notebook_shape_problem(raw)
    if problem:
        raise ReprotrackError(f"{path} is not a valid Jupyter notebook: {problem}")
    try:
        has_ids = raw.get("nbformat") == 4 and int(raw.get("nbformat_minor", 0)) >= 5
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nb = nbformat.reads(text, as_version=4)
        _ = [cell.get("cell_type") for cell in nb.cells]
    except Exception as exc:  # noqa: BLE001 - nbformat raises many kinds for a malformed file
        raise ReprotrackError(f"{path} is not a Jupyter notebook ({type(exc).__name__}: {one_line(exc, 300)})") from None
    return nb, bool(has_ids)


def notebook_shape_problem(raw: Any) -> str | None:
    """What makes parsed JSON unusable as a notebook (nbformat only warns), in a few words; None if usable."""
    if not isinstance(raw, dict):
        return "the top level is not an object"
    cells = raw.get("cells", [])
    if not isinstance(cells, list):
        return '"cells" is not a list'
    for index, cell in enumerate(cells):
        if not isinstance(cell, dict) or not isinstance(cell.get("cell_type"), str):
            return f"cell {index} is not a cell object with a cell_type"
        source = cell.get("source", "")
        if not isinstance(source, str) and not (isinstance(source, list) and all(isinstance(x, str) for x in source)):
            return f'cell {index} has a "source" that is neither text nor a list of lines ({type(source).__name__})'
    metadata = raw.get("metadata", {})
    if not isinstance(metadata, dict):
        return '"metadata" is not an object'
    spec = metadata.get("kernelspec")
    if spec is not None and not isinstance(spec, dict):
        return f'"metadata.kernelspec" is a {type(spec).__name__}, not an object'
    if isinstance(spec, dict) and spec.get("name") is not None and not isinstance(spec.get("name"), str):
        return '"metadata.kernelspec.name" is not text'
    return None


def kernel_name_for(nb: NotebookNode, kernel: str | None) -> str:
    if kernel:
        return kernel
    spec = nb.get("metadata", {}).get("kernelspec") or {}
    return spec.get("name") or "python3"


def run(job: ReplayJob, *, progress: Progress | None = None) -> ReplayResult:
    """Execute ``job.steps`` of ``job.notebook`` in a fresh kernel (working directory: the notebook's folder);
    ``progress`` is called after each step."""
    from jupyter_core.utils import run_sync

    if job.nb is None:
        nb, has_ids = read_notebook(job.notebook)
        job = replace(job, nb=nb, has_ids=has_ids)
    return run_sync(_run)(job, progress)


async def _run(job: ReplayJob, progress: Progress | None) -> ReplayResult:
    from jupyter_client.kernelspec import NoSuchKernel
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    notebook, nb, steps, timeout = job.notebook, job.nb, job.steps, job.timeout
    name = kernel_name_for(nb, job.kernel)
    client = _client(nb, name, timeout, notebook.parent)
    result = ReplayResult(lock=None, kernel=name)
    env = dict(os.environ, JPY_SESSION_NAME=str(notebook))
    log_path = job.partial.with_name(job.partial.stem + ".kernel.log")
    log = open(log_path, "wb")  # the kernel's own stderr: shown only when it fails
    stop = _Stop(client)
    stop.remember()
    client.before_start = stop.install  # right after nbclient's own handlers, which would kill the kernel mid-cell
    try:
        async with client.async_setup_kernel(env=env, stdout=log, stderr=log):
            await _silent(client, job.setup_code(), "setting up reprotrack in the kernel")
            tracked = True
            for position, step in enumerate(steps, 1):
                if stop.signal is not None:
                    break
                cell = nb.cells[step.index]
                if not step.tracked or not tracked:
                    await _silent(client, f"__import__('reprotrack.replaying').replaying.pause({not step.tracked})", "pausing")
                    tracked = step.tracked
                client.pending_meta = {"reprotrack": {"index": step.index}}
                if job.has_ids and isinstance(cell.get("id"), str):
                    client.pending_meta["cellId"] = cell.id
                client.reply_status = None
                t0 = time.perf_counter()
                status = "ok"
                try:
                    await client.async_execute_cell(cell, step.index, store_history=True)
                    status = "error" if client.reply_status == "error" else "ok"
                except CellTimeoutError:
                    status = "timeout"
                    result.execution_error = f"{cell_name(step.index)} timed out after {timeout:g} s"
                except DeadKernelError:
                    status = "died"
                    result.execution_error = f"the kernel died while running {cell_name(step.index)}"
                run_ = CellRun(step.index, cell.get("id"), status, round(time.perf_counter() - t0, 3))
                result.runs.append(run_)
                if progress is not None:
                    progress(position, len(steps), run_)
                if status in ("timeout", "died"):
                    break
            if stop.signal is not None and result.execution_error is None:
                result.interrupted = stop.signal
                result.execution_error = f"interrupted by {signal_name(stop.signal)}"
            timed_out = bool(result.runs) and result.runs[-1].status == "timeout"
            if result.execution_error is None or timed_out or result.interrupted:
                if timed_out:
                    await _interrupt(client)
                await _silent(client, "__import__('reprotrack.replaying').replaying.finish()", "saving the lock",
                              timeout=30 if timed_out or result.interrupted else SILENT_TIMEOUT)

                result.lock, result.lock_text = store.read_written_lock(job.lock_out)
    except NoSuchKernel:
        raise ReprotrackError(f"no kernel named {name!r}; see `jupyter kernelspec list`") from None
    except ExecutionError as exc:
        result.execution_error = result.execution_error or str(exc)
    except (DeadKernelError, RuntimeError, TimeoutError, asyncio.TimeoutError) as exc:
        result.execution_error = result.execution_error or f"the kernel {name!r} failed: {one_line(exc, 300)}"
    finally:
        stop.uninstall()
        log.close()
        atexit.unregister(client._cleanup_kernel)  # nbclient leaves it registered when the kernel never started
        if client.km is not None and client.km.has_kernel:  # pragma: no cover - belt and braces: never orphan
            await _maybe_await(client.km.shutdown_kernel(now=True))
        result.ended = leftovers.end(client.left_behind)
    if stop.signal is not None and result.interrupted is None:
        result.interrupted = stop.signal
        result.execution_error = result.execution_error or f"interrupted by {signal_name(stop.signal)}"
    if result.execution_error is not None:
        tail = _log_tail(log_path)
        if tail:
            result.execution_error += f" (kernel said: {tail})"
    if result.lock is None:
        result.lock = _partial_lock(job.partial, notebook)
    return result


class _Stop:
    """SIGINT/SIGTERM while a replay runs: the running cell is interrupted, no further cell starts, the lock of
    what ran is saved and the kernel shut down as usual; a second signal shuts the kernel down at once. The
    handlers are the event loop's (main thread only; elsewhere the default behaviour stays) and the previous
    ones come back afterwards."""

    SIGNALS = ("SIGINT", "SIGTERM")

    def __init__(self, client: Any) -> None:
        self.client = client
        self.signal: int | None = None
        self.previous: dict[int, Any] = {}
        self.loop: asyncio.AbstractEventLoop | None = None

    def remember(self) -> None:
        """The handlers to put back afterwards (nbclient's and asyncio's removal would leave the defaults)."""
        import signal
        import threading

        if threading.current_thread() is not threading.main_thread():
            return
        for name in self.SIGNALS:
            number = getattr(signal, name, None)
            if number is not None:
                self.previous[number] = signal.getsignal(number)

    def install(self) -> None:
        if not self.previous:
            return
        if _NOTED is not None and self.signal is None:  # arrived while the kernel was starting: run no cell
            self.signal = _NOTED
        self.loop = asyncio.get_running_loop()
        for number in self.previous:
            try:
                self.loop.add_signal_handler(number, self._on_signal, number)
            except (NotImplementedError, RuntimeError, ValueError):
                pass

    def uninstall(self) -> None:
        import signal

        for number, handler in self.previous.items():
            try:
                if self.loop is not None:
                    self.loop.remove_signal_handler(number)
                signal.signal(number, handler if handler is not None else signal.SIG_DFL)
            except (RuntimeError, ValueError, TypeError):
                pass
        self.previous = {}

    def _on_signal(self, number: int) -> None:
        km = self.client.km
        if self.signal is None:
            self.signal = number
            if km is not None:
                asyncio.ensure_future(_interrupt(self.client))
        elif km is not None:  # the second one: no more waiting
            asyncio.ensure_future(_maybe_await(km.shutdown_kernel(now=True)))


_NOTED: int | None = None


def note_signal(number: int) -> None:
    """A SIGINT/SIGTERM this process received outside a replay's own handlers (a ``--jobs`` worker between
    notebooks or while a kernel starts): a replay installing its handlers afterwards stops before its first cell."""
    global _NOTED
    _NOTED = _NOTED or number


def signal_name(number: int) -> str:
    import signal

    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _kernel_pid(client: Any) -> int | None:
    provisioner = getattr(getattr(client, "km", None), "provisioner", None)
    pid = getattr(provisioner, "pid", None)
    return pid if isinstance(pid, int) else None


def _client(nb: NotebookNode, name: str, timeout: float | None, cwd: Path):
    from nbclient import NotebookClient

    class _Client(NotebookClient):
        """nbclient with cell ids and positions in each execute_request's metadata."""

        pending_meta: dict[str, Any] | None = None
        reply_status: str | None = None
        before_start: Callable[[], None] | None = None
        left_behind: list[Any] = []

        async def _async_cleanup_kernel(self) -> None:
            # what the notebook started is listed while it still descends from the kernel
            self.left_behind = leftovers.descendants(_kernel_pid(self))
            await super()._async_cleanup_kernel()

        async def async_start_new_kernel(self, **kwargs):
            if self.before_start is not None:
                self.before_start()
            return await super().async_start_new_kernel(**kwargs)

        async def async_start_new_kernel_client(self):
            kc = await super().async_start_new_kernel_client()
            plain = kc.execute

            def execute(code, silent=False, store_history=True, user_expressions=None, allow_stdin=None, stop_on_error=True):
                meta, self.pending_meta = self.pending_meta, None
                if meta is None or silent:
                    return plain(code, silent=silent, store_history=store_history, stop_on_error=stop_on_error)
                content = {"code": code, "silent": False, "store_history": store_history, "user_expressions": {},
                           "allow_stdin": False, "stop_on_error": stop_on_error}
                msg = kc.session.msg("execute_request", content, metadata=meta)
                kc.shell_channel.send(msg)
                return msg["header"]["msg_id"]

            kc.execute = execute
            return kc

    client = _Client(
        nb,
        kernel_name=name,
        timeout=math.ceil(timeout) if timeout else None,  # nbclient counts whole seconds
        allow_errors=True,
        startup_timeout=60,
        shutdown_kernel="graceful",
        resources={"metadata": {"path": str(cwd)}},
    )

    def on_executed(cell: Any, cell_index: int, execute_reply: dict[str, Any]) -> None:
        client.reply_status = (execute_reply or {}).get("content", {}).get("status")

    client.on_cell_executed = on_executed
    return client


async def _silent(client: Any, code: str, what: str, timeout: float = SILENT_TIMEOUT) -> None:
    """Run bookkeeping code silently (no cell record, no history); raise ``ExecutionError`` if it fails."""
    from queue import Empty

    msg_id = client.kc.execute(code, silent=True, store_history=False, stop_on_error=False)
    deadline = time.monotonic() + timeout
    while True:
        try:
            msg = await client.kc.shell_channel.get_msg(timeout=1)
        except Empty:
            if not await client.kc.is_alive():
                raise ExecutionError(f"the kernel died while {what}") from None
            if time.monotonic() > deadline:
                raise ExecutionError(f"the kernel did not answer in {timeout:g} s while {what}") from None
            continue
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        content = msg["content"]
        if content.get("status") == "error":
            detail = f"{content.get('ename')}: {content.get('evalue')}"
            if content.get("ename") == "ModuleNotFoundError" and "reprotrack" in str(content.get("evalue")):
                detail = "reprotrack is not installed in the kernel's environment; install it there"
            raise ExecutionError(f"{what} failed: {one_line(detail, 300)}")
        return


async def _interrupt(client: Any) -> None:
    try:
        await asyncio.wait_for(asyncio.ensure_future(_maybe_await(client.km.interrupt_kernel())), 10)
    except Exception:  # noqa: BLE001 - the finish call below reports a kernel that will not stop
        pass


async def _maybe_await(value: Any) -> Any:
    return await value if asyncio.iscoroutine(value) or isinstance(value, asyncio.Future) else value


def _partial_lock(partial: Path, notebook: Path) -> Lock:
    """What a dead kernel got to write: its cell records and last environment, as a replay lock."""
    environment, cells = read_partial(partial)
    return Lock.from_dict(
        {"environment": environment, "cells": cells, "notebook": notebook.name, "mode": "replay",
         "fingerprint_format": FINGERPRINT_FORMAT, "code_inputs": True,
         "notes": ["partial: the kernel stopped before the replay finished"]}
    )


def _log_tail(path: Path) -> str:
    """The last meaningful line the kernel wrote to its stderr (its own transport warnings left out)."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    useful = [ln.strip() for ln in lines if ln.strip() and "without encryption" not in ln and "KeyboardInterrupt caught" not in ln]
    return one_line(useful[-1], 200) if useful else ""
