"""Know the moment a module is imported, also inside the cell that uses it.

Real notebooks import where they use (``from sklearn.model_selection import train_test_split`` and the call in
one cell). A patch applied at the next cell's start is too late for that cell, so the captures learn of an
import when it happens: one ``sys.meta_path`` finder, first in the path while tracking, asks the finders
after it for the module's spec and wraps that spec's loader's ``exec_module`` (on the loader instance only,
removed again on first call). When the module body has run, every ``Listener`` hears ``module_imported``,
before the importing statement binds any name, so ``from x import f`` in the same cell binds the wrapper.

Listeners also hear when an outermost import starts and ends (``import_started``/``import_finished``): a
library that draws from a global random generator while it is imported (``rich`` picks its colours so) is
not the user's draw, and the randomness capture takes it out of the cell's account.

It never imports anything itself, never changes which module is found or how it runs, and an import that
fails raises exactly the user's error. ``unwatch`` of the last listener removes the finder.
"""

from __future__ import annotations

import sys
import threading
from typing import Any


class Listener:
    """Hooks a capture may override; all are called inside a guard (a failure is dropped, never raised)."""

    def module_imported(self, name: str, module: Any) -> None:
        """``module``'s body has just run (it is complete in ``sys.modules``)."""

    def import_started(self) -> None:
        """An outermost import (not nested in another one) begins in this thread."""

    def import_finished(self) -> None:
        """That outermost import has ended, successfully or not."""


class _Depth(threading.local):
    value = 0
    finding = False


class ImportWatcher:
    """The finder itself; ``WATCHER`` is the one instance."""

    def __init__(self) -> None:
        self.listeners: list[Listener] = []
        self._depth = _Depth()

    # -- registration ------------------------------------------------------------------------------
    def watch(self, listener: Listener) -> None:
        if listener not in self.listeners:
            self.listeners.append(listener)
        if self not in sys.meta_path:
            sys.meta_path.insert(0, self)

    def unwatch(self, listener: Listener) -> None:
        if listener in self.listeners:
            self.listeners.remove(listener)
        if not self.listeners:
            try:
                sys.meta_path.remove(self)
            except ValueError:
                pass

    # -- the finder protocol -----------------------------------------------------------------------
    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        depth = self._depth
        if depth.finding or not self.listeners:
            return None
        depth.finding = True
        try:
            spec = self._spec_from_others(name, path, target)
        except BaseException:
            return None  # the import system asks the others itself and raises the user's own error
        finally:
            depth.finding = False
        if spec is None:
            return None
        loader = spec.loader
        if loader is None or isinstance(loader, type) or not callable(getattr(loader, "exec_module", None)):
            return spec  # namespace packages, builtins and frozen modules (class loaders are shared): as found
        try:
            loader.exec_module = self._wrap(name, loader, loader.exec_module)
        except Exception:  # noqa: BLE001 - a loader that refuses attributes is used as it is
            pass
        return spec

    def _spec_from_others(self, name: str, path: Any, target: Any) -> Any:
        meta_path = sys.meta_path
        start = meta_path.index(self) + 1 if self in meta_path else 0
        for finder in list(meta_path[start:]):
            find = getattr(finder, "find_spec", None)
            if find is None:
                continue
            spec = find(name, path, target)
            if spec is not None:
                return spec
        return None

    def _wrap(self, name: str, loader: Any, exec_module: Any) -> Any:
        watcher = self

        def exec_module_watched(module: Any) -> None:
            try:
                del loader.exec_module  # once: a reload runs the loader's own method again
            except Exception:  # noqa: BLE001
                pass
            depth = watcher._depth
            outermost = depth.value == 0
            if outermost:
                watcher._tell("import_started")
            depth.value += 1
            try:
                exec_module(module)
            finally:
                depth.value -= 1
                if outermost:
                    watcher._tell("import_finished")
            watcher._tell("module_imported", name, sys.modules.get(name, module))

        return exec_module_watched

    def _tell(self, hook: str, *args: Any) -> None:
        for listener in list(self.listeners):
            try:
                getattr(listener, hook)(*args)
            except Exception:  # noqa: BLE001 - a capture's failure must never fail the user's import
                pass

    def importing(self) -> bool:
        """Whether this thread is running a module body right now (through this finder)."""
        return self._depth.value > 0


WATCHER = ImportWatcher()
