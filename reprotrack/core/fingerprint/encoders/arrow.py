"""Arrow-backed string and binary columns (pandas 3's default ``str``, ``string[pyarrow]``, ``ArrowDtype``
strings, binaries and their dictionary encodings), hashed from the Arrow buffers themselves.

The canonical values are those of every other storage, so a column's content, rows and statistics are identical
whichever storage holds the values (object, ``string[python]``, ``str`` with or without pyarrow, Arrow,
categorical). The content streams (``valuestream``) are the Arrow buffers themselves: lengths from the
offsets, the data buffer as it is (no copy, no per-value work). Per-value 64-bit hashes (rows, statistics:
the polynomial hash of the UTF-8 bytes, binary: of the raw bytes, exactly ``canonical.scalar_hash``) come from
each chunk's offsets and data (``hashing.segment_hashes``), with no Python object per value; a
dictionary-encoded chunk hashes its dictionary once and takes the hashes by index.

Low-cardinality columns are dictionary-encoded by Arrow for their label statistics, under the rule the object
columns follow (``objects.factorize_values``: at most max(64, probe/4) distinct values among the first 4 096,
at most max(1024, n/8) in all), so both storages report the same top values. The encoder is an
``ObjectEncoder`` for everything downstream (content kind "object", label roles in distributed merges).

Pure: numpy, pandas and pyarrow (already imported by the column that holds Arrow data), no I/O.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from reprotrack.core.fingerprint import canonical as C
from reprotrack.core.fingerprint import valuestream as VS
from reprotrack.core.fingerprint.encoders.objects import PROBE, Distinct, ObjectEncoder
from reprotrack.core.fingerprint.hashing import segment_hashes

ENCODE_STEP = 1 << 16  # rows dictionary-encoded at once: the label codes' temporaries stay small


def arrow_chunks(values: Any) -> Any | None:
    """The pyarrow ChunkedArray behind a pandas ExtensionArray, or None when it holds no Arrow data."""
    import pandas as pd

    dtype = getattr(values, "dtype", None)
    if not isinstance(dtype, pd.ArrowDtype) and getattr(dtype, "storage", None) != "pyarrow":
        return None  # numpy, or python-backed strings: converting them to Arrow would copy every value
    try:
        import pyarrow as pa

        data = values.__arrow_array__()
    except Exception:  # noqa: BLE001 - not Arrow-backed after all (python storage): the object path
        return None
    return data if isinstance(data, pa.ChunkedArray) else pa.chunked_array([data])


def hashable_type(t: Any) -> str | None:
    """"str" or "bytes" when an Arrow type (or a dictionary of it) is hashed from its buffers, else None."""
    import pyarrow as pa

    if pa.types.is_dictionary(t):
        t = t.value_type
    if pa.types.is_string(t) or pa.types.is_large_string(t) or _is(pa.types, "is_string_view", t):
        return "str"
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or _is(pa.types, "is_binary_view", t):
        return "bytes"
    return None


def _is(module: Any, name: str, t: Any) -> bool:
    check = getattr(module, name, None)  # the view types exist from pyarrow 16 on
    return bool(check is not None and check(t))


def chunk_hashes(arr: Any, kind: str) -> np.ndarray:
    """Per-value hashes of one pyarrow Array of strings or binaries (or a dictionary of them), nulls NULL."""
    import pyarrow as pa

    n = len(arr)
    if not n:
        return np.zeros(0, dtype=C.U64)
    if pa.types.is_dictionary(arr.type):
        uh = chunk_hashes(arr.dictionary, kind)
        idx = arr.indices.fill_null(0).to_numpy(zero_copy_only=False).astype(np.intp, copy=False)
        h = uh.take(idx) if len(uh) else np.zeros(n, dtype=C.U64)
    else:
        arr = _plain(arr, kind)
        off = _offsets(arr)
        data = arr.buffers()[2]
        b = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, dtype=np.uint8)
        starts = off[:-1].astype(np.int64)
        h = segment_hashes(b, starts, np.diff(off).astype(np.int64), kind, packed=True)  # offsets: back to back
    if arr.null_count:
        h[arr.is_null().to_numpy(zero_copy_only=False)] = C.U64(C.NULL)
    return h


def _plain(arr: Any, kind: str) -> Any:
    import pyarrow as pa

    if not (pa.types.is_large_string(arr.type) or pa.types.is_large_binary(arr.type)
            or pa.types.is_string(arr.type) or pa.types.is_binary(arr.type)):
        arr = arr.cast(pa.large_string() if kind == "str" else pa.large_binary())  # view types
    return arr


def arrow_stream(arr: Any, kind: str) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The ``valuestream`` streams of one pyarrow Array of strings or binaries (or a dictionary of them): for
    strings, the lengths from the offsets and the data buffer itself, no copy."""
    import pyarrow as pa

    if pa.types.is_dictionary(arr.type):
        table = VS.Table(*arrow_stream(arr.dictionary, kind)[:2])
        codes = arr.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
        return table.expand(codes)
    if kind != "str":
        return (*VS.hashed_stream(chunk_hashes(arr, kind)), None)
    arr = _plain(arr, kind)
    n = len(arr)
    null = arr.is_null().to_numpy(zero_copy_only=False) if arr.null_count else None
    if null is not None and (np.diff(_offsets(arr))[null] != 0).any():
        arr = arr.fill_null("")  # null slots may keep bytes (Arrow allows it): they are not values
    off = _offsets(arr)
    row_ends = off[1:] - off[0] if len(off) else np.zeros(0, dtype=np.int64)
    lens = np.diff(off).astype(np.int64, copy=False)
    if null is not None:
        lens[null] = VS.NULL_LEN
    data = arr.buffers()[2]
    b = np.frombuffer(data, dtype=np.uint8)[int(off[0]): int(off[-1])] if data is not None and n else \
        np.zeros(0, dtype=np.uint8)
    return lens, b, row_ends


def _offsets(arr: Any) -> np.ndarray:
    import pyarrow as pa

    wide = pa.types.is_large_string(arr.type) or pa.types.is_large_binary(arr.type)
    return np.frombuffer(arr.buffers()[1], dtype=np.int64 if wide else np.int32)[arr.offset: arr.offset + len(arr) + 1]


class ArrowStringEncoder(ObjectEncoder):
    """Strings or binaries in Arrow memory: the object column's hashes, computed from the buffers."""

    def __init__(self, data: Any, hash_kind: str, streams: bool = True):
        self.values = data  # a pyarrow ChunkedArray
        self.streams = self.has_mask = streams
        self.hash_kind = hash_kind
        self.n = len(data)
        self.container = None
        self.factorize = True
        self._codes = None
        self._uniques = []
        self._uh = None
        self._table = None
        self._prepared = False
        self.kind = "str" if hash_kind == "str" else "object"  # what an object column of the values reports

    def prepare(self, full: bool = True) -> None:
        """Dictionary-encode a low-cardinality column for its label statistics (and one hash per distinct
        value); the content alone needs neither (it is the buffers)."""
        if self._prepared or not full:
            return
        self._prepared = True
        found = self._dictionary()
        if found is not None:
            self._codes, self._uniques, self._uh = found

    def _dictionary(self) -> tuple[np.ndarray, list[Any], np.ndarray] | None:
        """Codes (the narrowest integer that holds them, -1 for null) into the distinct values, in order of
        first appearance, encoded slice by slice (bounded temporaries; equal values in several slices or a
        dictionary that holds a value twice count as one); None past the label limits."""
        import pyarrow as pa
        import pyarrow.compute as pc

        n = self.n
        if not n:
            return None
        probe = self._hashes(0, min(n, PROBE))
        if len(np.unique(probe)) > max(64, min(n, PROBE) // 4):
            return None
        most = max(1024, n // 8)
        found = Distinct(n)
        at = 0
        for lo in range(0, n, ENCODE_STEP):
            part = self.values.slice(lo, min(ENCODE_STEP, n - lo))
            if not pa.types.is_dictionary(part.type):
                part = pc.dictionary_encode(part)
            for chunk in part.chunks:
                found.add(chunk.dictionary.to_pylist(), chunk.indices.fill_null(-1).to_numpy(zero_copy_only=False), at)
                if len(found.values) > most:
                    return None
                at += len(chunk)
        codes, distinct = found.codes, found.values
        if not distinct:
            return codes, [], np.zeros(0, dtype=C.U64)
        kind = pa.large_string() if self.hash_kind == "str" else pa.large_binary()
        return codes, distinct, chunk_hashes(pa.array(distinct, type=kind), self.hash_kind)

    def _hashes(self, lo: int, hi: int) -> np.ndarray:
        out = np.empty(hi - lo, dtype=C.U64)
        at = 0
        for chunk in self.values.slice(lo, hi - lo).chunks:
            out[at: at + len(chunk)] = chunk_hashes(chunk, self.hash_kind)
            at += len(chunk)
        return out

    def chunk(self, lo: int, hi: int, values: Any, mask: Any, want: bool) -> np.ndarray | None:
        if self.streams:
            for part in self.values.slice(lo, hi - lo).chunks:
                VS.feed(values, mask, *arrow_stream(part, self.hash_kind))
            if not want:
                return None
        if self._codes is not None:
            codes = self._codes[lo:hi]
            h = self._uh.take(np.maximum(codes, 0)) if len(self._uh) else np.zeros(hi - lo, dtype=C.U64)
            h[codes < 0] = C.U64(C.NULL)
        else:
            h = self._hashes(lo, hi)
        if not self.streams:
            values.update(h.astype("<u8", copy=False))
        return h

    def value_table(self) -> VS.Table:
        streams = [arrow_stream(part, self.hash_kind)[:2] for part in self.values.chunks]
        if not streams:
            return VS.Table(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint8))
        return VS.Table(np.concatenate([s[0] for s in streams]), np.concatenate([s[1] for s in streams]))

    def labels(self) -> tuple[np.ndarray, list[Any]] | None:
        return (self._codes, self._uniques) if self._codes is not None else None
