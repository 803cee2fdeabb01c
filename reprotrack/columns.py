"""Column encoders: one 1-D column of any pandas/numpy dtype, seen as canonical per-row hashes and numbers.

A fingerprint walks a table in row chunks; for each chunk every column gives its per-row 64-bit hashes
(``reprotrack.canonical`` defines them), and for statistics its values as float64 (nulls as NaN) or, for
labels (strings, categories, objects), integer codes into a list of distinct values. Encoders hold no copy of
the data beyond what one chunk or one factorisation needs.

Pure: numpy and pandas only, no I/O.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pandas as pd

from . import canonical as C

_PROBE = 4096


class Encoder:
    """Base: ``kind``, ``n``, ``hashes(lo, hi)``; optional ``numbers(lo, hi)`` and ``labels()``."""

    kind = "object"
    n = 0

    def hashes(self, lo: int, hi: int) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def numbers(self, lo: int, hi: int) -> np.ndarray | None:
        """float64 values for statistics (nulls as NaN), or None when the column is not numeric."""
        return None

    def labels(self) -> tuple[np.ndarray, list[Any]] | None:
        """(codes with -1 for null, distinct values) when cheap; None for high-cardinality columns."""
        return None

    def take_floats(self, positions: np.ndarray) -> np.ndarray | None:
        """Exact float values at row positions (for ``approx``), or None when the column is not float."""
        return None


class NumberEncoder(Encoder):
    """float, int, uint, bool, complex, datetime and timedelta numpy columns (plus an optional null mask)."""

    def __init__(self, values: np.ndarray, mask: np.ndarray | None = None, tz: str | None = None):
        self.values = values
        self.mask = mask if mask is not None and mask.any() else None
        self.n = len(values)
        k = values.dtype.kind
        if k == "f":
            self.kind = "float"
        elif k == "b":
            self.kind = "bool"
        elif k == "c":
            self.kind = "complex"
        elif k in "mM":
            self.kind = "datetime" if k == "M" else "timedelta"
        elif k == "u" and values.dtype.itemsize == 8 and self.n and int(values.max()) >= 1 << 63:
            self.kind = "uint"
        else:
            self.kind = "int"

    def hashes(self, lo: int, hi: int) -> np.ndarray:
        v = self.values[lo:hi]
        if self.kind == "float":
            h = C.float_hashes(v)
        elif self.kind == "complex":
            h = C.complex_hashes(v)
        elif self.kind in ("datetime", "timedelta"):
            h, _ = C.time_hashes(np.ascontiguousarray(v))
        else:
            h = C.int_hashes(v, "bool" if self.kind == "bool" else self.kind)
        if self.mask is not None:
            m = self.mask[lo:hi]
            if m.any():
                h[m] = C.U64(C.NULL)
        return h

    def numbers(self, lo: int, hi: int) -> np.ndarray | None:
        v = self.values[lo:hi]
        if self.kind == "complex":
            return None
        if self.kind in ("datetime", "timedelta"):
            i, kind = C.time_ints(np.ascontiguousarray(v))
            f = i * _seconds_per(kind, v.dtype)
            f[i == np.iinfo(np.int64).min] = np.nan
        elif self.kind == "float":
            f = v if v.dtype == np.float64 else v.astype(np.float64)
        else:
            f = v.astype(np.float64)
        if self.mask is not None and self.mask[lo:hi].any():
            f = f.copy() if f is v else f
            f[self.mask[lo:hi]] = np.nan
        return f

    def take_floats(self, positions: np.ndarray) -> np.ndarray | None:
        if self.kind != "float":
            return None
        f = self.values[positions].astype(np.float64) + 0.0
        if self.mask is not None:
            f[self.mask[positions]] = np.nan
        return f


def _seconds_per(kind: str, dtype: np.dtype) -> float:
    """Seconds per integer step of what ``canonical.time_ints`` returned (nanoseconds unless unit kept)."""
    if "[" not in kind:
        return 1e-9
    unit = np.datetime_data(dtype)[0]
    try:
        return float(np.timedelta64(1, unit) / np.timedelta64(1, "s"))
    except (TypeError, ValueError):  # years and months have no fixed length
        return 1.0


class ObjectEncoder(Encoder):
    """Object and string columns: factorised when few distinct values, vector-hashed per chunk otherwise."""

    def __init__(self, values: np.ndarray, container: Callable[[Any], int] | None = None):
        import pandas._libs.lib as lib

        self.values = values
        self.n = len(values)
        self.container = container
        self._codes: np.ndarray | None = None
        self._uniques: list[Any] = []
        self._uh: np.ndarray | None = None
        self.all_str = bool(self.n) and lib.is_string_array(values, skipna=False)
        self.str_or_null = self.all_str or (bool(self.n) and lib.is_string_array(values, skipna=True))
        self.kind = "str" if self.str_or_null else "object"
        probe = values[:_PROBE]
        try:
            few = len(pd.unique(probe)) <= max(64, len(probe) // 4)
            if few:
                codes, uniques = pd.factorize(values, use_na_sentinel=True)
                if len(uniques) <= max(1024, self.n // 8):
                    self._codes, self._uniques = codes, list(uniques)
                    self._uh = C.object_hashes(np.asarray(uniques, dtype=object), container)
        except TypeError:  # unhashable objects (lists, dicts): hashed one by one
            self._codes = None

    def hashes(self, lo: int, hi: int) -> np.ndarray:
        if self._codes is not None:
            codes = self._codes[lo:hi]
            h = self._uh.take(np.maximum(codes, 0)) if len(self._uh) else np.full(hi - lo, C.NULL, dtype=C.U64)
            h[codes < 0] = C.U64(C.NULL)
            return h
        chunk = self.values[lo:hi]
        if self.all_str:
            return C.str_hashes(chunk.tolist())
        if self.str_or_null:
            null = pd.isna(chunk)
            h = np.full(len(chunk), C.NULL, dtype=C.U64)
            h[~null] = C.str_hashes(chunk[~null].tolist())
            return h
        return C.object_hashes(chunk, self.container)

    def labels(self) -> tuple[np.ndarray, list[Any]] | None:
        return (self._codes, self._uniques) if self._codes is not None else None


class CategoricalEncoder(Encoder):
    """pandas Categorical: hashes of the categories taken by code (so it equals the same values as objects)."""

    def __init__(self, cat: pd.Categorical, container: Callable[[Any], int] | None = None):
        self.codes = np.asarray(cat.codes)
        self.n = len(self.codes)
        self.categories = encoder_for(cat.categories, container)
        self.kind = self.categories.kind
        self.cat_list = list(cat.categories)
        self.uh = self.categories.hashes(0, self.categories.n) if self.categories.n else np.zeros(0, C.U64)
        self.cat_numbers = self.categories.numbers(0, self.categories.n)
        self.cat_floats = self.categories.take_floats(np.arange(self.categories.n))

    def hashes(self, lo: int, hi: int) -> np.ndarray:
        codes = self.codes[lo:hi]
        h = self.uh.take(np.maximum(codes, 0)) if len(self.uh) else np.zeros(hi - lo, dtype=C.U64)
        h[codes < 0] = C.U64(C.NULL)
        return h

    def numbers(self, lo: int, hi: int) -> np.ndarray | None:
        if self.cat_numbers is None or self.kind in ("bool",):
            return None
        codes = self.codes[lo:hi]
        f = self.cat_numbers.take(np.maximum(codes, 0)) if len(self.cat_numbers) else np.full(hi - lo, np.nan)
        f[codes < 0] = np.nan
        return f

    def labels(self) -> tuple[np.ndarray, list[Any]] | None:
        return self.codes, self.cat_list

    def take_floats(self, positions: np.ndarray) -> np.ndarray | None:
        if self.cat_floats is None:
            return None
        codes = self.codes[positions]
        f = self.cat_floats.take(np.maximum(codes, 0)) if len(self.cat_floats) else np.full(len(codes), np.nan)
        f[codes < 0] = np.nan
        return f


class BlockEncoder(Encoder):
    """A column whose cells are fixed-size sub-arrays (structured-array sub-fields): one hash per row."""

    def __init__(self, values: np.ndarray, container: Callable[[Any], int] | None = None):
        self.values = values
        self.n = len(values)
        self.width = int(np.prod(values.shape[1:])) if values.ndim > 1 else 1
        self.keys = key_vector(self.width)
        self.kind = "block"
        self.container = container

    def hashes(self, lo: int, hi: int) -> np.ndarray:
        flat = element_hashes(np.ascontiguousarray(self.values[lo:hi]).reshape(-1), self.container)
        return combine_rows(flat.reshape(hi - lo, self.width), self.keys)

    def numbers(self, lo: int, hi: int) -> np.ndarray | None:
        if self.values.dtype.kind not in "fiub":
            return None
        return np.ascontiguousarray(self.values[lo:hi], dtype=np.float64).reshape(-1)

    def take_floats(self, positions: np.ndarray) -> np.ndarray | None:
        """One element per sampled row, at a canonical offset inside the row."""
        if self.values.dtype.kind != "f" or not self.width:
            return None
        offsets = (C.mix(positions.astype(C.U64) + C.U64(C.GOLDEN)) % C.U64(self.width)).astype(np.int64)
        rows = self.values[positions].reshape(len(positions), -1)
        return rows[np.arange(len(positions)), offsets].astype(np.float64) + 0.0


def key_vector(m: int) -> np.ndarray:
    """Odd multipliers for column positions 0..m-1 (vectorised ``canonical.column_key``)."""
    k = np.arange(1, m + 1, dtype=C.U64) + C.U64(C.GOLDEN)
    return C.mix(k) | C.U64(1)


def combine_rows(h: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Row hash of an (rows, m) block of element hashes: sum of h[:, j] * key[j] mod 2**64, then mixed."""
    if h.shape[1] == 1:
        r = h[:, 0] * keys[0]
    else:
        r = np.sum(h * keys[None, :], axis=1, dtype=C.U64)
    return C.mix(r)


def element_hashes(flat: np.ndarray, container: Callable[[Any], int] | None = None) -> np.ndarray:
    """Per-element hashes of a contiguous 1-D numpy array of any dtype."""
    k = flat.dtype.kind
    if k in "fiubcmM":
        return NumberEncoder(flat).hashes(0, len(flat))
    if k == "U":
        return C.str_hashes(flat.tolist())
    if k == "S":
        return C.bytes_hashes(flat.tolist())
    return C.object_hashes(flat.astype(object, copy=False), container)


def encoder_for(values: Any, container: Callable[[Any], int] | None = None) -> Encoder:
    """Pick the encoder for a pandas Series/Index/ExtensionArray or a 1-D numpy array."""
    if isinstance(values, (pd.Series, pd.Index)):
        values = values.array if not isinstance(values.dtype, np.dtype) else values.to_numpy()
    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return CategoricalEncoder(values, container)
    if isinstance(dtype, np.dtype):
        arr = np.asarray(values)
        if arr.ndim > 1:
            return BlockEncoder(arr, container)
        if dtype.kind in "fiubcmM":
            return NumberEncoder(arr)
        if dtype.kind in "US":
            return ObjectEncoder(arr.astype(object), container)
        return ObjectEncoder(arr.astype(object, copy=False), container)
    if isinstance(dtype, pd.DatetimeTZDtype):
        naive = values.tz_convert("UTC").tz_localize(None)
        return NumberEncoder(np.asarray(naive))
    kind = getattr(dtype, "kind", "O")
    if isinstance(dtype, pd.api.extensions.ExtensionDtype) and kind in "iufb" and hasattr(values, "isna"):
        mask = np.asarray(values.isna(), dtype=bool)
        np_dtype = {"i": np.int64, "u": np.uint64, "f": np.float64, "b": np.bool_}[kind]
        if kind == "f":
            data = values.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            data = values.to_numpy(dtype=np_dtype, na_value=np_dtype(0))
        return NumberEncoder(data, mask)
    if isinstance(dtype, pd.PeriodDtype):
        enc = NumberEncoder(np.asarray(values.asi8), np.asarray(values.isna()))
        enc.kind = "int"
        return enc
    if isinstance(dtype, pd.SparseDtype):
        return encoder_for(np.asarray(values), container)
    return ObjectEncoder(np.asarray(values.to_numpy(dtype=object), dtype=object), container)
