"""The diff: two locks in, findings out, in the diagnosis vocabulary of DESIGN.md.

``compare(research, replay)`` → ``Report`` (status, first divergence, findings with ``upstream_of``);
``environment_differences`` serves ``reprotrack env check``. Pure: no IPython, no I/O. The modules:
``model`` (the values), ``matching`` (which run pairs with which), ``environment``, ``cells`` and ``splits``
(what differs), ``causality`` (what explains what: ``compare``).

The names below are imported when first used: the kernel imports ``model`` for its options at every start,
and the whole comparison (~20 ms of imports) is the host's work, not the kernel's.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {"compare": "causality", "environment_differences": "environment", "CAUSES": "model", "KINDS": "model",
          "DiffOptions": "model", "Finding": "model", "Report": "model"}

__all__ = ["CAUSES", "KINDS", "DiffOptions", "Finding", "Report", "compare", "environment_differences"]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
