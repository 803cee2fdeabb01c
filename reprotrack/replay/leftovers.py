"""Processes a notebook left running: what the replay ends when its kernel is shut down.

A cell may start a server, a watcher or a worker with ``start_new_session=True`` (or ``nohup``, or a daemon);
shutting the kernel down does not end it, and a CI job then hangs on it or a second verify finds its port
taken. The replay lists the kernel's descendants before the shutdown (after it they are re-parented and can
no longer be told apart from anyone else's) and ends those still alive after it: SIGTERM, then SIGKILL after
a grace period. Uses psutil (a dependency of ipykernel); without it nothing is ended.
"""

from __future__ import annotations

from typing import Any

from reprotrack.core.text import one_line

#: Seconds a left-over process gets between SIGTERM and SIGKILL.
GRACE_SECONDS = 3.0
#: Seconds the kernel's descendants get to exit on their own once the kernel is gone.
SETTLE_SECONDS = 1.0


def descendants(pid: int | None) -> list[Any]:
    """The live descendants of process ``pid`` (``psutil.Process`` objects); empty when unknown."""
    if not pid:
        return []
    try:
        import psutil

        return psutil.Process(pid).children(recursive=True)
    except Exception:  # noqa: BLE001 - no psutil, the kernel already gone, no permission
        return []


def end(processes: list[Any], grace: float = GRACE_SECONDS) -> list[str]:
    """End the processes still alive; returns ``"pid 123 (sleep 600)"`` for each one that was."""
    if not processes:
        return []
    import psutil

    # helpers that follow their parent out (joblib/loky workers, multiprocessing pools) get a moment to go
    _, running = psutil.wait_procs(processes, timeout=SETTLE_SECONDS)
    alive = []
    for proc in running:
        try:
            if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                alive.append((proc, _describe(proc)))
        except psutil.Error:
            continue
    for proc, _ in alive:
        try:
            proc.terminate()
        except psutil.Error:
            pass
    _, stubborn = psutil.wait_procs([p for p, _ in alive], timeout=grace)
    for proc in stubborn:
        try:
            proc.kill()
        except psutil.Error:
            pass
    return [text for _, text in alive]


def _describe(proc: Any) -> str:
    try:
        command = " ".join(proc.cmdline()) or proc.name()
    except Exception:  # noqa: BLE001
        command = "?"
    return f"pid {proc.pid} ({one_line(command, 80)})"
