"""Containers fingerprinted by their members: which array inside a ``Bunch``, a dict or a list changed.

A loader returns data inside a container (``load_digits()`` a ``Bunch`` with ``data``, ``target``,
``images``; statsmodels a ``Dataset`` dict with ``endog``/``exog``; a user a dict of arrays, a list of frames,
a tuple). The container's ``content`` proves it unchanged; when it changed, the diff needs the member
that changed, with its own rows, order and values: ``members`` maps a member's path (``.target``,
``[0]``, ``['train'].X``) to that member's full fingerprint.

Members are the non-scalar data found by walking the container: arrays, pandas objects, estimators, and
plain objects whose public attributes are all data (``attributes``), reached through nested dicts, lists,
tuples (and their subclasses: ``Bunch``, ``OrderedDict``, named tuples) and such objects. Scalars are not
members (the container's ``content`` and ``approx`` cover them); sets have no paths and are not walked.
Bounds: at most ``MAX_MEMBERS`` members per container (the rest are counted in ``members_omitted``), at
most ``MAX_DEPTH`` containers deep, objects with at most ``MAX_ATTRIBUTES`` public attributes. Pure: no
I/O, never ``repr`` of a user object.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from reprotrack.core.attributes import MAX_ATTRIBUTES, public_attributes

MAX_MEMBERS = 64
MAX_DEPTH = 3
_PLAIN = (bool, int, float, complex, str, bytes, type(None))


def path_of(key: Any, *, attribute: bool = False) -> str:
    """How a member is named after its container's name: ``.target``, ``[0]``, ``['a b']``."""
    if attribute or (isinstance(key, str) and key.isidentifier()):
        return f".{key}"
    if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
        return f"[{int(key)}]"
    if isinstance(key, str):
        return "[" + repr(key if len(key) <= 40 else key[:39] + "…") + "]"
    return f"[{type(key).__name__}]"


def is_table(value: Any) -> bool:
    """Arrays and pandas objects: what a member fingerprint is for."""
    if isinstance(value, np.ndarray):
        return True
    module = getattr(type(value), "__module__", "") or ""
    return (module == "pandas" or module.startswith("pandas.")) and hasattr(value, "shape")


def attributes(obj: Any) -> dict[str, Any] | None:
    """The public attributes of a plain object holding data (``SimpleNamespace``, a dataclass, a result
    object): at least one array or frame, every one of them data-like (scalars, arrays, frames, containers,
    estimators). None for everything else (modules, classes, functions, objects holding other objects)."""
    from reprotrack.core.fingerprint.record import is_estimator

    if isinstance(obj, (list, tuple, dict, set, frozenset)) or is_estimator(obj):
        return None
    public = public_attributes(obj, MAX_ATTRIBUTES)
    if public is None:
        return None
    tables = 0
    for value in public.values():
        if is_table(value):
            tables += 1
        elif not (isinstance(value, _PLAIN + (list, tuple, dict, np.generic)) or is_estimator(value)):
            return None
    return public if tables else None


def children(obj: Any) -> Iterator[tuple[str, Any]] | None:
    """(path, value) of a container's items, or None when ``obj`` is not walked (not a container, a set)."""
    if isinstance(obj, dict):
        return ((path_of(k), v) for k, v in list(obj.items()))
    if isinstance(obj, (list, tuple)):
        return ((f"[{i}]", v) for i, v in enumerate(obj))
    attrs = attributes(obj)
    if attrs is not None:
        return ((path_of(k, attribute=True), v) for k, v in attrs.items())
    return None


def walk(obj: Any) -> tuple[list[tuple[str, Any]], int]:
    """The members of ``obj`` in container order (paths relative to it) and how many were left out."""
    from reprotrack.core.fingerprint.record import is_estimator

    found: list[tuple[str, Any]] = []
    omitted = 0
    seen = {id(obj)}
    todo: list[tuple[str, Iterator[tuple[str, Any]], int]] = []
    top = children(obj)
    if top is None:
        return found, 0
    todo.append(("", top, 1))
    while todo:
        prefix, items, depth = todo[-1]
        nxt = next(items, None)
        if nxt is None:
            todo.pop()
            continue
        path, value = prefix + nxt[0], nxt[1]
        if isinstance(value, _PLAIN + (np.generic,)) or id(value) in seen:
            continue
        if is_table(value) or is_estimator(value):
            if len(found) < MAX_MEMBERS:
                found.append((path, value))
            else:
                omitted += 1
            continue
        inner = children(value) if depth < MAX_DEPTH else None
        if inner is not None:
            seen.add(id(value))
            todo.append((path, inner, depth + 1))
        elif depth >= MAX_DEPTH and children(value) is not None:
            omitted += 1
    return found, omitted
