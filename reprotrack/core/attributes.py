"""The public attributes of a plain object: what a data holder (``SimpleNamespace``, a dataclass, a loader's
result object) shows of itself. Shared by the fingerprint of containers and the capture that decides what a
cell's names hold; pure and light (no pandas), so that the capture can ask it on every cell."""

from __future__ import annotations

import types
from typing import Any

#: how many public attributes a data holder may have before it is no container of data but an object
MAX_ATTRIBUTES = 100

_NOT_HOLDERS = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType, types.MethodType)


def public_attributes(obj: Any, limit: int = MAX_ATTRIBUTES) -> dict[str, Any] | None:
    """``vars(obj)`` without private names, or None: a class, module or function, no ``__dict__`` (or a
    hostile one), no public attribute, or more than ``limit`` of them (4 × ``limit`` in all)."""
    if isinstance(obj, _NOT_HOLDERS):
        return None
    try:
        raw = vars(obj)
    except Exception:  # noqa: BLE001 - no __dict__, or a hostile one: not a data holder
        return None
    if not isinstance(raw, dict) or not raw or len(raw) > 4 * limit:
        return None
    public = {k: v for k, v in raw.items() if isinstance(k, str) and not k.startswith("_")}
    return public if public and len(public) <= limit else None
