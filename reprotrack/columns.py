"""Column encoders: one 1-D column of any pandas/numpy dtype, seen as canonical bytes, row hashes and numbers.

A fingerprint walks a table in row chunks. For each chunk a column feeds its canonical content bytes to an
xxh3 hasher (and its null mask, one byte per row, to a second one when the column has nulls) and, when asked,
returns its per-row 64-bit hashes. The content bytes of each kind (the ``kind`` is part of the column digest):

* ``float``/``complex``: float64 values (complex: real, imaginary interleaved), -0.0 as 0.0, every NaN (and
  every null) as the quiet NaN 0x7ff8000000000000; no mask;
* ``int``/``uint``/``bool``: int64 / uint64 / uint8 values, nulls as 0 plus the mask;
* ``datetime``/``timedelta``: int64 nanoseconds (UTC), NaT as int64 min; no mask;
* ``str`` and ``object`` (mixed types), both under the content kind "object": the 64-bit canonical hash of
  each value (``canonical.scalar_hash``: for strings the polynomial hash of the UTF-8 bytes), nulls as
  ``canonical.NULL``; no mask. Strings are not streamed byte by byte: a per-value hash is what makes
  factorised, categorical and plain columns agree cheaply; the price is 64-bit (non-cryptographic) strength
  per string.

All little-endian and independent of the chunk size. Categoricals produce exactly the bytes of their values
(so they equal the same values stored as objects). For statistics a column gives float64 values (nulls as
NaN) or integer codes into its distinct values. Encoders copy nothing beyond one chunk or one factorisation.

Pure: numpy and pandas only, no I/O.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pandas as pd

from . import canonical as C

CANON_NAN = np.frombuffer(np.uint64(0x7FF8000000000000).tobytes(), dtype=np.float64)[0]
INT64_MIN = np.iinfo(np.int64).min


class Encoder:
    """Base: ``kind``, ``n``, ``has_mask``; ``chunk``; optional ``numbers``, ``labels``, ``take_floats``."""

    kind = "object"
    n = 0
    has_mask = False

    @property
    def content_kind(self) -> str:
        """The kind named in the column's content digest (fixed before the first chunk is hashed)."""
        return self.kind

    def chunk(self, lo: int, hi: int, values: Any, mask: Any, want: bool) -> np.ndarray | None:
        """Feed rows [lo, hi) to the ``values`` (and ``mask``) hashers; return per-row hashes if ``want``."""
        raise NotImplementedError  # pragma: no cover

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

    def __init__(self, values: np.ndarray, mask: np.ndarray | None = None):
        self.values = values
        self.n = len(values)
        self.mask = mask if mask is not None and mask.any() else None
        k = values.dtype.kind
        self.factor = 1
        if k == "f":
            self.kind = "float"
        elif k == "b":
            self.kind = "bool"
        elif k == "c":
            self.kind = "complex"
        elif k in "mM":
            self.kind, self.factor = _time_kind(values)
        elif k == "u" and values.dtype.itemsize == 8 and self.n and int(values.max()) >= 1 << 63:
            self.kind = "uint"
        else:
            self.kind = "int"
        self.has_mask = self.mask is not None and self.kind not in ("float", "complex", "datetime", "timedelta")

    def canonical(self, v: np.ndarray, m: np.ndarray | None) -> np.ndarray:
        """A fresh array of canonical values for a slice (``m``: nulls)."""
        kind = self.kind
        if kind == "float":
            f = np.add(v, 0.0, dtype=np.float64)  # a fresh float64 array, -0.0 turned into 0.0
            nan = np.isnan(f)
            if m is not None:
                nan |= m
            if nan.any():
                f[nan] = CANON_NAN
            return f
        if kind == "complex":
            z = v.astype(np.complex128)
            out = np.empty((len(z), 2), dtype=np.float64)
            out[:, 0] = z.real + 0.0
            out[:, 1] = z.imag + 0.0
            nan = np.isnan(out).any(axis=1) | (m if m is not None else False)
            out[nan] = CANON_NAN
            return out.reshape(-1)
        if kind in ("datetime", "timedelta") or kind.startswith(("datetime[", "timedelta[")):
            i = v.view(np.int64)
            nat = i == INT64_MIN
            if m is not None:
                nat |= m
            out = i * self.factor if self.factor != 1 else i.copy()
            out[nat] = INT64_MIN
            return out
        if kind == "bool":
            out = v.astype(np.uint8)
        else:
            out = v.astype(np.uint64 if kind == "uint" else np.int64)
            if out is v or np.shares_memory(out, v):
                out = out.copy()
        if m is not None and m.any():
            out[m] = 0
        return out

    def hashes_of(self, canon: np.ndarray, m: np.ndarray | None) -> np.ndarray:
        """Row-hash contributions of numbers: their canonical 64-bit patterns, unmixed (the row hash mixes).

        Numbers need no per-value mixing: a row's columns are combined with odd per-column multipliers and
        the sum is mixed once, and canonical 64-bit patterns are already distinct for distinct values.
        """
        kind = self.kind
        if kind == "complex":
            pair = canon.reshape(-1, 2).view(C.U64)
            h = pair[:, 0] * C.U64(C.column_key(0))
            h += pair[:, 1]
            return h
        if kind == "bool":
            h = canon.astype(C.U64)
        else:
            h = canon.view(C.U64)
        if m is not None and m.any():  # canon is fresh and already hashed into the content: reuse it
            h[m] = C.U64(C.NULL)
        return h

    def chunk(self, lo: int, hi: int, values: Any, mask: Any, want: bool) -> np.ndarray | None:
        m = self.mask[lo:hi] if self.mask is not None else None
        return self.chunk_values(self.values[lo:hi], m, values, mask, want)

    def chunk_values(self, v: np.ndarray, m: np.ndarray | None, values: Any, mask: Any,
                     want: bool) -> np.ndarray | None:
        canon = self.canonical(v, m)
        values.update(canon if canon.dtype.byteorder in "<=|" else canon.astype(canon.dtype.newbyteorder("<")))
        if mask is not None:
            mask.update(m.view(np.uint8) if m is not None else np.zeros(len(v), dtype=np.uint8))
        return self.hashes_of(canon, m) if want else None

    def numbers(self, lo: int, hi: int) -> np.ndarray | None:
        v = self.values[lo:hi]
        if self.kind == "complex":
            return None
        if self.kind.startswith(("datetime", "timedelta")):
            i = v.view(np.int64)
            f = i * (_seconds_per(v.dtype))
            f[i == INT64_MIN] = np.nan
        elif self.kind == "float":  # contiguous: the summation order must not depend on the layout
            f = np.ascontiguousarray(v) if v.dtype == np.float64 else v.astype(np.float64)
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


def _time_kind(values: np.ndarray) -> tuple[str, int]:
    """Nanoseconds when the whole column fits in them (decided once, so chunks agree), else the own unit."""
    base = "datetime" if values.dtype.kind == "M" else "timedelta"
    unit = np.datetime_data(values.dtype)[0]
    factor = C._NS.get(unit)
    if factor == 1:
        return base, 1
    if factor is not None:
        i = values.view(np.int64)
        lim = np.iinfo(np.int64).max // factor
        if not len(i) or (int(i.max()) <= lim and _min_not_nat(i) >= -lim):
            return base, factor
    return f"{base}[{unit}]", 1


def _min_not_nat(i: np.ndarray, step: int = 1 << 20) -> int:
    """Smallest value that is not NaT (int64 min), chunk by chunk (no masked copy of the column)."""
    low = int(i.min()) if len(i) else 0
    if low != INT64_MIN:
        return low
    best = None
    for lo in range(0, len(i), step):
        part = i[lo: lo + step]
        part = part[part != INT64_MIN]
        if len(part):
            m = int(part.min())
            best = m if best is None else min(best, m)
    return best if best is not None else 0


def _seconds_per(dtype: np.dtype) -> float:
    unit = np.datetime_data(dtype)[0]
    try:
        return float(np.timedelta64(1, unit) / np.timedelta64(1, "s"))
    except (TypeError, ValueError):  # years and months have no fixed length
        return 1.0


class CategoricalEncoder(Encoder):
    """pandas Categorical: the bytes and hashes of its values (taken from the categories by code)."""

    def __init__(self, cat: pd.Categorical, container: Callable[[Any], int] | None = None):
        self.codes = np.asarray(cat.codes)
        self.n = len(self.codes)
        self.categories = encoder_for(cat.categories, container)
        self.kind = self.categories.kind
        self.cat_list = list(cat.categories)
        self.nulls = bool((self.codes < 0).any())
        self.has_mask = self.nulls and self.kind in ("int", "uint", "bool")
        self.cat_array = (self.categories.values if hasattr(self.categories, "values")
                          else np.asarray(cat.categories, dtype=object))
        self.uh: np.ndarray | None = None

    @property
    def content_kind(self) -> str:
        return self.categories.content_kind

    def prepare(self, full: bool) -> None:
        if self.uh is None:
            self.uh = _all_hashes(self.categories)
            self.kind = self.categories.kind

    def chunk(self, lo: int, hi: int, values: Any, mask: Any, want: bool) -> np.ndarray | None:
        codes = self.codes[lo:hi]
        null = codes < 0
        if isinstance(self.categories, NumberEncoder):  # numbers: exactly the bytes of the values
            picked = self.cat_array.take(np.maximum(codes, 0)) if len(self.cat_array) else \
                np.zeros(hi - lo, dtype=self.cat_array.dtype)
            return self.categories.chunk_values(picked, null if self.nulls else None, values,
                                                mask if self.has_mask else None, want)
        h = self.uh.take(np.maximum(codes, 0)) if len(self.uh) else np.zeros(hi - lo, dtype=C.U64)
        h[null] = C.U64(C.NULL)
        values.update(h.astype("<u8", copy=False))
        return h

    def numbers(self, lo: int, hi: int) -> np.ndarray | None:
        if not isinstance(self.categories, NumberEncoder) or self.kind in ("bool", "complex"):
            return None
        nums = self.categories.numbers(0, self.categories.n)
        codes = self.codes[lo:hi]
        f = nums.take(np.maximum(codes, 0)) if len(nums) else np.full(hi - lo, np.nan)
        f[codes < 0] = np.nan
        return f

    def labels(self) -> tuple[np.ndarray, list[Any]] | None:
        return self.codes, self.cat_list

    def take_floats(self, positions: np.ndarray) -> np.ndarray | None:
        floats = self.categories.take_floats(np.arange(self.categories.n))
        if floats is None:
            return None
        codes = self.codes[positions]
        f = floats.take(np.maximum(codes, 0)) if len(floats) else np.full(len(codes), np.nan)
        f[codes < 0] = np.nan
        return f


class _Sink:
    def update(self, _: Any) -> None:
        pass


def _all_hashes(enc: Encoder) -> np.ndarray:
    if hasattr(enc, "prepare"):
        enc.prepare(True)
    h = enc.chunk(0, enc.n, _Sink(), None, True)
    return h if h is not None else np.zeros(0, dtype=C.U64)


class BlockEncoder(Encoder):
    """Rows that are fixed-size sub-arrays (N-d arrays, structured sub-fields): element hashes, one per row."""

    kind = "block"

    def __init__(self, values: np.ndarray, container: Callable[[Any], int] | None = None):
        self.values = values
        self.n = len(values)
        self.width = int(np.prod(values.shape[1:])) if values.ndim > 1 else 1
        self.keys = key_vector(self.width)
        self.container = container

    def chunk(self, lo: int, hi: int, values: Any, mask: Any, want: bool) -> np.ndarray | None:
        flat = np.ascontiguousarray(self.values[lo:hi]).reshape(-1)
        h = element_hashes(flat, self.container)
        values.update(h.astype("<u8", copy=False))
        return combine_rows(h.reshape(hi - lo, self.width), self.keys) if want else None

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
    r = h[:, 0] * keys[0] if h.shape[1] == 1 else np.sum(h * keys[None, :], axis=1, dtype=C.U64)
    return C.mix(r)


def element_hashes(flat: np.ndarray, container: Callable[[Any], int] | None = None) -> np.ndarray:
    """Per-element canonical hashes of a contiguous 1-D numpy array of any dtype."""
    k = flat.dtype.kind
    if k in "fiubcmM":
        return _all_hashes(NumberEncoder(flat))
    if k == "U":
        return C.str_hashes(flat.tolist())
    if k == "S":
        return C.bytes_hashes(flat.tolist())
    return C.object_hashes(flat.astype(object, copy=False), container)


def encoder_for(values: Any, container: Callable[[Any], int] | None = None) -> Encoder:
    """Pick the encoder for a pandas Series/Index/ExtensionArray or a 1-D numpy array."""
    from .object_columns import ObjectEncoder

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
        if dtype.kind == "S":
            return ObjectEncoder(arr.astype(object), container, factorize=False)
        return ObjectEncoder(arr.astype(object, copy=False), container)
    if isinstance(dtype, pd.DatetimeTZDtype):
        return NumberEncoder(np.asarray(values.tz_convert("UTC").tz_localize(None)))
    kind = getattr(dtype, "kind", "O")
    if isinstance(dtype, pd.api.extensions.ExtensionDtype) and kind in "iufb" and hasattr(values, "isna"):
        mask = np.asarray(values.isna(), dtype=bool)
        if kind == "f":
            return NumberEncoder(values.to_numpy(dtype=np.float64, na_value=np.nan), mask)
        np_dtype = {"i": np.int64, "u": np.uint64, "b": np.bool_}[kind]
        return NumberEncoder(values.to_numpy(dtype=np_dtype, na_value=np_dtype(0)), mask)
    if isinstance(dtype, pd.PeriodDtype):
        return NumberEncoder(np.asarray(values.asi8), np.asarray(values.isna()))
    if isinstance(dtype, pd.SparseDtype):
        return encoder_for(np.asarray(values), container)
    return ObjectEncoder(np.asarray(values.to_numpy(dtype=object), dtype=object), container)
