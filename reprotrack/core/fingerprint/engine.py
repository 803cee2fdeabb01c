"""``Fingerprinter``: the fingerprint of one in-memory value (pandas objects, numpy arrays, estimators, scalars,
containers). What a fingerprint holds and the canonical encoding it is defined over are described in the
package docstring (``reprotrack.core.fingerprint``); tables go through ``table.py``, estimators through
``estimators.py``. It never calls ``repr`` on user objects, never pickles, and does no I/O.
"""

from __future__ import annotations

import struct
import sys
from collections import deque
from itertools import islice
from typing import Any, Iterable

import numpy as np

from reprotrack.core.fingerprint import canonical as C
from reprotrack.core.fingerprint import colstats, members
from reprotrack.core.fingerprint.encoders import BlockEncoder, encoder_for
from reprotrack.core.fingerprint.estimators import estimator_fingerprint, library_state
from reprotrack.core.fingerprint.record import PARTS, content_digest, empty, is_estimator
from reprotrack.core.fingerprint.table import Column, table_fingerprint

MAX_DEPTH = 8
MAX_SCHEMA_ITEMS = 100


def _lanes(h: np.ndarray) -> str:
    r = C.mix(h.astype(C.U64, copy=True))
    lane1 = int(np.sum(r, dtype=C.U64))
    r ^= C.U64(0x726F77732D6C616E)
    lane2 = int(np.sum(C.mix(r), dtype=C.U64))
    return f"sum128:{lane1:016x}{lane2:016x}"


def _dtype(d: Any) -> str:
    return str(d)


class Fingerprinter:
    """Fingerprints one in-memory value (pandas, numpy, estimators, scalars, containers); ``parts`` limits the
    work. Distributed frames go through ``reprotrack.core.fingerprint.fingerprint`` instead."""

    def __init__(self, sample: int = 64, parts: tuple[str, ...] = PARTS):
        self.sample = sample
        self.parts = parts
        self.stack: set[int] = set()
        #: id → content of the members fingerprinted in this run (alive as long as their container), so a
        #: container's own hash does not hash them a second time
        self.memo: dict[int, str] = {}

    def with_stack(self, stack: set[int], memo: dict[int, str] | None = None) -> "Fingerprinter":
        self.stack = stack
        if memo is not None:
            self.memo = memo
        return self

    # -- dispatch ----------------------------------------------------------------------------------------
    def run(self, obj: Any) -> dict[str, Any]:
        pd = sys.modules.get("pandas")  # not imported: no value can be a pandas object (and none is loaded)
        if pd is not None and hasattr(pd, "api"):
            if isinstance(obj, pd.DataFrame):
                return self.frame(obj)
            if isinstance(obj, pd.Series):
                return self.series(obj)
            if isinstance(obj, pd.Index):
                return self.index(obj)
            if isinstance(obj, pd.api.extensions.ExtensionArray):
                fp = self.series(pd.Series(obj, copy=False))
                fp["type"] = C.type_name(obj)
                return fp
        if isinstance(obj, np.ndarray):
            return self.array(obj)
        if is_estimator(obj):

            return estimator_fingerprint(self, obj)
        if isinstance(obj, (list, tuple, dict, set, frozenset)):
            return self.container(obj)
        if _is_scalar(obj):
            return self.scalar(obj)
        attrs = members.attributes(obj)  # a plain object holding arrays: a container of its attributes
        if attrs is not None:
            return self.container(obj, attrs)
        return empty(obj)

    # -- pandas ------------------------------------------------------------------------------------------
    def _columns(self, pairs: list[tuple[Any, Any]]) -> list[Column]:
        return [Column(colstats.label(name), _dtype(values.dtype), encoder_for(values, self.nested_hash))
                for name, values in pairs]

    def _index(self, idx: Any) -> tuple[list[Column] | None, Any, list[dict[str, Any]]]:
        import pandas as pd

        names = [colstats.label(n) for n in idx.names]
        if isinstance(idx, pd.RangeIndex):
            return None, ("range", idx.start, idx.stop, idx.step), [{"name": names[0], "dtype": _dtype(idx.dtype)}]
        levels = [idx.get_level_values(i) for i in range(idx.nlevels)] if idx.nlevels > 1 else [idx]
        cols = self._columns(list(zip(idx.names, levels)))
        return cols, ("levels", idx.nlevels), [{"name": c.name, "dtype": c.dtype} for c in cols]

    def frame(self, df: Any) -> dict[str, Any]:
        pairs = [(name, df.iloc[:, j]) for j, name in enumerate(df.columns)]
        cols = self._columns(pairs)
        index, desc, ischema = self._index(df.index)
        schema = {"columns": [{"name": c.name, "dtype": c.dtype} for c in cols], "index": ischema}
        return table_fingerprint(type_=C.type_name(df), shape=[int(df.shape[0]), int(df.shape[1])], schema=schema,
                                 form="frame", columns=cols, index=index, index_desc=desc, n=len(df),
                                 parts=self.parts, sample=self.sample)

    def series(self, s: Any) -> dict[str, Any]:
        cols = self._columns([(s.name, s)])
        index, desc, ischema = self._index(s.index)
        schema = {"name": cols[0].name, "dtype": cols[0].dtype, "index": ischema}
        return table_fingerprint(type_=C.type_name(s), shape=[len(s)], schema=schema, form="series", columns=cols,
                                 index=index, index_desc=desc, n=len(s), parts=self.parts, sample=self.sample)

    def index(self, idx: Any) -> dict[str, Any]:
        import pandas as pd

        if isinstance(idx, pd.RangeIndex):
            desc = ("range", idx.start, idx.stop, idx.step)
            return {**empty(idx), "shape": [len(idx)], "schema": {"names": [colstats.label(idx.name)],
                                                                    "dtypes": [_dtype(idx.dtype)]},
                    "content": content_digest("range-index", *desc[1:])}
        levels = [idx.get_level_values(i) for i in range(idx.nlevels)] if idx.nlevels > 1 else [idx]
        cols = self._columns(list(zip(idx.names, levels)))
        schema = {"names": [c.name for c in cols], "dtypes": [c.dtype for c in cols]}
        return table_fingerprint(type_=C.type_name(idx), shape=[len(idx)], schema=schema, form="index",
                                 columns=cols, index=None, index_desc=None, n=len(idx), parts=self.parts,
                                 sample=self.sample)

    # -- numpy -------------------------------------------------------------------------------------------
    def array(self, a: np.ndarray) -> dict[str, Any]:
        a = np.asarray(a)  # np.matrix and friends: plain ndarray
        shape = [int(s) for s in a.shape]
        schema: dict[str, Any] = {"dtype": _dtype(a.dtype)}
        rows = a.reshape(1) if a.ndim == 0 else a
        n = len(rows)
        if a.dtype.names:  # structured: one column per field
            cols = [Column(colstats.label(name), _dtype(rows[name].dtype),
                           encoder_for(rows[name], self.nested_hash, streams=False)) for name in a.dtype.names]
            schema["fields"] = [{"name": c.name, "dtype": c.dtype} for c in cols]
        elif rows.ndim == 2 and rows.shape[1] <= 64 and rows.dtype.kind != "O":
            cols = [Column(j, _dtype(a.dtype), encoder_for(rows[:, j], self.nested_hash, streams=False))
                    for j in range(rows.shape[1])]
        elif rows.ndim >= 2:
            cols = [Column(None, _dtype(a.dtype), BlockEncoder(rows, self.nested_hash))]
        else:
            cols = [Column(None, _dtype(a.dtype), encoder_for(rows, self.nested_hash, streams=False))]
        return table_fingerprint(type_=C.type_name(a), shape=shape, schema=schema, form=f"ndarray{a.ndim}",
                                 columns=cols, index=None, index_desc=("shape", *shape), n=n, parts=self.parts,
                                 sample=self.sample)

    # -- scalars and containers --------------------------------------------------------------------------
    def scalar(self, v: Any) -> dict[str, Any]:
        fp = empty(v)
        if isinstance(v, np.generic):
            fp["schema"] = {"dtype": _dtype(v.dtype)}
        if isinstance(v, str):
            fp["content"] = content_digest("str", v.encode("utf-8", "surrogatepass"))
        elif isinstance(v, (bytes, bytearray, memoryview)):
            fp["content"] = content_digest("bytes", bytes(v))
        else:
            fp["content"] = content_digest("scalar", struct.pack("<Q", C.scalar_hash(v)))
        if isinstance(v, (float, np.floating)) and "approx" in self.parts and self.sample > 0:
            fp["approx"] = {"positions": [0], "columns": [{"column": 0, "name": None,
                                                           "values": [colstats.jfloat(v)], "scale": None}]}
        return fp

    def content_of(self, v: Any) -> str | None:
        """The ``content`` hash alone of ``v`` (an array inside an estimator's parameters)."""
        return Fingerprinter(self.sample, ("content",)).run(v)["content"]

    def nested_hash(self, v: Any) -> int:
        """64-bit hash of a nested value (an item of a list or object column): its content digest."""
        if _is_scalar(v):
            return C.scalar_hash(v)
        if id(v) in self.stack:
            return C.bytes_scalar_hash(b"cycle", "container")
        if len(self.stack) >= MAX_DEPTH:
            return C.bytes_scalar_hash(C.type_name(v).encode(), "deep")
        content = self.memo.get(id(v))
        if content is None:
            self.stack.add(id(v))
            try:
                content = Fingerprinter(self.sample, ("content",)).with_stack(self.stack, self.memo).run(v)["content"]
            finally:
                self.stack.discard(id(v))
        if content is None:

            state = library_state(v)  # scikit-learn helpers (tree predictors, KD trees): their data
            if state is None:
                return C.bytes_scalar_hash(C.type_name(v).encode(), "object")
            self.stack.add(id(v))
            try:
                content = Fingerprinter(self.sample, ("content",)).with_stack(self.stack).run(state)["content"]
            finally:
                self.stack.discard(id(v))
            return int.from_bytes(bytes.fromhex(content.split(":", 1)[1])[:8], "little") ^ \
                C.bytes_scalar_hash(C.type_name(v).encode(), "object")
        return int.from_bytes(bytes.fromhex(content.split(":", 1)[1])[:8], "little") ^ C.seed("container")

    def _item_hashes(self, items: list[Any]) -> np.ndarray:
        arr = np.fromiter(items, dtype=object, count=len(items))  # never interprets nested sequences
        return C.object_hashes(arr, self.nested_hash) if len(items) else np.zeros(0, dtype=C.U64)

    def container(self, obj: Any, attrs: dict[str, Any] | None = None) -> dict[str, Any]:
        """Lists, tuples, dicts, sets (and subclasses), and objects by their data ``attrs``; with any part
        besides ``content`` also ``members`` (``reprotrack.core.fingerprint.members``)."""
        fp = empty(obj)
        mapping = attrs if attrs is not None else obj
        fp["shape"] = [len(mapping)]
        self.stack.add(id(obj))
        try:
            if any(p != "content" for p in self.parts):
                self._members(obj, fp)
            if isinstance(mapping, dict):
                keys = list(mapping.keys())
                kh = self._item_hashes(keys)
                vh = self._item_hashes([mapping[k] for k in keys])
                h = np.sort(C.mix(kh * C.U64(C.column_key(0)) + vh))
                # bounded and order-free: the keys with the smallest canonical hashes, listed by their text
                chosen = np.argsort(kh, kind="stable")[:MAX_SCHEMA_ITEMS]
                fp["schema"] = {"keys": sorted((colstats.label(keys[i]) for i in chosen.tolist()), key=str)}
                items = ((colstats.label(k), mapping[k]) for k in keys)
            else:
                items_list = list(obj)
                h = self._item_hashes(items_list)
                if isinstance(obj, (set, frozenset)):
                    h = np.sort(h)
                    items = []
                else:
                    items = enumerate(items_list)
            form = "object" if attrs is not None else "dict" if isinstance(obj, dict) else (
                "set" if isinstance(obj, (set, frozenset)) else type(obj).__name__ if type(obj) in (list, tuple)
                else "list")
            fp["content"] = content_digest("container", form, len(h), np.ascontiguousarray(h, dtype="<u8").tobytes())
            if "rows" in self.parts:
                fp["rows"] = _lanes(h)
            if "approx" in self.parts:
                fp["approx"] = _leaf_floats(items, self.sample)
        finally:
            self.stack.discard(id(obj))
        return fp

    def _members(self, obj: Any, fp: dict[str, Any]) -> None:
        found, omitted = members.walk(obj)
        if not found:
            return
        out: dict[str, Any] = {}
        for path, value in found:
            if id(value) in self.stack:
                continue
            self.stack.add(id(value))
            try:
                member = Fingerprinter(self.sample, self.parts).with_stack(self.stack, self.memo).run(value)
            finally:
                self.stack.discard(id(value))
            out[path] = member
            if member.get("content") is not None:
                self.memo[id(value)] = member["content"]
        fp["members"] = out
        if omitted:
            fp["members_omitted"] = omitted


def _leaf_floats(items: Iterable[tuple[Any, Any]], sample: int) -> dict[str, Any] | None:
    """The first ``sample`` float leaves (scalars, or the first values of float arrays) with their paths."""
    paths, values = [], []
    top = iter(items)
    todo: deque = deque()
    while len(values) < sample:
        if not todo:
            nxt = next(top, None)
            if nxt is None:
                break
            todo.append((str(nxt[0]), nxt[1], 0))
        path, v, depth = todo.popleft()
        if isinstance(v, (float, np.floating)):
            paths.append(path)
            values.append(colstats.jfloat(v))
        elif isinstance(v, np.ndarray) and v.dtype.kind == "f" and v.size:
            for i, x in enumerate(v.reshape(-1)[: max(1, sample - len(values))].tolist()):
                paths.append(f"{path}[{i}]")
                values.append(colstats.jfloat(x))
        elif depth < 3 and isinstance(v, dict):
            todo.extend((f"{path}.{colstats.label(k)}", x, depth + 1) for k, x in islice(v.items(), sample))
        elif depth < 3 and isinstance(v, (list, tuple)):
            todo.extend((f"{path}[{i}]", x, depth + 1) for i, x in enumerate(islice(v, sample)))
    if not values:
        return None
    return {"positions": paths, "columns": [{"column": 0, "name": None, "values": values, "scale": None}]}


def _is_scalar(v: Any) -> bool:
    import datetime as dt
    import decimal
    import fractions

    return v is None or isinstance(v, (bool, int, float, complex, str, bytes, bytearray, np.generic, dt.date,
                                       dt.timedelta, decimal.Decimal, fractions.Fraction)) or C.is_null(v)
