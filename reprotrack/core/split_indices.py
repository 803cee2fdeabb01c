"""The compact, documented encoding of split indices stored in a lock.

A split part (the train or test rows of one fold) is a sequence of non-negative integer positions. The lock
keeps, per part, its size, a digest, and (up to ``MAX_ENCODED`` indices) the exact indices:

``encode(indices)`` →
``{"encoding": "delta-zigzag-varint+zlib+base64", "order": "as-returned", "n": N, "data": "<base64>"}``

* ``order`` is ``"as-returned"``: the indices in the order the splitter returned them (a shuffled
  ``train_test_split`` returns rows in permutation order, and that order reaches the model), or
  ``"sorted"``: ascending, which ``describe_part`` stores for parts of more than ``MAX_ORDERED`` indices
  (a shuffled order costs ~3 bytes an index, a sorted part well under one); their order is still
  verified by ``sha256``;
* each index is replaced by its difference to the previous one (the first by itself), differences are
  zigzag-mapped to unsigned integers (0, -1, 1, -2… → 0, 1, 2, 3…), written as LEB128 varints (7 bits a
  byte, high bit set on all but the last byte of a number), compressed with zlib (level 6: level 9 is
  20× slower on fold-shaped data for 10% less) and base64-encoded (standard alphabet, padded).

``digest(indices)`` is the sha256 (hex) of the indices as little-endian int64, in the order returned.
``set_digest`` is the same over the sorted indices: equal set digests with different digests mean the same
rows in another order.

Pure: numpy, zlib, hashlib and base64 only; no I/O, no IPython.
"""

from __future__ import annotations

import base64
import hashlib
import zlib
from typing import Any

import numpy as np

ENCODING = "delta-zigzag-varint+zlib+base64"
ORDER = "as-returned"
#: Parts larger than this keep only size and digests (``"indices": null``): a lock stays small.
MAX_ENCODED = 1_000_000
#: Parts larger than this are stored sorted rather than in the order returned.
MAX_ORDERED = 100_000
ORDERS = ("as-returned", "sorted")
#: Decoding refuses more than this (a corrupt or hostile lock must not exhaust memory).
MAX_DECODED = 50_000_000


def as_index_array(indices: Any) -> np.ndarray:
    """Indices as a 1-d int64 array (boolean masks become the positions they select)."""
    arr = np.asarray(indices)
    if arr.dtype == bool:
        arr = np.flatnonzero(arr)
    arr = arr.reshape(-1)
    if arr.size and arr.dtype.kind not in "iu":
        raise TypeError(f"split indices must be integers, got dtype {arr.dtype}")
    return arr.astype("<i8", copy=False)


def digest(indices: Any) -> str:
    """sha256 of the indices as little-endian int64, in the order given."""
    arr = as_index_array(indices)
    return hashlib.sha256(np.ascontiguousarray(arr, dtype="<i8").tobytes()).hexdigest()


def set_digest(indices: Any) -> str:
    """sha256 of the sorted indices: the same rows in any order give the same value."""
    arr = as_index_array(indices)
    return digest(arr if _is_sorted(arr) else np.sort(arr))


def encode(indices: Any, *, order: str = ORDER) -> dict[str, Any]:
    """The documented compact form of ``indices`` (see the module docstring); ``order="sorted"`` sorts first."""
    if order not in ORDERS:
        raise ValueError(f"order must be one of {ORDERS}")
    arr = as_index_array(indices)
    if order == "sorted" and not _is_sorted(arr):
        arr = np.sort(arr)
    deltas = np.diff(arr, prepend=np.int64(0)) if arr.size else arr
    zig = ((deltas << 1) ^ (deltas >> 63)).view(np.uint64)
    raw = _varint(zig)
    data = base64.b64encode(zlib.compress(raw, 6)).decode("ascii")
    return {"encoding": ENCODING, "order": order, "n": int(arr.size), "data": data}


def decode(encoded: dict[str, Any]) -> np.ndarray:
    """The int64 indices of an ``encode`` result, in the recorded order. Raises ValueError on anything else."""
    if not isinstance(encoded, dict) or encoded.get("encoding") != ENCODING:
        raise ValueError(f"not {ENCODING!r} encoded indices")
    if encoded.get("order", ORDER) not in ORDERS:
        raise ValueError(f"unknown order {str(encoded.get('order'))[:40]!r} of encoded indices")
    n = encoded.get("n")
    data = encoded.get("data")
    if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= MAX_DECODED or not isinstance(data, str):
        raise ValueError("encoded indices need an integer 'n' and a base64 'data' string")
    try:
        inflater = zlib.decompressobj()
        raw = inflater.decompress(base64.b64decode(data.encode("ascii"), validate=True), 10 * n + 16)
    except (ValueError, zlib.error) as exc:
        raise ValueError(f"encoded indices are corrupt: {exc}") from None
    if inflater.unconsumed_tail:
        raise ValueError(f"encoded indices are corrupt: more data than n={n} indices")
    zig = _unvarint(np.frombuffer(raw, dtype=np.uint8), n)
    deltas = (zig >> np.uint64(1)).view(np.int64) ^ -(zig & np.uint64(1)).view(np.int64)
    return np.cumsum(deltas, dtype=np.int64)


def describe_part(
    indices: Any, *, cap: int = MAX_ENCODED, ordered_cap: int = MAX_ORDERED, sha256: str | None = None
) -> dict[str, Any]:
    """What the lock keeps of one split part: size, digests, and the encoded indices up to ``cap`` (in the
    order returned up to ``ordered_cap``, sorted beyond). ``sha256``: ``digest(indices)`` if already known."""
    arr = as_index_array(indices)
    sha256 = sha256 or digest(arr)
    ordered = _is_sorted(arr)
    sorted_arr = arr if ordered else np.sort(arr)
    if arr.size > cap:
        encoded = None
    elif ordered or arr.size <= ordered_cap:
        encoded = encode(arr)
    else:
        encoded = encode(sorted_arr, order="sorted")
    return {
        "size": int(arr.size),
        "sha256": sha256,
        "set_sha256": sha256 if ordered else digest(sorted_arr),
        "indices": encoded,
    }


def _is_sorted(arr: np.ndarray) -> bool:
    return arr.size < 2 or bool(np.all(arr[1:] >= arr[:-1]))


def _varint(values: np.ndarray) -> bytes:
    """LEB128 of unsigned 64-bit values, vectorised: one column per 7-bit group."""
    if values.size == 0:
        return b""
    groups = []
    rest = values.copy()
    while True:
        groups.append((rest & np.uint64(0x7F)).astype(np.uint8))
        rest = rest >> np.uint64(7)
        if not rest.any():
            break
    table = np.stack(groups, axis=1)  # (n, k)
    k = table.shape[1]
    # bytes needed per value: index of its highest non-zero group + 1 (at least 1)
    nonzero = table != 0
    needed = np.where(nonzero.any(axis=1), k - np.argmax(nonzero[:, ::-1], axis=1), 1)
    cols = np.arange(k)
    keep = cols[None, :] < needed[:, None]
    cont = cols[None, :] < (needed - 1)[:, None]
    table = table | (cont.astype(np.uint8) << np.uint8(7))
    return table[keep].tobytes()


def _unvarint(raw: np.ndarray, n: int) -> np.ndarray:
    if n == 0:
        if raw.size:
            raise ValueError("encoded indices are corrupt: data for zero indices")
        return np.zeros(0, dtype=np.uint64)
    ends = np.flatnonzero(raw < 0x80)
    if ends.size != n or ends[-1] != raw.size - 1:
        raise ValueError(f"encoded indices are corrupt: {ends.size} numbers for n={n}")
    starts = np.concatenate(([0], ends[:-1] + 1))
    lengths = ends - starts + 1
    if lengths.max() > 10:
        raise ValueError("encoded indices are corrupt: a number longer than 64 bits")
    position = np.arange(raw.size) - np.repeat(starts, lengths)
    parts = (raw & 0x7F).astype(np.uint64) << (np.uint64(7) * position.astype(np.uint64))
    return np.add.reduceat(parts, starts)
