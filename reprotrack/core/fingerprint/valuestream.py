"""The content streams of a column of strings and other Python values (content kind ``"values"``).

Part of the lockfile contract (fingerprint format 3; format 2 streamed a 64-bit hash per value). A column of
strings, of strings with nulls, or of mixed Python values -- whatever holds it: an object array, pandas'
python- or Arrow-backed ``str``, an Arrow ``ArrowDtype``, a dictionary array, a ``Categorical`` -- writes two
streams, each row in turn:

* the *lengths* stream, one little-endian int64 per row: ``len >= 0`` for a ``str`` (the number of its UTF-8
  bytes, lone surrogates kept), ``NULL_LEN`` (-1) for a null (``None``, NaN, ``pd.NA``, ``NaT``),
  ``HASHED`` (-2) for any other value;
* the *data* stream: the UTF-8 bytes of each ``str``, the 8-byte little-endian canonical hash
  (``canonical.scalar_hash``) of each other value, nothing for a null.

Why: an Arrow string column already holds exactly this -- its offsets give the lengths and its data buffer
is the data stream -- so its content is hashed at memory speed, with no per-value hash and no Python object
per value; object columns write it from one joined buffer per batch; low-cardinality columns (factorised,
categorical, dictionary-encoded) write the streams of their distinct values once and expand them by code.
The same values give the same streams whatever the storage, and the streams are cut into globally aligned
row blocks like every other column (``blockdigest``), so Dask and Spark partitions compute them piecewise.
Per-value 64-bit hashes (``rows``, distinct sketches) are unchanged: they come from ``hashing``.

Pure: numpy (pyarrow only when the caller already holds Arrow data, for the expansion), no I/O.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from reprotrack.core.fingerprint import canonical as C
from reprotrack.core.fingerprint import hashing as H

KIND = "values"
NULL_LEN = -1
HASHED = -2
_EMPTY = np.zeros(0, dtype=np.uint8)


class Table:
    """The streams of a list of distinct values, to expand by code: ``lens`` (int64), ``data`` (uint8) and
    each value's byte ``starts`` in it."""

    def __init__(self, lens: np.ndarray, data: np.ndarray):
        self.lens = lens
        self.data = data
        self.spans = spans(lens)
        self.starts = np.zeros(len(lens), dtype=np.int64)
        if len(lens) > 1:
            np.cumsum(self.spans[:-1], out=self.starts[1:])
        # one more slot each, taken by code -1 (a null: length NULL_LEN, no bytes)
        self._lens = np.append(lens, NULL_LEN)
        self._spans = np.append(self.spans, 0)
        self._pieces: list[bytes] | None = None
        self._arrow: Any = None
        width = self.spans[0] if len(lens) else 0
        self.width = int(width) if len(lens) and bool((self.spans == width).all()) else None

    def expand(self, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """The streams of the rows whose values are ``codes`` into this table (-1: null), and the rows' ends in
        the data when they come for free."""
        codes = np.asarray(codes)
        lens = self._lens.take(codes)
        any_null = bool(len(codes)) and int(codes.min()) < 0
        if not len(codes):
            return lens, _EMPTY, None
        if self.width is not None and not any_null:  # every value the same number of bytes: a matrix gather
            row_ends = np.arange(1, len(codes) + 1, dtype=np.int64) * self.width
            if self.width == 0:
                return lens, _EMPTY, row_ends
            return lens, self.data.reshape(len(self.lens), self.width).take(codes, axis=0).reshape(-1), row_ends
        arrow = self._arrow_dictionary()
        if arrow is not None:
            import pyarrow as pa
            import pyarrow.compute as pc

            index = np.where(codes < 0, len(self.lens), codes).astype(np.int32) if any_null else codes
            taken = pc.take(arrow, pa.array(index))
            off = np.frombuffer(taken.buffers()[1], dtype=np.int64)[taken.offset: taken.offset + len(taken) + 1]
            buf = taken.buffers()[2]
            data = np.frombuffer(buf, dtype=np.uint8)[off[0]: off[-1]] if buf is not None else _EMPTY
            return lens, data, off[1:] if off[0] == 0 else off[1:] - off[0]
        if self._pieces is None:  # no pyarrow: the values' bytes joined in C, one list item per row
            self._pieces = [self.data[a: a + s].tobytes() for a, s in zip(self.starts.tolist(), self.spans.tolist())]
            self._pieces.append(b"")  # code -1: a null
        data = b"".join(map(self._pieces.__getitem__, codes.tolist()))
        return lens, np.frombuffer(data, dtype=np.uint8), np.cumsum(self._spans.take(codes))

    def _arrow_dictionary(self) -> Any:
        if self._arrow is None:
            try:
                import pyarrow as pa
            except ImportError:
                self._arrow = False
                return None
            offsets = np.zeros(len(self.lens) + 2, dtype=np.int64)  # one more, empty value: the nulls' slot
            np.cumsum(self.spans, out=offsets[1: len(self.lens) + 1])
            offsets[-1] = offsets[-2]
            self._arrow = pa.LargeBinaryArray.from_buffers(
                pa.large_binary(), len(self.lens) + 1, [None, pa.py_buffer(offsets), pa.py_buffer(self.data)])
        return self._arrow or None


def spans(lens: np.ndarray) -> np.ndarray:
    """Bytes each row writes to the data stream."""
    return np.where(lens >= 0, lens, np.where(lens == HASHED, 8, 0)).astype(np.int64, copy=False)


def ends(lens: np.ndarray) -> np.ndarray:
    """Each row's end in the data stream (the data of ``lens`` rows starting at 0)."""
    if not len(lens) or int(lens.min()) >= 0:  # strings only: the lengths are the spans
        return np.cumsum(lens)
    return np.cumsum(spans(lens))


def str_stream(values: list[Any], joined: H.Joined | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """The streams of a list of ``str`` (None when an item is not a ``str``); ``joined``: the batch's
    ``hashing.Joined``, when the caller has it (the per-value hashes are cut from it too)."""
    if not values:
        return np.zeros(0, dtype=np.int64), _EMPTY
    if joined is None:
        try:
            joined = H.Joined(values)
        except TypeError:
            return None
    return joined.lengths(), joined.data()  # UTF-8 concatenates: the data stream


def object_stream(values: np.ndarray, container: Callable[[Any], int] | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """The streams of an object array of any values (strings vectorised; other values by canonical hash)."""
    values = np.asarray(values, dtype=object).ravel()
    items = values.tolist()
    found = str_stream(items)
    if found is not None:
        return found
    n = len(items)
    null = _nulls(values)
    if null is not None and null.any():  # strings with nulls (the usual case): still one joined buffer
        found = str_stream([v for v, missing in zip(items, null.tolist()) if not missing])
        if found is not None:
            lens = np.full(n, NULL_LEN, dtype=np.int64)
            lens[~null] = found[0]
            return lens, found[1]
    is_str = np.fromiter((isinstance(v, str) for v in items), dtype=bool, count=n)
    lens = np.full(n, HASHED, dtype=np.int64)
    strs = np.flatnonzero(is_str)
    other = np.flatnonzero(~is_str)
    hashes = C.object_hashes(np.fromiter((items[i] for i in other), dtype=object, count=len(other)), container) \
        if len(other) else np.zeros(0, dtype=C.U64)
    null = hashes == C.U64(C.NULL)
    lens[other[null]] = NULL_LEN
    encoded = [items[i].encode("utf-8", "surrogatepass") for i in strs]
    lens[strs] = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
    out = bytearray()
    hashed = hashes.astype("<u8").view(np.uint8).reshape(-1, 8)
    s = o = 0
    for i in range(n):  # the mixed-type path: one Python step per value, as the per-value hashes above
        if is_str[i]:
            out += encoded[s]
            s += 1
        else:
            if not null[o]:
                out += hashed[o].tobytes()
            o += 1
    return lens, np.frombuffer(bytes(out), dtype=np.uint8)


def _nulls(values: np.ndarray) -> np.ndarray | None:
    try:
        return C.null_mask(values)
    except Exception:  # noqa: BLE001 - exotic values: the value-by-value path decides
        return None


def table_of(values: list[Any], container: Callable[[Any], int] | None = None) -> Table:
    """The table of a list of distinct values."""
    return Table(*object_stream(np.fromiter(values, dtype=object, count=len(values)), container))


def hashed_stream(h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The streams of values written by their 64-bit hashes (binary values; ``NULL`` is a null)."""
    null = h == C.U64(C.NULL)
    lens = np.where(null, NULL_LEN, HASHED).astype(np.int64)
    kept = h[~null] if null.any() else h
    return lens, kept.astype("<u8", copy=False).view(np.uint8)


def feed(values: Any, lengths: Any, lens: np.ndarray, data: np.ndarray, row_ends: np.ndarray | None = None) -> None:
    """Write a chunk of rows to a column's hashers: ``values`` takes the data stream, ``lengths`` (the column's
    second stream) the lengths. ``row_ends``: each row's end in ``data``, when the caller has it (Arrow
    offsets)."""
    lengths.rows = len(lens)
    lengths.update(lens.astype("<i8", copy=False))
    values.update_rows(data, ends(lens) if row_ends is None else row_ends)
