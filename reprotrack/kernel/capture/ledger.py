"""What the seeds, randomness and split captures write into a cell's record, and the little state they share.

Wrappers in three capture modules note facts about the running cell; this module is the one place that
turns a seed value into something JSON-able, keeps the records bounded and deduplicated (a loop fitting a
hundred models with one seed gives one entry, with a ``calls`` count for randomness), remembers the fix
to suggest for each unseeded source, and knows whether the Python and numpy global generators have been
seeded since tracking started (``seeded``), which is what makes a draw from them reproducible.

Never imports a library: values are recognised by their type's module and name.
"""

from __future__ import annotations

import hashlib
import math
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:  # pragma: no cover
    from reprotrack.kernel.context import CellContext

#: Bounds per cell record: a cell looping over thousands of seeds must not bloat the lock.
MAX_SEEDS_PER_CELL = 200
MAX_RANDOMNESS_PER_CELL = 100

#: Generators whose seeding the session follows: name → last seed value is not None.
_SEEDED: dict[str, bool] = {}
#: Called as ``listener(generator, value)`` after a global generator is seeded or its state set.
SEED_LISTENERS: list[Callable[[str, Any], None]] = []
#: The fix to suggest per unseeded source, for the record of the cell being run.
_FIXES: dict[str, Any] = {"record": None, "fixes": {}}


def reset() -> None:
    """A new session starts knowing of no seed."""
    _SEEDED.clear()


def mark_seeded(generator: str, value: Any) -> None:
    """A global generator was seeded (``value`` None means re-seeded from OS entropy: not reproducible)."""
    _SEEDED[generator] = value is not None
    for listener in list(SEED_LISTENERS):
        try:
            listener(generator, value)
        except Exception:  # noqa: BLE001 - a listener's failure must not reach the user's call
            pass


def is_seeded(generator: str) -> bool:
    return _SEEDED.get(generator, False)


def note_seed(ctx: CellContext | None, api: str, value: Any) -> None:
    """A seed the cell set. ``random_state=None`` (or the global ``np.random``) sets none: it draws from
    the global generator, which the randomness capture accounts for."""
    if ctx is None or value is None or is_global_randomstate(value):
        return
    seeds = ctx.record.seeds
    entry = {"api": api, "value": describe_seed(value)}
    if entry not in seeds and len(seeds) < MAX_SEEDS_PER_CELL:
        seeds.append(entry)


def note_randomness(ctx: CellContext | None, source: str, seeded: bool, fix: str | None = None, **extra: Any) -> None:
    """One entry per (source, seeded) per cell; repeated draws increase its ``calls``."""
    if ctx is None:
        return
    entries = ctx.record.randomness
    if "entropy" not in extra:  # each unseeded generator keeps its own entry: a replay pins them one by one
        for entry in entries:
            if entry.get("source") == source and entry.get("seeded") == seeded and "entropy" not in entry:
                entry["calls"] = entry.get("calls", 1) + 1
                return
    if len(entries) >= MAX_RANDOMNESS_PER_CELL:
        return
    entry = {"source": source, "seeded": bool(seeded), "calls": 1}
    entry.update(extra)
    entries.append(entry)
    if fix and not seeded:
        entry["fix"] = fix  # the report says how to seed this very source
        fixes_for(ctx).setdefault(source, fix)


def fixes_for(ctx: CellContext) -> dict[str, str]:
    """source → suggested fix, for the cell being run (forgotten when the next cell starts)."""
    if _FIXES["record"] is not ctx.record:
        _FIXES["record"] = ctx.record
        _FIXES["fixes"] = {}
    return _FIXES["fixes"]


def describe_seed(value: Any) -> Any:
    """A JSON-able, deterministic description of a seed: ints (as strings beyond 2**53), null, or text."""
    try:
        return _describe(value)
    except Exception:  # noqa: BLE001 - hostile objects
        return f"<{type(value).__name__}>"


def _describe(value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int) or _numpy_kind(value) in ("i", "u"):
        number = int(value)
        return number if abs(number) < 2**53 else str(number)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return value if len(value) <= 80 else "str sha256:" + hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()[:16]
    if isinstance(value, (bytes, bytearray)):
        return "bytes sha256:" + hashlib.sha256(bytes(value)).hexdigest()[:16]
    cls = type(value)
    module, name = getattr(cls, "__module__", "") or "", cls.__name__
    if module.startswith("numpy.random"):
        if name == "RandomState":
            return "numpy.random global RandomState" if is_global_randomstate(value) else "RandomState"
        if name == "SeedSequence":
            return f"SeedSequence(entropy={value.entropy}, spawn_key={tuple(value.spawn_key)})"
        if name == "Generator":
            value = value.bit_generator
            name = type(value).__name__
        seq = getattr(value, "seed_seq", None)
        entropy = getattr(seq, "entropy", None)
        return f"Generator({name}, entropy={entropy})" if entropy is not None else f"{name}"
    if isinstance(value, (list, tuple)) and len(value) <= 16 and all(isinstance(v, int) for v in value):
        return [_describe(v) for v in value]
    if hasattr(value, "__array__") or isinstance(value, (list, tuple)):
        import numpy as np  # an array was passed: numpy is imported already

        arr = np.ascontiguousarray(np.asarray(value))
        return f"array({arr.dtype}, n={arr.size}) sha256:" + hashlib.sha256(arr.tobytes()).hexdigest()[:16]
    return f"<{module}.{name}>"


def _numpy_kind(value: Any) -> str:
    cls = type(value)
    if getattr(cls, "__module__", "") == "numpy" and hasattr(value, "dtype") and getattr(value, "ndim", 1) == 0:
        return value.dtype.kind
    return ""


def is_global_randomstate(value: Any) -> bool:
    import sys

    mtrand = sys.modules.get("numpy.random.mtrand")
    return mtrand is not None and value is getattr(mtrand, "_rand", None)


def public_name(cls: type) -> str:
    """``sklearn.ensemble.RandomForestClassifier`` rather than ``sklearn.ensemble._forest.…``."""
    module = getattr(cls, "__module__", "") or ""
    parts = []
    for part in module.split("."):
        if part.startswith("_"):
            break
        parts.append(part)
    return ".".join(parts + [cls.__name__])
