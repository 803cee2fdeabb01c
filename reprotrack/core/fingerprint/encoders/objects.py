"""Object columns (strings, mixed Python values): canonical per-value hashes without a Python call per row.

Content of an object column is the two streams of ``reprotrack.core.fingerprint.valuestream`` (lengths, and the
strings' UTF-8 bytes with other values' canonical hashes), under the content kind "values" -- whatever path
wrote them, so a plain, a factorised, an Arrow and a categorical column with the same values agree. Per-row
64-bit hashes (``canonical.scalar_hash``) are computed only when the fingerprint wants rows or statistics.

Low-cardinality columns are factorised first (exact top values for the statistics, and one hash per distinct
value instead of one per row). When the column repeats the *same* Python objects (the usual case for
strings built in memory or taken from a small list), the factorisation runs on the object pointers -- an
integer hash table, several times faster than hashing strings -- and the distinct objects are then grouped
by their canonical hash, so equal values held by different objects still count as one. Other low-cardinality
string columns (e.g. read from a file, one object per row) use pandas' string hash table
(``_string_factorize``). High-cardinality columns are hashed chunk by chunk (``hashing.str_hashes``: one
joined buffer per batch).

Pure: numpy, pandas and ctypes (only to view the pointer values of an array we hold; objects are always
taken from the array itself, never rebuilt from a pointer), no I/O.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from reprotrack.core.fingerprint import canonical as C
from reprotrack.core.fingerprint import hashing as H
from reprotrack.core.fingerprint import valuestream as VS
from reprotrack.core.fingerprint.encoders.base import Encoder

PROBE = 4096
FACTORIZE_STEP = 1 << 18  # rows per factorize call: bounds the intp codes of one call


def object_pointers(values: np.ndarray) -> np.ndarray | None:
    """The PyObject pointers of a C-contiguous object array, as a uintp view (valid while ``values`` lives)."""
    try:
        import ctypes

        if values.dtype != object or not values.flags.c_contiguous or not len(values):
            return None
        raw = (ctypes.c_size_t * len(values)).from_address(values.ctypes.data)
        return np.frombuffer(raw, dtype=np.uintp)
    except Exception:  # noqa: BLE001 - no ctypes (or an exotic array): the slower paths still work
        return None


def _first_positions(codes: np.ndarray, k: int, step: int = 1 << 20) -> np.ndarray:
    """Row of the first occurrence of each code, for factorize codes (numbered in order of appearance),
    chunk by chunk (no second array of n codes)."""
    first = np.zeros(k, dtype=np.int64)
    seen = 0
    for lo in range(0, len(codes), step):
        if seen >= k:
            break
        chunk = codes[lo: lo + step]
        top = int(chunk.max()) if len(chunk) else -1
        if top >= seen:
            running = np.maximum.accumulate(chunk)
            first[seen: top + 1] = lo + np.searchsorted(running, np.arange(seen, top + 1))
            seen = top + 1
    return first


def _by_value(codes: np.ndarray, objects: np.ndarray,
              container: Callable[[Any], int] | None) -> tuple[np.ndarray, list[Any], np.ndarray]:
    """Merge distinct objects with equal canonical values; nulls get code -1."""
    import pandas as pd  # here, not at the top: a notebook without pandas never loads it

    oh = C.object_hashes(objects, container)
    vcodes, vh = pd.factorize(oh)
    vh = np.asarray(vh, dtype=C.U64)
    keep = np.flatnonzero(vh != C.U64(C.NULL))
    renumber = np.full(len(vh), -1, dtype=np.int64)
    renumber[keep] = np.arange(len(keep))
    obj_to_value = renumber[vcodes]
    first = {}
    for i, v in enumerate(obj_to_value.tolist()):
        if v >= 0 and v not in first:
            first[v] = i
    reps = [objects[first[v]] for v in range(len(keep))]
    if len(obj_to_value):
        remap = obj_to_value.astype(codes.dtype)
        for lo in range(0, len(codes), FACTORIZE_STEP):  # in place, chunk by chunk: no second array of n codes
            codes[lo: lo + FACTORIZE_STEP] = remap[codes[lo: lo + FACTORIZE_STEP]]
    return codes, reps, vh[keep]


def factorize_values(values: np.ndarray, container: Callable[[Any], int] | None = None
                     ) -> tuple[np.ndarray, list[Any], np.ndarray] | None:
    """(codes, distinct values, their hashes) for a low-cardinality object column, else None."""
    import pandas as pd

    n = len(values)
    if not n:
        return None
    limit = max(64, min(n, PROBE) // 4)
    most = max(1024, n // 8)
    pointers = object_pointers(values)
    if pointers is not None and len(pd.unique(pointers[:PROBE])) <= limit:
        found = chunked_factorize(pointers, most)
        if found is None:
            return None
        codes, distinct = found
        # the objects themselves come from the array (never from a pointer: no dangling reads, ever)
        objects = values[_first_positions(codes, len(distinct))]
        return _by_value(codes, np.asarray(objects, dtype=object), container)
    try:
        if len(pd.unique(values[:PROBE])) > limit:
            return None
        found = chunked_factorize(values, most, strings_only=True)
    except Exception:  # noqa: BLE001 - unhashable values (lists), or a hostile __hash__/__eq__: hash one by one
        return None
    if found is None:
        return None
    codes, uniques = found
    return codes, uniques, C.str_hashes(uniques)




class Distinct:
    """The distinct values of a column met slice by slice, numbered in order of first appearance; ``codes``
    holds every row's number in the narrowest integer type that fits (-1: null)."""

    def __init__(self, n: int) -> None:
        self.ids: dict[Any, int] = {}
        self.values: list[Any] = []
        self.codes = np.empty(n, dtype=np.int8)

    def add(self, uniques: list[Any], local: np.ndarray, at: int) -> None:
        """Rows ``at``.. coded ``local`` into ``uniques`` (-1: null; a None among them is a null too)."""
        mapping = np.empty(len(uniques) + 1, dtype=np.int64)
        mapping[-1] = -1  # local code -1 (null) takes the last slot
        for k, u in enumerate(uniques):
            if u is None:
                mapping[k] = -1
                continue
            g = self.ids.get(u)
            if g is None:
                g = self.ids[u] = len(self.values)
                self.values.append(u)
            mapping[k] = g
        while len(self.values) > np.iinfo(self.codes.dtype).max:
            self.codes = self.codes.astype(np.int16 if self.codes.dtype == np.int8 else np.int32)
        np.take(mapping.astype(self.codes.dtype), local, out=self.codes[at: at + len(local)])


def chunked_factorize(values: np.ndarray, most: int, strings_only: bool = False
                      ) -> tuple[np.ndarray, list[Any]] | None:
    """Codes (-1 for nulls, the narrowest integer type) numbered in order of first appearance, and the distinct
    values; None when there are more than ``most`` of them (or, with ``strings_only``, a value that is not a
    str: pandas' table would merge 1, 1.0 and True, which are different values here). Chunk by chunk: no
    int64 array of n codes."""
    import pandas as pd

    found = Distinct(len(values))
    for lo in range(0, len(values), FACTORIZE_STEP):
        # sized for the distinct values, not the rows (pandas' default: a table as large as the input, mostly
        # empty cache lines); the table grows when it must
        hint = min(FACTORIZE_STEP, max(1024, 2 * len(found.values)))
        part = values[lo: lo + FACTORIZE_STEP]
        done = _string_factorize(part, hint) if strings_only else None
        local, uniques = done if done is not None else pd.factorize(part, use_na_sentinel=True, size_hint=hint)
        uniques = uniques.tolist() if hasattr(uniques, "tolist") else list(uniques)
        if strings_only and not all(type(u) is str for u in uniques):
            return None
        found.add(uniques, local, lo)
        if len(found.values) > most:
            return None
    return found.codes, found.values


def _string_factorize(values: np.ndarray, hint: int) -> tuple[np.ndarray, np.ndarray] | None:
    """pandas' string hash table without the pass ``pd.factorize`` makes first to check that every value is a
    ``str`` (a quarter of its time on short labels). That table codes any value that is not a ``str`` as a
    null, so the rows it coded -1 must all be nulls; else None, and ``pd.factorize`` decides."""
    import pandas as pd

    try:
        from pandas._libs.hashtable import StringHashTable

        uniques, codes = StringHashTable(hint).factorize(values, na_sentinel=-1, ignore_na=True)
    except Exception:  # noqa: BLE001 - pandas' private API moved: the public path
        return None
    if len(codes) and int(codes.min()) < 0 and not bool(pd.isna(values[codes < 0]).all()):
        return None  # a number, bytes... coded as a null
    return codes, uniques


class ObjectEncoder(Encoder):
    """Object and string columns: factorised when few distinct values, hashed chunk by chunk otherwise; the
    content is the two streams of ``valuestream`` (content kind "values")."""

    def __init__(self, values: np.ndarray, container: Callable[[Any], int] | None = None, factorize: bool = True,
                 streams: bool = True):
        #: False for numpy arrays (estimators' ``classes_``, ``feature_names_in_``): their content stays the
        #: stream of per-value hashes (content kind "object", fingerprint format 2), so models and arrays
        #: fingerprinted by an older reprotrack still compare; pandas columns write the value streams
        self.streams = streams
        self.has_mask = streams  # the second stream: lengths
        self.values = values
        self.n = len(values)
        self.container = container
        self.factorize = factorize
        self._codes: np.ndarray | None = None
        self._uniques: list[Any] = []
        self._uh: np.ndarray | None = None
        self._table: VS.Table | None = None
        self._strings: bool | None = None  # the first rows are strings (or nulls)
        self._prepared = False
        self.kind = "str"  # until a value that is not a string (nor null) shows up

    def prepare(self, full: bool = True) -> None:
        """Factorise a low-cardinality column (label statistics, one hash per distinct value). For the content
        alone a column of strings needs neither: its streams come from joined batches, cheaper than
        factorising and expanding."""
        if self._prepared:
            return
        if not full:
            if self._strings is None:
                self._strings = _strings_or_nulls(self.values[:PROBE])
            if self._strings:
                return  # asked again with ``full`` (labels), it factorises then
        self._prepared = True
        if self.factorize:
            found = factorize_values(self.values, self.container)
            if found is not None:
                self._codes, self._uniques, self._uh = found
                if not all(isinstance(u, str) for u in self._uniques):
                    self.kind = "object"

    @property
    def content_kind(self) -> str:
        return VS.KIND if self.streams else "object"

    def value_table(self) -> VS.Table:
        """The streams of every value in order (the categories of a Categorical)."""
        return VS.table_of(self.values.tolist() if hasattr(self.values, "tolist") else list(self.values),
                           self.container)

    def chunk(self, lo: int, hi: int, values: Any, mask: Any, want: bool) -> np.ndarray | None:
        self.prepare(want)
        want = want or not self.streams  # per-value hashes are the content of a numpy array
        h = None
        if self._codes is not None:
            codes = self._codes[lo:hi]
            if self.streams:
                if self._table is None:
                    self._table = VS.table_of(self._uniques, self.container)
                VS.feed(values, mask, *self._table.expand(codes))
            if want:
                h = self._uh.take(np.maximum(codes, 0)) if len(self._uh) else np.zeros(hi - lo, dtype=C.U64)
                h[codes < 0] = C.U64(C.NULL)
        else:
            chunk = self.values[lo:hi]
            if want:
                h = np.empty(hi - lo, dtype=C.U64)
            for a in range(0, hi - lo, C.STR_BATCH):
                part = chunk[a: a + C.STR_BATCH]
                items = part.tolist()
                try:
                    joined = H.Joined(items)
                except TypeError:
                    joined = None
                if joined is None:  # not only strings: value by value where it must
                    if self.kind == "str" and not _strings_or_nulls(part):
                        self.kind = "object"
                    if self.streams:
                        VS.feed(values, mask, *VS.object_stream(part, self.container))
                    if h is not None:
                        h[a: a + len(part)] = C.object_hashes(part, self.container)
                    continue
                if self.streams:
                    VS.feed(values, mask, *VS.str_stream(items, joined))
                if h is not None:
                    h[a: a + len(part)] = H.joined_hashes(items, joined)
        if not self.streams:
            values.update(h.astype("<u8", copy=False))
        return h

    def labels(self) -> tuple[np.ndarray, list[Any]] | None:
        self.prepare()
        return (self._codes, self._uniques) if self._codes is not None else None


def _strings_or_nulls(part: np.ndarray) -> bool:
    import pandas._libs.lib as lib

    return bool(lib.is_string_array(part, skipna=True))
