"""Frozen copies of pandas and numpy values, and proof that a value still equals one, without hashing it.

``freeze`` takes a private copy: numpy buffers are copied (memory speed), Arrow arrays are shared (they are
immutable: pandas replaces them, never writes into them). Nothing the user does afterwards reaches it — not
an in-place pandas write, not a write through a numpy array the frame was built on with ``copy=False`` — so
it describes the value as it was when frozen, and can be fingerprinted later, on another thread.

``Frozen.same_as(obj)`` proves that ``obj`` holds the very values frozen: the same pandas type, labels,
index and dtypes, and block by block the same bits (numeric numpy blocks), or equal immutable Arrow arrays
(non-float types: Arrow's equality calls ``-0.0`` and ``0.0`` equal, and the fingerprint's statistics need
not). Equal in that sense means equal canonical values, hence an equal fingerprint; anything the proof
cannot vouch for (object columns, a different block layout, a MultiIndex, an unknown extension array)
answers False and the caller hashes as before. The proof is a shortcut, never a guess: it may say "not
proven" for equal values, never "equal" for different ones. It costs a comparison at memory speed, where
a content hash costs several passes.

This module reads pandas' block manager (``_mgr.blocks``), which is internal: any surprise there is a
"not proven" (or no snapshot), never an error. Nothing here imports pandas or numpy.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

#: Values larger than this are not frozen: the copy costs memory as large as the value's buffers. 8 MB holds the
#: frames a cell usually changes (100k rows x 10 columns); larger ones are content-hashed in the cell instead
#: (format 3: a few GB/s, so ~3 ms for 8 MB), which costs no memory.
MAX_FROZEN_BYTES = 8 << 20


@dataclass
class Frozen:
    """A pandas DataFrame or Series, or a numpy array, as it was when frozen (``value``, a private copy), and
    what proving equality needs."""

    value: Any
    nbytes: int
    #: pandas only: the values of each column of ``value``, in order
    _columns: list[Any] | None = None

    def same_as(self, obj: Any) -> bool:
        """Whether ``obj`` provably holds the frozen values (see the module docstring)."""
        try:
            if type(self.value) is not type(obj):
                return False
            if self._columns is None:  # a numpy array
                np = sys.modules["numpy"]
                return _same_ndarray(np, self.value, obj)
            return _same_frame(self, obj)
        except Exception:  # noqa: BLE001 - pandas internals changed: not proven, the caller hashes
            return False


def freeze(obj: Any, max_bytes: int = MAX_FROZEN_BYTES) -> Frozen | None:
    """A private copy of a pandas DataFrame or Series or a numeric numpy array (None for anything else, or
    past ``max_bytes``)."""
    np = sys.modules.get("numpy")
    if np is not None and type(obj) is np.ndarray:
        if obj.dtype.hasobject or obj.dtype.kind == "V" or obj.nbytes > max_bytes:
            return None
        return Frozen(value=obj.copy(order="C"), nbytes=obj.nbytes)
    pd = sys.modules.get("pandas")
    if pd is None or type(obj) not in (pd.DataFrame, pd.Series):
        return None
    try:
        nbytes = sum(_nbytes(values) for _, values in _blocks(obj)) + _nbytes(obj.index)
        if nbytes > max_bytes:
            return None
        value = obj.copy(deep=True)
        return Frozen(value=value, nbytes=nbytes, _columns=_columns(value))
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


def _columns(obj: Any) -> list[Any]:
    """The values of each column, whatever the block layout (a deep copy consolidates blocks): 1-D numpy
    views of 2-D blocks, extension arrays as they are."""
    blocks = obj._mgr.blocks
    if obj.ndim == 1:
        return [blocks[0].values]
    out: list[Any] = [None] * obj.shape[1]
    for block in blocks:
        values = block.values
        for j, position in enumerate(block.mgr_locs.as_array):
            out[int(position)] = values[j] if getattr(values, "ndim", 1) == 2 else values
    if any(column is None for column in out):
        raise ValueError("a column in no block")
    return out


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
    columns = _columns(obj)
    return len(columns) == len(frozen._columns) and all(
        _same_values(old, new) for old, new in zip(frozen._columns, columns))


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
    """Bit for bit. ``old`` is always a frozen copy, so sharing a buffer with ``new`` proves nothing."""
    if old.dtype != new.dtype or old.shape != new.shape:
        return False
    if old.dtype.hasobject or old.dtype.kind == "V":
        return False  # Python objects compare by value (1 == 1.0 == True), not by what the fingerprint sees
    old, new = np.ascontiguousarray(old), np.ascontiguousarray(new)  # a column of an F-ordered block: copied
    if old.nbytes == 0:
        return True
    width = next(w for w in (8, 4, 2, 1) if old.nbytes % w == 0)  # wide words compare ~2x faster than bytes
    unsigned = np.dtype(f"u{width}")
    return bool(np.array_equal(old.reshape(-1).view(np.uint8).view(unsigned),
                               new.reshape(-1).view(np.uint8).view(unsigned)))
