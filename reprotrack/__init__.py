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

__all__ = ["start", "stop", "save", "checkpoint", "fingerprint", "status", "__version__"]


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


def load_ipython_extension(ipython) -> None:
    from reprotrack.kernel.magics import load_ipython_extension as _load

    _load(ipython)


def unload_ipython_extension(ipython) -> None:
    from reprotrack.kernel.magics import unload_ipython_extension as _unload

    _unload(ipython)
