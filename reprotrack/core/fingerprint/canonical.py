"""Canonical values: what "the same value" means for a fingerprint, whatever the memory layout.

Part of the lockfile contract: it never depends on a library's internal hash, a memory layout or
``PYTHONHASHSEED``, and changes only with the ``reprotrack-fingerprint/N`` content header. The hashing
primitives (splitmix64 ``mix``, per-kind ``seed``, the polynomial string hash) live in ``reprotrack.core.fingerprint.hashing``;
how columns turn values into content bytes and row hashes is in ``reprotrack.core.fingerprint.encoders.base``.

* Nulls -- float NaN (any payload), ``None``, ``pd.NA``, ``NaT``, ``Decimal("NaN")`` -- are one value,
  ``NULL``, whatever the kind.
* ``float``: widened exactly to float64, -0.0 is 0.0. ``int``: every width as int64 (``uint`` only for
  uint64 data >= 2**63); ``bool`` 0/1, its own kind: ``1``, ``1.0`` and ``True`` are three different values.
* ``datetime``/``timedelta``: int64 nanoseconds, UTC for tz-aware data (the time zone lives in the schema);
  values outside the nanosecond range keep their unit (kind ``datetime[s]`` ...).
* ``str``: UTF-8 bytes (lone surrogates kept, "surrogatepass"); ``bytes``: raw bytes.
* ``scalar_hash`` gives one value its 64-bit hash (``Decimal``/``Fraction`` by exact text, containers through
  a callback, any other object by its type name only -- never ``repr``, never pickle); ``object_hashes``
  does it for an object array, vectorising strings, floats, ints and bools.

Pure: numpy and pandas only, no I/O.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import fractions
import sys
from typing import Any, Callable

import numpy as np

from reprotrack.core.fingerprint.hashing import (  # noqa: F401
    GOLDEN,
    MASK,
    NULL,
    STR_BATCH,
    U64,
    bytes_hashes,
    bytes_scalar_hash,
    column_key,
    mix,
    mix_int,
    seed,
    str_hashes,
)

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


# -- scalars and object columns --------------------------------------------------------------------------

def is_null(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, float):
        return v != v
    pd = sys.modules.get("pandas")  # not imported: no value can be pandas' NA or NaT (and none is loaded)
    if pd is not None and (v is getattr(pd, "NA", None) or v is getattr(pd, "NaT", None)):
        return True
    if isinstance(v, (complex, np.floating, np.complexfloating)):
        return bool(np.isnan(v))
    if isinstance(v, (np.datetime64, np.timedelta64)):
        return bool(np.isnat(v))
    if isinstance(v, decimal.Decimal):
        return v.is_nan()
    return False


def scalar_hash(v: Any, container: Callable[[Any], int] | None = None) -> int:
    """The 64-bit canonical hash of one value (items of object columns, lists, dict keys and values)."""
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
            h, _ = time_hashes(_time_ns(v))
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


_EPOCH = _dt.datetime(1970, 1, 1)
_MICROSECOND = _dt.timedelta(microseconds=1)


def _time_ns(v: _dt.datetime | _dt.timedelta) -> np.ndarray:
    """A datetime (aware ones in UTC) or timedelta as a one-item ``M8[ns]``/``m8[ns]`` array; OverflowError
    outside the nanoseconds' range (the caller falls back to the text). A pandas Timestamp/Timedelta may hold
    nanoseconds and is converted by pandas; a Python one by hand, so a notebook without pandas never loads it.
    (numpy wraps around silently when a unit conversion overflows: pandas 3 keeps a year-1 Timestamp in
    microseconds, which ``astype("M8[ns]")`` turned into 1754; the round trip below refuses that.)"""
    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(v, (pd.Timestamp, pd.Timedelta)):
        if isinstance(v, pd.Timestamp) and v.tzinfo is not None:
            v = v.tz_convert("UTC").tz_localize(None)
        raw = np.asarray(v.to_numpy())
        ns = raw.astype("M8[ns]" if raw.dtype.kind == "M" else "m8[ns]")
        if ns.astype(raw.dtype) != raw:
            raise OverflowError("outside the nanosecond range")
        return ns.reshape(1)
    if isinstance(v, _dt.datetime):
        if v.tzinfo is not None and v.utcoffset() is not None:
            v = v.astimezone(_dt.timezone.utc).replace(tzinfo=None)
        micros, kind = (v.replace(tzinfo=None) - _EPOCH) // _MICROSECOND, "M8[ns]"
    else:
        micros, kind = v // _MICROSECOND, "m8[ns]"
    nanos = micros * 1000
    if not -(1 << 63) < nanos < (1 << 63):
        raise OverflowError("outside the nanosecond range")
    return np.array([nanos], dtype=np.int64).view(kind)


def null_mask(values: np.ndarray) -> np.ndarray:
    """Which items of a 1-D object array are nulls (``is_null``): pandas' vectorised ``isna`` when pandas is
    loaded (a pandas column comes with it), else value by value (a list in a notebook without pandas)."""
    pd = sys.modules.get("pandas")
    if pd is not None:
        return np.asarray(pd.isna(values), dtype=bool)
    return np.fromiter(map(is_null, values.tolist()), dtype=bool, count=len(values))


def object_hashes(values: np.ndarray, container: Callable[[Any], int] | None = None) -> np.ndarray:
    """Hash an object array: all strings (with or without nulls) in one vector pass, else value by value
    with str/float/int/bool values still vectorised by group."""
    values = np.asarray(values, dtype=object).ravel()
    items = values.tolist()
    try:
        return str_hashes(items)
    except TypeError:
        pass
    kinds = set(map(type, items))
    if kinds == {float} or kinds == {bool}:
        return (float_hashes(np.array(items, dtype=np.float64)) if float in kinds
                else int_hashes(np.array(items, dtype=np.int64), "bool"))
    if kinds == {int}:
        try:
            return int_hashes(np.array(items, dtype=np.int64), "int")
        except OverflowError:
            pass
    if str in kinds:  # strings with nulls: still one vector pass
        null = null_mask(values)
        if null.any():
            out = np.full(len(values), NULL, dtype=U64)
            try:
                out[~null] = str_hashes(values[~null].tolist())
                return out
            except TypeError:
                pass
    out = np.empty(len(values), dtype=U64)
    groups: dict[type, list[int]] = {str: [], float: [], int: [], bool: []}
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
