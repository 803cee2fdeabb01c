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


def start(lock: str | None = None, *, notebook: str | None = None, privacy: str | None = None):
    """Start tracking (or resume the session already tracking). In IPython every later cell run is
    recorded; in a plain script, the stages between its checkpoints are (seeds, randomness, inputs, splits).
    ``privacy`` (values | safe | hashed) overrides ``[tool.reprotrack]``."""
    from reprotrack.kernel.context import active
    from reprotrack.kernel.session import start_or_resume

    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:  # pragma: no cover - IPython is a dependency
        shell = None
    if shell is None and notebook is None and active() is None:
        # a plain script: its seeds, inputs and splits are recorded in stages between its checkpoints
        from reprotrack.kernel.script import start_script_session

        return start_script_session(lock, privacy=privacy)
    return start_or_resume(shell, lock=lock, notebook=notebook, privacy=privacy)[0]


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


def expect(name: str, value: Any, *, min: Any = None, max: Any = None, within: Any = None, against: Any = None,
           data: Any = None, checkpoint: str | None = None, **thresholds: Any):
    """A performance requirement: ``expect("auc", auc, min=0.80)``. In a research run it is recorded in the
    lock with its value (verify fails when a replay breaks it). With ``against=RESEARCH_LOCK`` it is a
    now-test: ``value`` is checked against the research requirement (``min``/``max``/``within`` stand in when
    the lock has none) and, given the ``data`` the model scored and its ``checkpoint``, the drift report of that
    data comes alongside; returns a ``NowTest`` (``.ok``, ``.requirements``, ``.drift``)."""
    bounds = {k: v for k, v in (("min", min), ("max", max), ("within", within)) if v is not None}
    if against is not None:
        from reprotrack.nowtest import now_test

        result = now_test(against, {name: value}, data=data, checkpoint=checkpoint,
                          bounds={name: bounds} if bounds else None, **thresholds)
        from reprotrack.kernel.context import active

        current = active()
        if current is not None:  # a tracked production run keeps today's value under the research requirement
            checked = result.requirements[0]["requirement"]
            current.expect(name, value, **{k: checked[k] for k in ("min", "max", "within") if k in checked})
        return result
    from reprotrack.kernel.context import active

    current = active() or start()
    return current.expect(name, value, **bounds)


def load_ipython_extension(ipython) -> None:
    from reprotrack.kernel.magics import load_ipython_extension as _load

    _load(ipython)


def unload_ipython_extension(ipython) -> None:
    from reprotrack.kernel.magics import unload_ipython_extension as _unload

    _unload(ipython)
