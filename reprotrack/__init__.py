"""reprotrack: make a notebook's research run a contract that staging can check.

In a notebook: ``%load_ext reprotrack``, ``%reprotrack start`` … ``%reprotrack save``. In scripts and
production code: ``reprotrack.start()``, ``reprotrack.checkpoint(name, obj)``, ``reprotrack.save()``.
In staging: ``reprotrack verify notebook.ipynb``.
"""

from __future__ import annotations

import sys
import types
from typing import Any

__version__ = "0.1.0"
__all__ = ["start", "stop", "save", "checkpoint", "fingerprint", "status", "__version__"]


def start(lock: str | None = None, *, notebook: str | None = None):
    """Start tracking. In IPython every later cell run is recorded; elsewhere checkpoints are."""
    from .session import Session, active

    current = active()
    if current is not None and current.running:
        if lock:
            from pathlib import Path

            current.lock_path = Path(lock).resolve()
        return current
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:  # pragma: no cover - IPython is a dependency
        shell = None
    return Session(shell, lock_path=lock, notebook=notebook).start()


def stop() -> None:
    from .session import active

    current = active()
    if current is not None:
        current.stop()


def save(path: str | None = None):
    """Write the lock (atomically); returns its path, or None if it could not be written (a warning says why)."""
    from .session import active

    current = active() or start()
    return current.save(path)


def checkpoint(name: str, obj: Any) -> dict[str, Any] | None:
    """Fingerprint ``obj`` under ``name`` in the lock; verify compares checkpoints by name."""
    from .session import active

    current = active() or start()
    return current.checkpoint(name, obj)


def status() -> str:
    from .session import active

    current = active()
    return current.summary() if current is not None else "reprotrack: not tracking"


def fingerprint(obj: Any) -> dict[str, Any]:
    """Canonical fingerprint of a value: type, shape, schema, content, rows, approx, stats."""
    from .fingerprint import fingerprint as _fingerprint

    return _fingerprint(obj)


def load_ipython_extension(ipython) -> None:
    from .magics import load_ipython_extension as _load

    _load(ipython)


def unload_ipython_extension(ipython) -> None:
    from .magics import unload_ipython_extension as _unload

    _unload(ipython)


class _Package(types.ModuleType):
    """Importing the engine ``reprotrack.fingerprint`` (lazily, by the captures) must not replace the
    public ``reprotrack.fingerprint`` function: the import system sets a submodule as a package attribute.
    The engine stays reachable as ``sys.modules["reprotrack.fingerprint"]`` and by ``from … import``."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "fingerprint" and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
