"""Frozen copies of pandas values, and proof that a value still equals one, without hashing it.

Under pandas copy-on-write (always on from pandas 3) a shallow copy is a snapshot: it shares the buffers of
the original, and any later in-place write through pandas (``df.loc[0, "a"] = 1``, ``fillna(inplace=True)``,
``df["c"] = ...``) copies the written block or replaces it first, because the snapshot still references it.
So a ``Frozen`` value describes the object as it was when it was frozen, whatever the user's next cell does
to the original: it can be fingerprinted later, on another thread, while the user keeps working.

``Frozen.same_as(obj)`` proves that ``obj`` holds the very values frozen earlier, block by block: a block
whose storage is still the frozen one (same buffer, shape and strides: the snapshot keeps that buffer alive,
so its address cannot be reused, and copy-on-write forbids writing into it), or one that is bitwise equal to
it (numeric numpy blocks), or an immutable Arrow array equal to it (non-float types: Arrow's equality
calls ``-0.0`` and ``0.0`` equal, and the fingerprint's statistics need not). Labels, index, dtypes and
the pandas type must be the same too. Equal in that sense means equal canonical values, hence an equal
fingerprint; anything the proof cannot vouch for (object columns rebuilt, a consolidated block layout, a
categorical, an unknown extension array) answers False, and the caller hashes as before. The proof is a
shortcut, never a guess: it can say "not proven" for equal values, never "equal" for different ones.

This module reads pandas' block manager (``_mgr.blocks``), which is internal: any surprise there is a
"not proven", never an error. Nothing here imports pandas unless the value is a pandas object.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

#: Frames and series larger than this are not frozen: a snapshot keeps replaced buffers alive until the next
#: comparison and makes the user's next in-place write copy the written block once.
MAX_FROZEN_BYTES = 64 << 20


def copy_on_write() -> bool:
    """Whether pandas is loaded and guarantees that a shallow copy is a snapshot."""
    pd = sys.modules.get("pandas")
    if pd is None:
        return False
    try:
        major = int(pd.__version__.split(".", 1)[0])
    except ValueError:
        return False
    if major >= 3:
        return True
    try:  # pandas 2.x with copy-on-write switched on by the user
        return pd.options.mode.copy_on_write is True
    except AttributeError:
        return False


@dataclass
class Frozen:
    """A pandas DataFrame or Series as it was when frozen (``value``), and what proving equality needs."""

    value: Any
    nbytes: int
    _blocks: list[tuple[tuple[int, ...], Any]] = field(default_factory=list)

    def same_as(self, obj: Any) -> bool:
        """Whether ``obj`` provably holds the frozen values (see the module docstring)."""
        try:
            return _same_frame(self, obj)
        except Exception:  # noqa: BLE001 - pandas internals changed: not proven, the caller hashes
            return False


def freeze(obj: Any, max_bytes: int = MAX_FROZEN_BYTES) -> Frozen | None:
    """A snapshot of a pandas DataFrame or Series (None for anything else, without copy-on-write, or past
    ``max_bytes``)."""
    pd = sys.modules.get("pandas")
    if pd is None or type(obj) not in (pd.DataFrame, pd.Series) or not copy_on_write():
        return None
    try:
        blocks = _blocks(obj)
        nbytes = sum(_nbytes(values) for _, values in blocks) + _nbytes(obj.index)
        if nbytes > max_bytes:
            return None
        value = obj.copy(deep=False)
        return Frozen(value=value, nbytes=nbytes, _blocks=_blocks(value))
    except Exception:  # noqa: BLE001 - an unusual frame: no snapshot, hashed as before
        return None


def shallow_nbytes(obj: Any) -> int | None:
    """The size of a DataFrame's or Series' buffers (object columns count their pointers), or None when its
    blocks cannot be read: a cheap ``memory_usage(deep=False).sum()``."""
    try:
        return sum(_nbytes(values) for _, values in _blocks(obj)) + _nbytes(obj.index)
    except Exception:  # noqa: BLE001
        return None


def _blocks(obj: Any) -> list[tuple[tuple[int, ...], Any]]:
    mgr = obj._mgr
    return [(tuple(int(i) for i in block.mgr_locs.as_array), block.values) for block in mgr.blocks]


def _nbytes(values: Any) -> int:
    arrow = getattr(values, "_pa_array", None)
    if arrow is not None:  # Arrow's nbytes walks sliced buffers (~1 ms a column); their total size is at hand
        try:
            return int(arrow.get_total_buffer_size())
        except Exception:  # noqa: BLE001
            pass
    nbytes = getattr(values, "nbytes", 0)
    return nbytes if isinstance(nbytes, int) else 0


def _same_frame(frozen: Frozen, obj: Any) -> bool:
    old = frozen.value
    if type(obj) is not type(old) or obj.shape != old.shape:
        return False
    if hasattr(old, "columns"):
        if not _same_labels(old.columns, obj.columns):
            return False
    elif not _same_label(old.name, obj.name):
        return False
    if not _same_index(old.index, obj.index):
        return False
    blocks = _blocks(obj)
    if len(blocks) != len(frozen._blocks):
        return False
    return all(locs == old_locs and _same_values(old_values, values)
               for (old_locs, old_values), (locs, values) in zip(frozen._blocks, blocks))


def _same_label(a: Any, b: Any) -> bool:
    return type(a) is type(b) and (a is b or a == b)


def _same_labels(a: Any, b: Any) -> bool:
    """Column labels: the same Index object (immutable), or equal labels of equal types in order."""
    if a is b:
        return True
    if len(a) != len(b) or a.dtype != b.dtype or list(a.names) != list(b.names):
        return False
    return all(_same_label(x, y) for x, y in zip(a, b))


def _same_index(a: Any, b: Any) -> bool:
    if a is b:
        return True
    pd = sys.modules["pandas"]
    if type(a) is not type(b) or len(a) != len(b) or a.dtype != b.dtype or not _same_labels_names(a, b):
        return False
    if isinstance(a, pd.RangeIndex):
        return (a.start, a.stop, a.step) == (b.start, b.stop, b.step)
    if isinstance(a, pd.MultiIndex):
        return False  # levels and codes: not worth proving here
    return _same_values(a._values, b._values)


def _same_labels_names(a: Any, b: Any) -> bool:
    return len(a.names) == len(b.names) and all(_same_label(x, y) for x, y in zip(a.names, b.names))


def _same_values(old: Any, new: Any) -> bool:
    """One block's values: numpy arrays by storage or bits, Arrow arrays by immutable equality, pandas'
    numpy-backed extension arrays by their ndarray; everything else is not proven."""
    np = sys.modules["numpy"]
    if old is new:
        return True
    if type(old) is not type(new):
        return False
    if isinstance(old, np.ndarray):
        return _same_ndarray(np, old, new)
    if old.dtype != new.dtype or str(old.dtype) != str(new.dtype):
        return False
    categories_old = getattr(old.dtype, "categories", None)
    if categories_old is not None:  # CategoricalDtype equality ignores the order of unordered categories
        categories_new = new.dtype.categories
        if old.dtype.ordered != new.dtype.ordered or categories_new is None \
                or not _same_index(categories_old, categories_new):
            return False
    arrow_old, arrow_new = getattr(old, "_pa_array", None), getattr(new, "_pa_array", None)
    if arrow_old is not None and arrow_new is not None:
        if arrow_old is arrow_new:
            return True
        pa = sys.modules.get("pyarrow")
        if pa is None or arrow_old.type != arrow_new.type or pa.types.is_floating(arrow_old.type) \
                or _nested(pa, arrow_old.type):
            return False
        return bool(arrow_old.equals(arrow_new))
    inner_old, inner_new = getattr(old, "_ndarray", None), getattr(new, "_ndarray", None)
    if isinstance(inner_old, np.ndarray) and isinstance(inner_new, np.ndarray):  # datetimes, timedeltas
        return _same_ndarray(np, inner_old, inner_new)
    data_old, data_new = getattr(old, "_data", None), getattr(new, "_data", None)
    mask_old, mask_new = getattr(old, "_mask", None), getattr(new, "_mask", None)
    if all(isinstance(x, np.ndarray) for x in (data_old, data_new, mask_old, mask_new)):  # Int64, boolean...
        return _same_ndarray(np, mask_old, mask_new) and _same_ndarray(np, data_old, data_new)
    return False


def _nested(pa: Any, type_: Any) -> bool:
    """Arrow types holding floats inside (lists, structs, maps...): equality there is Arrow's too."""
    return pa.types.is_nested(type_) or pa.types.is_dictionary(type_) or pa.types.is_decimal(type_)


def _same_ndarray(np: Any, old: Any, new: Any) -> bool:
    if old.dtype != new.dtype or old.shape != new.shape:
        return False
    if old.__array_interface__["data"][0] == new.__array_interface__["data"][0] and old.strides == new.strides:
        return True  # the frozen buffer itself: alive (the snapshot holds it) and never written (copy-on-write)
    if old.dtype.hasobject or old.dtype.kind == "V":
        return False  # Python objects compare by value (1 == 1.0 == True), not by what the fingerprint sees
    if not (old.flags.c_contiguous and new.flags.c_contiguous):
        return False
    width = next(w for w in (8, 4, 2, 1) if old.nbytes % w == 0)  # wide words compare ~2x faster than bytes
    unsigned = np.dtype(f"u{width}")
    return bool(np.array_equal(old.reshape(-1).view(np.uint8).view(unsigned),
                               new.reshape(-1).view(np.uint8).view(unsigned)))
