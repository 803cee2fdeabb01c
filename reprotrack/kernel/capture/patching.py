"""Reversible instrumentation of library functions and methods.

The seeds, randomness and split captures learn what a cell did by wrapping a handful of library callables
(``numpy.random.seed``, ``KFold.split``, ``DataFrame.sample``…). A ``Patcher`` remembers every original it
replaces and puts each one back on ``restore_all`` (``%reprotrack stop``): after a stop the library
attributes are the very same objects as before the start.

Libraries imported after ``start`` are patched the moment they are imported, also inside the cell that
uses them: ``when_imported(module, fn)`` registers a patch function that runs as soon as the module's body
has run (``reprotrack.kernel.capture.imports``), before the importing statement binds any name. ``poll()``
(called from ``before_cell``: a dict lookup per pending module) catches modules imported some other way (a
thread, a custom loader). Nothing here ever imports a library.

``from sklearn.model_selection import train_test_split`` run before ``start`` binds the original function
in the user's namespace, where a module patch cannot reach it; ``rebind(namespace)`` replaces such names
with the wrapper (and ``restore_all`` puts the originals back). Names bound inside other imported modules of
the user's are not rebound.

Rules every wrapper built here follows: call the original exactly once with the caller's arguments, return
its result unchanged, let its exceptions through untouched, keep the wrapper's own bookkeeping inside
``try/except`` so that a tracker failure never becomes the user's failure, and do nothing extra when no
tracked cell is running (``reprotrack.kernel.session.current_cell()`` is None).
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass
from typing import Any, Callable

from reprotrack.kernel.capture.imports import WATCHER, Listener

#: Attribute set on every wrapper: the original it wraps (besides ``__wrapped__`` from functools.wraps).
MARK = "__reprotrack_original__"

_MISSING = object()


@dataclass
class Patch:
    owner: Any
    name: str
    original: Any
    wrapper: Any
    had_own: bool


class Patcher(Listener):
    """Replaces attributes with wrappers and restores every original on ``restore_all``."""

    def __init__(self) -> None:
        self.patches: list[Patch] = []
        self._pending: dict[str, list[Callable[[Any], None]]] = {}
        self._originals: dict[int, Patch] = {}
        self._rebound: list[tuple[dict[str, Any], str, Any, Any]] = []
        self._keys: set[tuple[int, str]] = set()
        self._version = 0
        self._scanned: tuple[int, int] | None = None

    # -- patching --------------------------------------------------------------------------------
    def patch(self, owner: Any, name: str, make_wrapper: Callable[[Any], Any], *, rebind: bool = False) -> bool:
        """Replace ``owner.name`` (a module function or a plain method of a class) by ``make_wrapper(original)``.

        Returns False (and changes nothing) when the attribute is missing, is a static/class method or
        another descriptor, or was already patched here. ``rebind=True`` lets ``rebind`` replace names in
        a namespace that are bound to this original."""
        key = (id(owner), name)
        if key in self._keys:
            return False
        namespace = owner.__dict__ if isinstance(owner, type) else getattr(owner, "__dict__", None)
        if namespace is None:
            return False
        raw = namespace.get(name, _MISSING)
        had_own = raw is not _MISSING
        current = raw if had_own else getattr(owner, name, _MISSING)
        if current is _MISSING or not callable(current) or isinstance(current, (staticmethod, classmethod)):
            return False
        if isinstance(owner, type) and had_own and not _is_plain_function(current):
            return False  # a builtin method or descriptor: wrapping it could change binding semantics
        wrapper = make_wrapper(current)
        try:
            setattr(wrapper, MARK, current)
            if not isinstance(owner, type) and not _findable(wrapper):
                # pickle finds functions by module and name: point it at the attribute patched here
                wrapper.__module__, wrapper.__qualname__ = owner.__name__, name
        except (AttributeError, TypeError):
            pass
        setattr(owner, name, wrapper)
        entry = Patch(owner, name, current, wrapper, had_own)
        self.patches.append(entry)
        self._keys.add(key)
        if rebind:
            self._originals[id(current)] = entry
            self._version += 1
        return True

    def restore_all(self) -> list[str]:
        """Put every original back, newest first. Returns a description of what could not be restored."""
        problems: list[str] = []
        for ns, name, original, wrapper in reversed(self._rebound):
            try:
                if ns.get(name) is wrapper:
                    ns[name] = original
            except Exception as exc:  # noqa: BLE001 - a hostile namespace must not stop the others
                problems.append(f"{name}: {exc}")
        self._rebound.clear()
        self._scanned = None
        for entry in reversed(self.patches):
            try:
                current = entry.owner.__dict__.get(entry.name, _MISSING)
                if current is not entry.wrapper:
                    problems.append(f"{_qualname(entry)} was replaced by someone else; left as it is")
                    continue
                if entry.had_own:
                    setattr(entry.owner, entry.name, entry.original)
                else:
                    delattr(entry.owner, entry.name)
            except Exception as exc:  # noqa: BLE001
                problems.append(f"{_qualname(entry)}: {exc}")
        self.patches.clear()
        self._originals.clear()
        self._keys.clear()
        self._pending.clear()
        WATCHER.unwatch(self)
        return problems

    # -- libraries imported later ----------------------------------------------------------------
    def when_imported(self, module: str, patch_module: Callable[[Any], None]) -> None:
        """Run ``patch_module(sys.modules[module])`` now if it is imported, else at the first ``poll`` after."""
        self._pending.setdefault(module, []).append(patch_module)
        WATCHER.watch(self)
        self.poll()

    def module_imported(self, name: str, module: Any) -> None:
        """The import watcher's hook: patch ``name`` now, inside the importing cell."""
        for patch_module in self._pending.pop(name, ()):
            patch_module(module)

    def poll(self) -> None:
        """Patch the pending modules that are imported by now: one dict lookup per pending module."""
        if not self._pending:
            return
        modules = sys.modules
        for name in [n for n in self._pending if n in modules]:
            module = modules[name]
            for patch_module in self._pending.pop(name):
                patch_module(module)

    # -- the user's namespace --------------------------------------------------------------------
    def rebind(self, namespace: dict[str, Any]) -> int:
        """Point names bound to a patched original (``from x import f`` before ``start``) at the wrapper.

        The namespace is scanned only when something was patched since the last scan: once a module
        attribute is patched, new bindings taken from it (``from x import f`` after ``start``) already get
        the wrapper, so a scan per cell would find nothing new (and cost ~20 µs per 600 names)."""
        originals = self._originals
        if not originals or not namespace or self._scanned == (id(namespace), self._version):
            return 0
        self._scanned = (id(namespace), self._version)
        found = [(k, v) for k, v in namespace.items() if id(v) in originals]
        count = 0
        for name, value in found:
            entry = originals[id(value)]
            if value is entry.original:
                namespace[name] = entry.wrapper
                self._rebound.append((namespace, name, entry.original, entry.wrapper))
                count += 1
        return count


class Reentry(threading.local):
    """Per-thread nesting depth: only the outermost instrumented call records (``super().split`` inside a
    patched ``split`` or a forest fitting its trees must not record twice)."""

    depth = 0

    def __reduce__(self):  # a wrapper copied to a joblib worker by value gets a fresh counter there
        return (type(self), ())


def _findable(func: Any) -> bool:
    """Whether ``pickle`` would find ``func`` itself at ``func.__module__``/``func.__qualname__``."""
    obj: Any = sys.modules.get(getattr(func, "__module__", None) or "")
    for part in (getattr(func, "__qualname__", "") or "").split("."):
        obj = getattr(obj, part, None)
    return obj is func


def _is_plain_function(obj: Any) -> bool:
    import types

    return isinstance(obj, types.FunctionType)


def _qualname(entry: Patch) -> str:
    owner = getattr(entry.owner, "__qualname__", None) or getattr(entry.owner, "__name__", "?")
    return f"{owner}.{entry.name}"
