"""Numbers, booleans and date/times: the values themselves are the canonical bytes (see ``encoders.base``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from reprotrack.core.fingerprint import canonical as C
from reprotrack.core.fingerprint.encoders.base import CANON_NAN, INT64_MIN, Encoder


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
        """Canonical values for a slice (``m``: nulls): ``v`` itself when it already is (native int64 or bool,
        nanosecond times without NaT, no nulls), else a fresh array. Callers never write to it."""
        kind = self.kind
        native = v.dtype.byteorder in "=<|" and v.flags.c_contiguous
        if kind == "int" and m is None and native and v.dtype == np.int64:
            return v
        if kind == "bool" and m is None and native:
            return v.view(np.uint8)
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
            if self.factor == 1 and native and not nat.any():
                return i
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
        if m is not None and m.any():  # canon is fresh (a mask makes it so) and already hashed: reuse it
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


