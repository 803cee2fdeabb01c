"""reprotrack: make a notebook's research run a contract that staging can check.

In a notebook: ``%load_ext reprotrack``, ``%reprotrack start`` … ``%reprotrack save``. In scripts and
production code: ``reprotrack.start()``, ``reprotrack.checkpoint(name, obj)``, ``reprotrack.save()``.
In staging: ``reprotrack verify notebook.ipynb``.

This module is the public API only. Importing it loads nothing heavy (no IPython, no pandas): every IPython
shell of an environment with reprotrack installed imports it at start-up. The layers below it are
``core`` (pure), ``kernel`` (the session and its captures), ``replay`` and the command-line faces.
"""

from __future__ import annotations

from typing import Any

from reprotrack._version import __version__

__all__ = ["start", "stop", "save", "checkpoint", "fingerprint", "status", "drift", "expect", "__version__"]


def start(lock: str | None = None, *, notebook: str | None = None):
    """Start tracking (or resume the session already tracking). In IPython every later cell run is
    recorded; elsewhere checkpoints are."""
    from reprotrack.kernel.session import start_or_resume

    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:  # pragma: no cover - IPython is a dependency
        shell = None
    return start_or_resume(shell, lock=lock, notebook=notebook)[0]


def stop() -> None:
    from reprotrack.kernel.context import active

    current = active()
    if current is not None:
        current.stop()


def save(path: str | None = None):
    """Write the lock (atomically); returns its path, or None if it could not be written (a warning says why)."""
    from reprotrack.kernel.context import active

    current = active() or start()
    return current.save(path)


def checkpoint(name: str, obj: Any) -> dict[str, Any] | None:
    """Fingerprint ``obj`` under ``name`` in the lock; verify compares checkpoints by name."""
    from reprotrack.kernel.context import active

    current = active() or start()
    return current.checkpoint(name, obj)


def status() -> str:
    from reprotrack.kernel.context import active

    current = active()
    return current.summary() if current is not None else "reprotrack: not tracking"


def fingerprint(obj: Any) -> dict[str, Any]:
    """Canonical fingerprint of a value: type, shape, schema, content, rows, approx, stats."""
    from reprotrack.core.fingerprint import fingerprint as _fingerprint

    return _fingerprint(obj)


def drift(lock: Any, checkpoint: str, data: Any, **thresholds: Any):
    """New data (a pandas/Dask/Spark frame, or CSV/Parquet paths) against the statistics the research
    ``lock`` holds for ``checkpoint``: a ``DriftReport`` (``.status`` is "drift" or "no-drift"). No copy of the
    research data is needed; Dask and Spark frames are counted by their own engine."""
    from reprotrack.drift_check import drift as _drift

    return _drift(lock, checkpoint, data, **thresholds)


def load_ipython_extension(ipython) -> None:
    from reprotrack.kernel.magics import load_ipython_extension as _load

    _load(ipython)


def unload_ipython_extension(ipython) -> None:
    from reprotrack.kernel.magics import unload_ipython_extension as _unload

    _unload(ipython)
