"""Canonical per-value hashing: the encoding that makes a fingerprint mean "these values", not "this memory".

Every value of a column (or array element, or list item) is turned into one 64-bit hash, computed with
numpy vector operations so that millions of values cost milliseconds. The encoding, which is part of the
lockfile contract and must never depend on a library's internal hash, a memory layout or ``PYTHONHASHSEED``:

* ``mix`` is the splitmix64 finaliser (xor-shift 30/27/31, multipliers 0xbf58476d1ce4e5b9, 0x94d049bb133111eb),
  a bijection of 64-bit integers. Every kind has its own 64-bit seed (``SEEDS``) xor-ed in before mixing, so
  the integer 1, the float 1.0, ``True`` and the string "1" all hash differently.
* Nulls -- float NaN (any payload), ``None``, ``pd.NA``, ``NaT`` -- are one value, hashed to ``NULL``, whatever
  the column's kind: a float column with NaN equals a nullable ``Float64`` column with ``<NA>``.
* ``float``: all float widths are widened exactly to float64; -0.0 is 0.0; the hash is ``mix(bits ^ seed)``.
* ``int``: all integer widths (unsigned below 2**63) as int64 two's complement; ``uint`` is uint64 data with
  values >= 2**63. ``bool`` is 0/1 with its own seed. ``complex`` hashes real and imaginary parts.
* ``datetime`` and ``timedelta``: integer nanoseconds (UTC instants for tz-aware data; the time zone lives in
  the schema). Values outside the nanosecond range keep their unit under the kinds ``datetime[unit]``.
* ``str``: UTF-8 bytes (lone surrogates kept, "surrogatepass"); ``bytes``: the raw bytes. Both are hashed with
  a 64-bit polynomial ``P = sum(b[k] * R**k) mod 2**64`` (``R`` odd, fixed) then ``mix((P + len * L) ^ seed)``:
  vectorisable over one joined buffer, no per-string Python call. It is a 64-bit hash, fine for data, not
  for adversaries.
* categoricals hash as their values (the dtype is in the schema), so a categorical and an object column with
  the same strings have the same ``content``.
* anything else inside an object column: ``Decimal``/``Fraction`` by their exact text, tuples/lists/dicts by
  their canonical container hash (see ``reprotrack.fingerprint``), other objects by their type name only --
  never ``repr`` (memory addresses) and never pickle.

Pure: numpy and pandas only, no I/O.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import fractions
import math
from typing import Any, Callable

import numpy as np
import xxhash

U64 = np.uint64
MASK = (1 << 64) - 1
_M1, _M2 = U64(0xBF58476D1CE4E5B9), U64(0x94D049BB133111EB)
GOLDEN = 0x9E3779B97F4A7C15
POLY_R = 0x5BD1E9955BD1E995 | 3  # odd, == 3 mod 4: (R - 1) has a single factor 2
POLY_L = 0xC2B2AE3D27D4EB4F
NULL = 0x6E756C6C6E756C6C  # "nullnull"


def mix_int(x: int) -> int:
    """The scalar splitmix64 finaliser, identical to ``mix`` on arrays."""
    x &= MASK
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & MASK
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & MASK
    return x ^ (x >> 31)


def _seed(name: str) -> int:
    return xxhash.xxh3_64_intdigest(("reprotrack-kind:" + name).encode())


SEEDS = {k: _seed(k) for k in ("float", "int", "uint", "bool", "complex", "datetime", "timedelta", "str", "bytes",
                               "decimal", "fraction", "object", "container", "bigint")}


def seed(kind: str) -> int:
    s = SEEDS.get(kind)
    return s if s is not None else _seed(kind)


def mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser on a uint64 array, in place (returns it)."""
    t = x >> U64(30)
    x ^= t
    x *= _M1
    np.right_shift(x, U64(27), out=t)
    x ^= t
    x *= _M2
    np.right_shift(x, U64(31), out=t)
    x ^= t
    return x


def column_key(j: int) -> int:
    """Odd per-position multiplier used to combine column hashes into a row hash."""
    return mix_int(j + 1 + GOLDEN) | 1


# -- numbers ---------------------------------------------------------------------------------------------

def float_hashes(x: np.ndarray, kind: str = "float") -> np.ndarray:
    """Hash a float array (any width): -0.0 == 0.0, every NaN is the null."""
    x = np.asarray(x)
    f = x.astype(np.float64) + 0.0 if x.dtype != np.float64 else x + 0.0
    nan = np.isnan(f)
    h = f.view(U64)  # f is a fresh array: hashed in place
    h ^= U64(seed(kind))
    mix(h)
    if nan.any():
        h[nan] = U64(NULL)
    return h


def int_hashes(x: np.ndarray, kind: str = "int", mask: np.ndarray | None = None) -> np.ndarray:
    h = np.array(x, dtype=np.int64 if kind != "uint" else np.uint64, copy=True).view(U64) if x.dtype.kind != "b" \
        else x.astype(U64)
    h ^= U64(seed(kind))
    mix(h)
    if mask is not None and mask.any():
        h[mask] = U64(NULL)
    return h


def complex_hashes(x: np.ndarray) -> np.ndarray:
    z = np.asarray(x).astype(np.complex128)
    nan = np.isnan(z.real) | np.isnan(z.imag)
    re, im = float_hashes(z.real, "complex"), float_hashes(z.imag, "complex")
    re *= U64(column_key(0))
    re += im
    h = mix(re)
    if nan.any():
        h[nan] = U64(NULL)
    return h


_NS = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}


def time_ints(x: np.ndarray) -> tuple[np.ndarray, str]:
    """datetime64/timedelta64 as int64 nanoseconds (kind, with the unit kept when ns would overflow)."""
    base = "datetime" if x.dtype.kind == "M" else "timedelta"
    unit = np.datetime_data(x.dtype)[0]
    i = x.view(np.int64)
    factor = _NS.get(unit)
    if factor == 1:
        return i, base
    nat = i == np.iinfo(np.int64).min
    if factor is not None:
        lim = np.iinfo(np.int64).max // factor
        valid = i[~nat] if nat.any() else i
        if valid.size == 0 or (int(valid.min()) >= -lim and int(valid.max()) <= lim):
            out = i * factor
            out[nat] = np.iinfo(np.int64).min
            return out, base
    return i, f"{base}[{unit}]"


def time_hashes(x: np.ndarray) -> tuple[np.ndarray, str]:
    i, kind = time_ints(x)
    nat = i == np.iinfo(np.int64).min
    h = int_hashes(i, kind)
    if nat.any():
        h[nat] = U64(NULL)
    return h, kind


# -- strings and bytes -----------------------------------------------------------------------------------

class _Powers:
    """Tables of R**k and R**-k mod 2**64, grown on demand (bounded by the largest chunk hashed)."""

    def __init__(self) -> None:
        self.fwd = np.ones(1, dtype=U64)
        self.inv = np.ones(1, dtype=U64)

    def get(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        if len(self.fwd) < n:
            size = max(n, 2 * len(self.fwd), 4096)
            self.fwd = np.cumprod(np.full(size, POLY_R, dtype=U64))
            self.fwd = np.concatenate([np.ones(1, dtype=U64), self.fwd[:-1]])
            self.inv = np.cumprod(np.full(size, pow(POLY_R, -1, 1 << 64), dtype=U64))
            self.inv = np.concatenate([np.ones(1, dtype=U64), self.inv[:-1]])
        return self.fwd, self.inv


POWERS = _Powers()
MAX_BLOCK = 1 << 22  # bytes hashed per vector step: bounds the power tables and temporaries (~100 MB)


def poly_one(b: bytes) -> int:
    """Polynomial hash of one byte string (blockwise for long ones); equals the vectorised version."""
    total, scale = 0, 1
    r_block = pow(POLY_R, MAX_BLOCK, 1 << 64)
    for off in range(0, len(b), MAX_BLOCK):
        block = np.frombuffer(b, dtype=np.uint8, count=min(MAX_BLOCK, len(b) - off), offset=off)
        fwd, _ = POWERS.get(len(block))
        part = int(np.sum(block * fwd[: len(block)], dtype=U64))
        total = (total + part * scale) & MASK
        scale = (scale * r_block) & MASK
    return total


def finish_poly(poly: np.ndarray, lengths: np.ndarray, kind: str) -> np.ndarray:
    poly += lengths.astype(U64) * U64(POLY_L)
    poly ^= U64(seed(kind))
    return mix(poly)


def bytes_scalar_hash(b: bytes, kind: str) -> int:
    return mix_int(((poly_one(b) + len(b) * POLY_L) & MASK) ^ seed(kind))


def _hash_encoded(parts: list[bytes], kind: str) -> np.ndarray:
    """Hash a list of byte strings: one joined buffer, prefix sums of b*R**k, one gather per string."""
    n = len(parts)
    out = np.empty(n, dtype=U64)
    i = 0
    while i < n:
        # grow the batch while it stays under MAX_BLOCK bytes; a single huge string goes alone
        j, size = i, 0
        while j < n and (j == i or size + len(parts[j]) <= MAX_BLOCK):
            size += len(parts[j])
            j += 1
        if j == i + 1 and size > MAX_BLOCK:
            out[i] = bytes_scalar_hash(parts[i], kind)
            i = j
            continue
        batch = parts[i:j]
        lens = np.fromiter(map(len, batch), dtype=np.int64, count=len(batch))
        out[i:j] = _poly_batch(b"".join(batch), lens, kind)
        i = j
    return out


def _poly_batch(buf: bytes, lens: np.ndarray, kind: str, starts: np.ndarray | None = None) -> np.ndarray:
    b = np.frombuffer(buf, dtype=np.uint8)
    fwd, inv = POWERS.get(len(b) + 1)
    if starts is None:
        starts = np.zeros(len(lens), dtype=np.int64)
        np.cumsum(lens[:-1], out=starts[1:])
    if not len(b):
        return finish_poly(np.zeros(len(lens), dtype=U64), lens, kind)
    prod = np.multiply(b, fwd[: len(b)], dtype=U64)
    poly = np.add.reduceat(prod, np.minimum(starts, len(b) - 1))
    poly[lens == 0] = 0
    poly *= inv[starts]
    return finish_poly(poly, lens, kind)


FIXED_WIDTH_MAX = 48


def _poly_terminated(buf: bytes, n: int) -> np.ndarray:
    """Per-string hashes from a buffer of n NUL-terminated strings without interior NULs."""
    b = np.frombuffer(buf, dtype=np.uint8)
    width = buf.index(0)
    fwd, inv = POWERS.get(max(width, len(b)) + 1)
    if width <= FIXED_WIDTH_MAX and len(b) == n * (width + 1) and not b[width:: width + 1].any():
        # every string has the same length: one multiply-add per byte column, no segment bookkeeping
        m = b.reshape(n, width + 1)
        poly = np.zeros(n, dtype=U64)
        for k in range(width):
            poly += m[:, k] * fwd[k]
        return finish_poly(poly, np.full(n, width, dtype=np.int64), "str")
    ends = np.flatnonzero(b == 0)
    starts = np.empty(n, dtype=np.int64)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    prod = np.multiply(b, fwd[: len(b)], dtype=U64)
    poly = np.add.reduceat(prod, starts)  # each segment ends with its terminator (product 0): never empty
    poly *= inv[starts]
    return finish_poly(poly, ends - starts, "str")


STR_BATCH = 1 << 16


def _str_batch(values: list[str]) -> np.ndarray:
    """Per-string hashes of one batch: one NUL-terminated buffer, no per-string Python work on the fast path."""
    n = len(values)
    if not n:
        return np.zeros(0, dtype=U64)
    buf = ("\x00".join(values) + "\x00").encode("utf-8", "surrogatepass")
    b = np.frombuffer(buf, dtype=np.uint8)
    if len(b) - np.count_nonzero(b) == n and len(buf) <= MAX_BLOCK:
        return _poly_terminated(buf, n)
    return _hash_encoded([v.encode("utf-8", "surrogatepass") for v in values], "str")


def str_hashes(values: list[str] | np.ndarray, kind: str = "str") -> np.ndarray:
    """Per-string hashes (no nulls), batch by batch."""
    values = values if isinstance(values, list) else list(values)
    if len(values) <= STR_BATCH:
        return _str_batch(values)
    out = np.empty(len(values), dtype=U64)
    for lo in range(0, len(values), STR_BATCH):
        out[lo: lo + STR_BATCH] = _str_batch(values[lo: lo + STR_BATCH])
    return out


def bytes_hashes(values: list[bytes]) -> np.ndarray:
    return _hash_encoded([bytes(v) for v in values], "bytes")


# -- scalars and object columns --------------------------------------------------------------------------

def is_null(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, float):
        return v != v
    try:
        import pandas as pd

        if v is pd.NA or v is pd.NaT:
            return True
    except ImportError:  # pragma: no cover
        pass
    if isinstance(v, (np.floating, np.complexfloating)):
        return bool(np.isnan(v))
    if isinstance(v, (np.datetime64, np.timedelta64)):
        return bool(np.isnat(v))
    return False


def scalar_hash(v: Any, container: Callable[[Any], int] | None = None) -> int:
    """The 64-bit canonical hash of one value: equal to what the vectorised column hashers give it."""
    if is_null(v):
        return NULL
    if isinstance(v, (bool, np.bool_)):
        return mix_int(int(v) ^ seed("bool"))
    if isinstance(v, (int, np.integer)):
        v = int(v)
        if -(1 << 63) <= v < (1 << 63):
            return mix_int((v & MASK) ^ seed("int"))
        if 0 <= v < (1 << 64):
            return mix_int(v ^ seed("uint"))
        return bytes_scalar_hash(str(v).encode(), "bigint")
    if isinstance(v, (float, np.floating)):
        return int(float_hashes(np.array([v], dtype=np.float64))[0])
    if isinstance(v, (complex, np.complexfloating)):
        return int(complex_hashes(np.array([v], dtype=np.complex128))[0])
    if isinstance(v, str):
        return bytes_scalar_hash(v.encode("utf-8", "surrogatepass"), "str")
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes_scalar_hash(bytes(v), "bytes")
    if isinstance(v, (np.datetime64, np.timedelta64)):
        h, _ = time_hashes(np.array([v]))
        return int(h[0])
    if isinstance(v, _dt.datetime) or isinstance(v, _dt.timedelta):
        try:
            import pandas as pd

            arr = np.array([pd.Timestamp(v).tz_convert("UTC").tz_localize(None) if getattr(v, "tzinfo", None)
                            else pd.Timestamp(v) if isinstance(v, _dt.datetime) else pd.Timedelta(v)])
            h, _ = time_hashes(arr.astype("M8[ns]" if isinstance(v, _dt.datetime) else "m8[ns]"))
            return int(h[0])
        except Exception:  # noqa: BLE001 - out of range: fall back to the ISO text
            return bytes_scalar_hash(str(v).encode(), "datetime-text")
    if isinstance(v, _dt.date):
        return bytes_scalar_hash(v.isoformat().encode(), "date")
    if isinstance(v, decimal.Decimal):
        return bytes_scalar_hash(str(v).encode(), "decimal")
    if isinstance(v, fractions.Fraction):
        return bytes_scalar_hash(f"{v.numerator}/{v.denominator}".encode(), "fraction")
    if container is not None:
        return container(v)
    return bytes_scalar_hash(type_name(v).encode(), "object")


def object_hashes(values: np.ndarray, container: Callable[[Any], int] | None = None) -> np.ndarray:
    """Hash an object array: strings vectorised together, everything else one value at a time."""
    import pandas._libs.lib as lib

    values = np.asarray(values, dtype=object).ravel()
    if len(values) and lib.is_string_array(values, skipna=False):
        return str_hashes(values.tolist())
    out = np.empty(len(values), dtype=U64)
    groups: dict[type, list[int]] = {str: [], float: [], int: [], bool: []}
    items = values.tolist()
    for i, v in enumerate(items):
        g = groups.get(type(v))
        if g is not None and (type(v) is not int or -(1 << 63) <= v < (1 << 63)):
            g.append(i)
        else:
            out[i] = scalar_hash(v, container)
    for t, idx_list in groups.items():
        if not idx_list:
            continue
        idx = np.asarray(idx_list, dtype=np.intp)
        vals = [items[i] for i in idx_list]
        if t is str:
            out[idx] = str_hashes(vals)
        elif t is float:
            out[idx] = float_hashes(np.array(vals, dtype=np.float64))
        else:
            out[idx] = int_hashes(np.array(vals, dtype=np.int64), "bool" if t is bool else "int")
    return out


def type_name(obj: Any) -> str:
    """Public dotted name of an object's type: ``pandas.DataFrame``, ``sklearn.linear_model.LogisticRegression``."""
    cls = obj if isinstance(obj, type) else type(obj)
    module = getattr(cls, "__module__", "") or ""
    name = getattr(cls, "__qualname__", None) or getattr(cls, "__name__", "object")
    if module == "builtins":
        return name
    top = module.split(".")[0]
    if top in ("pandas", "numpy"):
        return f"{top}.{name}"
    public = []
    for part in module.split("."):
        if part.startswith("_"):
            break
        public.append(part)
    return ".".join(public + [name]) if public else name


def is_finite_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
