"""Partition summaries as plain bytes: a JSON header and raw array buffers, no pickle.

Spark ships a Python result from an executor to the driver as a column value; a summary
(``reprotrack.core.fingerprint.distributed.partition``) holds dicts, tuples, numpy arrays, ``bytes`` block pieces,
``colstats.NumberStats`` accumulators and JSON-safe labels. ``encode`` writes the structure as JSON with
tagged nodes (arrays, bytes, tuples, non-finite floats, accumulators) and appends every binary buffer after
it, so decoding never executes anything: a summary read from an untrusted or corrupted payload can at worst
fail to parse. Floats go through ``repr`` (JSON's float form), which round-trips float64 exactly, so a
decoded summary merges to the same fingerprint bit for bit.

Pure: numpy and json only.
"""

from __future__ import annotations

import json
import math
import struct
from typing import Any

import numpy as np

from reprotrack.core.fingerprint import colstats

MAGIC = b"RTS1"
_STATS_FIELDS = ("count", "nulls", "posinf", "neginf", "mean", "m2", "lo", "hi")


def encode(obj: Any) -> bytes:
    buffers: list[bytes] = []
    header = json.dumps(_pack(obj, buffers), separators=(",", ":"), allow_nan=False).encode()
    sizes = struct.pack(f"<{len(buffers)}Q", *[len(b) for b in buffers])
    return b"".join([MAGIC, struct.pack("<QQ", len(header), len(buffers)), header, sizes, *buffers])


def decode(data: bytes) -> Any:
    data = memoryview(data)
    if bytes(data[:4]) != MAGIC:
        raise ValueError("not a reprotrack partition summary")
    hlen, nbuf = struct.unpack_from("<QQ", data, 4)
    at = 20
    header = json.loads(bytes(data[at: at + hlen]))
    at += hlen
    sizes = struct.unpack_from(f"<{nbuf}Q", data, at)
    at += 8 * nbuf
    buffers = []
    for size in sizes:
        buffers.append(data[at: at + size])
        at += size
    return _unpack(header, buffers)


def _float(x: float) -> Any:
    return x if math.isfinite(x) else {"$f": repr(x)}


def _pack(obj: Any, buffers: list[bytes]) -> Any:
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (int, np.integer)) and not isinstance(obj, np.bool_):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return _float(float(obj))
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, (bytes, bytearray, memoryview)):
        buffers.append(bytes(obj))
        return {"$b": len(buffers) - 1}
    if isinstance(obj, np.ndarray):
        if obj.dtype.hasobject:
            return {"$o": [_pack(x, buffers) for x in obj.tolist()]}
        buffers.append(np.ascontiguousarray(obj).tobytes())
        return {"$a": [obj.dtype.str, list(obj.shape), len(buffers) - 1]}
    if isinstance(obj, tuple):
        return {"$t": [_pack(x, buffers) for x in obj]}
    if isinstance(obj, list):
        return [_pack(x, buffers) for x in obj]
    if isinstance(obj, dict):
        if all(isinstance(k, str) for k in obj):
            return {"$d": {k: _pack(v, buffers) for k, v in obj.items()}}
        return {"$k": [[_pack(k, buffers), _pack(v, buffers)] for k, v in obj.items()]}
    if isinstance(obj, colstats.NumberStats):
        return {"$s": [_pack(getattr(obj, f), buffers) for f in _STATS_FIELDS]}
    raise TypeError(f"cannot encode {type(obj).__name__} in a partition summary")


def _unpack(node: Any, buffers: list[memoryview]) -> Any:
    if isinstance(node, list):
        return [_unpack(x, buffers) for x in node]
    if not isinstance(node, dict):
        return node
    (tag, value), = node.items()
    if tag == "$d":
        return {k: _unpack(v, buffers) for k, v in value.items()}
    if tag == "$k":
        return {_unpack(k, buffers): _unpack(v, buffers) for k, v in value}
    if tag == "$t":
        return tuple(_unpack(x, buffers) for x in value)
    if tag == "$a":
        dtype, shape, i = value
        return np.frombuffer(buffers[i], dtype=np.dtype(dtype)).reshape(shape).copy()
    if tag == "$o":
        return np.array([_unpack(x, buffers) for x in value] or [], dtype=object)
    if tag == "$b":
        return bytes(buffers[value])
    if tag == "$f":
        return float(value)
    if tag == "$s":
        acc = colstats.NumberStats()
        for f, v in zip(_STATS_FIELDS, value):
            setattr(acc, f, _unpack(v, buffers))
        return acc
    raise ValueError(f"unknown tag {tag!r} in a partition summary")
