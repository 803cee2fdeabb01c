"""One partition's share of a fingerprint: what a Dask task (or a Spark executor) computes, engine-neutral.

``summarise(pdf, offset, plan)`` looks at one pandas partition that starts at global row ``offset`` of the
whole table and returns a small, bounded summary: per column the block-digest pieces of its content
(``reprotrack.core.fingerprint.blockdigest``), the two ``rows`` lanes of its rows, mergeable statistics, the values at the
global ``approx`` and quantile-sample positions that fall inside it, and, for label columns, value counts
keyed by canonical hash (capped at ``LABEL_CAP`` distinct values). ``reprotrack.core.fingerprint.distributed.merge`` combines
the summaries of all partitions, in partition order, into the fingerprint pandas would compute for the whole
table. The encoders are the pandas ones (``reprotrack.core.fingerprint.encoders.base``); where pandas decides something from the
whole column (the ``uint`` kind of uint64 data, the unit of a datetime column, whether an integer column has
a null mask) the plan carries the global decision, taken from a first pass.

Pure: numpy and pandas, no I/O, no Dask.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from reprotrack.core.fingerprint import canonical as C
from reprotrack.core.fingerprint import colstats
from reprotrack.core.fingerprint.blockdigest import PartHasher
from reprotrack.core.fingerprint.encoders import CategoricalEncoder, NumberEncoder, ObjectEncoder, encoder_for
from reprotrack.core.fingerprint.engine import Fingerprinter
from reprotrack.core.fingerprint.table import MAX_STATS_COLUMNS, ROW_SEED, ROWS_LANE_SEED, chunk_rows, key_vector

LABEL_CAP = 1 << 16  # distinct values counted exactly per column; beyond: the distinct-count sketch
PROBE = 4096  # the first rows pandas looks at before factorising an object column (object_columns.PROBE)
MASKABLE = ("int", "uint", "bool")
HASHED = ("labels", "categories", "sketch")  # roles whose statistics come from the row hashes


def columns_of(pdf: Any, form: str) -> list[tuple[Any, Any]]:
    if form == "series":
        return [(pdf.name, pdf)]
    return [(name, pdf.iloc[:, j]) for j, name in enumerate(pdf.columns)]


def first_pass(pdf: Any, form: str, probe_kinds: list[int]) -> dict[str, Any]:
    """Cheap facts of a partition: its length, its index if it is a RangeIndex, and the kinds pandas would
    give the columns listed (uint64 and non-nanosecond time columns, whose kind depends on their values)."""
    import pandas as pd

    idx = pdf.index
    rng = (idx.start, idx.stop, idx.step) if isinstance(idx, pd.RangeIndex) else None
    cols = columns_of(pdf, form)
    kinds = {j: NumberEncoder(np.asarray(cols[j][1])).kind for j in probe_kinds}
    return {"n": len(pdf), "range": rng, "kinds": kinds}


def _force(enc: Any, kind: str | None) -> None:
    if kind is None or not isinstance(enc, NumberEncoder):
        return
    enc.kind = kind
    if kind in ("datetime", "timedelta"):
        enc.factor = C._NS[np.datetime_data(enc.values.dtype)[0]]
    elif kind.startswith(("datetime[", "timedelta[")):
        enc.factor = 1


class _Counts:
    """Exact value counts by canonical hash with the first row of each value; gives up past ``LABEL_CAP``."""

    def __init__(self) -> None:
        self.keys = np.zeros(0, C.U64)
        self.counts = np.zeros(0, np.int64)
        self.first = np.zeros(0, np.int64)
        self.full = False

    def update(self, h: np.ndarray, lo: int) -> None:
        if self.full:
            return
        at = np.flatnonzero(h != C.U64(C.NULL))
        h = h[at]
        keys = np.concatenate([self.keys, h])
        first = np.concatenate([self.first, lo + at.astype(np.int64)])
        counts = np.concatenate([self.counts, np.ones(len(h), np.int64)])
        u, inv = np.unique(keys, return_inverse=True)
        if len(u) > LABEL_CAP:
            self.full, self.keys, self.counts, self.first = True, np.zeros(0, C.U64), None, None
            return
        self.counts = np.bincount(inv, weights=counts, minlength=len(u)).astype(np.int64)
        best = np.full(len(u), np.iinfo(np.int64).max, np.int64)
        np.minimum.at(best, inv, first)
        self.keys, self.first = u, best


def _positions(pos: np.ndarray, offset: int, length: int) -> np.ndarray:
    a, b = np.searchsorted(pos, [offset, offset + length])
    return pos[a:b] - offset


def summarise(pdf: Any, offset: int, plan: dict[str, Any]) -> dict[str, Any]:
    """The partition's summary (see the module docstring); ``plan``: n, form, kinds, index ("range" or
    "hashed"), parts, sample."""
    n_total, parts = plan["n"], plan["parts"]
    nested = Fingerprinter(plan["sample"], ("content",)).nested_hash
    cols = columns_of(pdf, plan["form"])
    encs = [encoder_for(values, nested) for _, values in cols]
    for j, enc in enumerate(encs):
        _force(enc, plan["kinds"].get(j))
    index_encs = [encoder_for(pdf.index, nested)] if plan["index"] == "hashed" else []
    want_rows, want_stats = "rows" in parts, "stats" in parts
    for enc in encs + index_encs:
        if hasattr(enc, "prepare"):
            enc.prepare(want_rows or want_stats)
    own_mask = [bool(e.has_mask) for e in encs + index_encs]
    for enc in encs + index_encs:  # every partition writes a mask stream; merge keeps it if any had nulls
        if enc.kind in MASKABLE:
            enc.has_mask = True
    hashers = [(PartHasher(offset), PartHasher(offset) if e.has_mask else None) for e in encs + index_encs]
    length = len(pdf)
    nstat = min(len(encs), MAX_STATS_COLUMNS)
    roles = [_role(e) if want_stats and j < nstat else None for j, e in enumerate(encs)]
    spos = colstats.sample_positions(n_total, colstats.STATS_SAMPLE, salt=1)
    local_s = _positions(spos, offset, length)
    fraction = min(1.0, 4.0 * colstats.KMV / max(n_total, 1))
    limit = C.U64(min(C.MASK, int(fraction * 2.0**64)))
    acc = [colstats.NumberStats() if r == "numbers" or (r == "categories" and _numeric(e)) else None
           for r, e in zip(roles, encs)]
    picked: list[list[np.ndarray]] = [[] for _ in encs]
    counts = [_Counts() if r in ("labels", "categories") else None for r in roles]
    kept: list[list[np.ndarray]] = [[] for _ in encs]
    nulls = [0] * len(encs)
    probe: list[list[np.ndarray]] = [[] for _ in encs]
    keys = key_vector(len(encs)) if encs else np.zeros(0, C.U64)
    lane1 = lane2 = 0
    step = chunk_rows(len(encs) + len(index_encs))
    for lo in range(0, length, step):
        hi = min(length, lo + step)
        r = np.full(hi - lo, ROW_SEED, dtype=C.U64) if want_rows else None
        for j, enc in enumerate(encs):
            for hz in hashers[j]:
                if hz is not None:
                    hz.rows = hi - lo
            want = r is not None or roles[j] in HASHED
            h = enc.chunk(lo, hi, hashers[j][0], hashers[j][1], want)
            if r is not None:
                r += h * keys[j]
            if roles[j] in HASHED:
                null = h == C.U64(C.NULL)
                nulls[j] += int(np.count_nonzero(null))
                nn = h[~null]
                kept[j].append(np.unique(nn[nn < limit]) if fraction < 1.0 else np.unique(nn))
                if counts[j] is not None:
                    counts[j].update(h, lo)
                if offset + lo < PROBE:
                    probe[j].append(h[: max(0, PROBE - offset - lo)])
            if acc[j] is not None:
                x = enc.numbers(lo, hi)
                acc[j].update(x)
                a, b = np.searchsorted(local_s, [lo, hi])
                if b > a:
                    picked[j].append(x[local_s[a:b] - lo])
        for k, enc in enumerate(index_encs):
            hz = hashers[len(encs) + k]
            for x in hz:
                if x is not None:
                    x.rows = hi - lo
            enc.chunk(lo, hi, hz[0], hz[1], False)
        if r is not None:
            C.mix(r)
            lane1 += int(np.sum(r, dtype=C.U64))
            r ^= C.U64(ROWS_LANE_SEED)
            lane2 += int(np.sum(C.mix(r), dtype=C.U64))
    out_cols = []
    apos = _positions(colstats.sample_positions(n_total, max(0, plan["sample"]), salt=2), offset, length) \
        if "approx" in parts else None
    for j, enc in enumerate(encs):
        col: dict[str, Any] = {
            "kind": enc.kind, "mask": own_mask[j],
            "values": hashers[j][0].pieces(), "mask_pieces": hashers[j][1].pieces() if hashers[j][1] else None,
            "floats": enc.take_floats(apos) if apos is not None else None, "role": roles[j],
        }
        if roles[j] == "bool":
            m = enc.mask
            col["nulls"] = int(m.sum()) if m is not None else 0
            col["true"] = int(np.count_nonzero(enc.values & ~m) if m is not None else np.count_nonzero(enc.values))
        if acc[j] is not None:
            col["acc"] = acc[j]
            col["sample"] = np.concatenate(picked[j]) if picked[j] else np.zeros(0)
        if roles[j] in HASHED:
            col["nulls"] = nulls[j]
            col["kept"] = np.unique(np.concatenate(kept[j])) if kept[j] else np.zeros(0, C.U64)
            col["probe"] = np.concatenate(probe[j]) if probe[j] else np.zeros(0, C.U64)
            c = counts[j]
            if c is not None and not c.full:
                values = cols[j][1].iloc[c.first].tolist() if len(c.first) else []
                col["counts"] = (c.keys, c.counts, c.first + offset, [colstats.label(v) for v in values])
            else:
                col["counts"] = None
        out_cols.append(col)
    index = [{"kind": e.kind, "mask": own_mask[len(encs) + k], "values": hashers[len(encs) + k][0].pieces(),
              "mask_pieces": hashers[len(encs) + k][1].pieces() if hashers[len(encs) + k][1] else None,
              "content_kind": e.content_kind, "floats": None} for k, e in enumerate(index_encs)]
    return {"n": length, "offset": offset, "lanes": (lane1 & C.MASK, lane2 & C.MASK), "columns": out_cols,
            "index": index, "content_kinds": [e.content_kind for e in encs]}


def _numeric(enc: Any) -> bool:
    return isinstance(enc, CategoricalEncoder) and enc.numbers(0, 0) is not None


def _role(enc: Any) -> str:
    """How pandas summarises the column (``fingerprint_table.column_stats``)."""
    if enc.kind == "bool" and isinstance(enc, NumberEncoder):
        return "bool"
    if isinstance(enc, CategoricalEncoder):
        return "categories"  # numeric categories also get number statistics
    if enc.numbers(0, 0) is not None:
        return "numbers"
    if isinstance(enc, ObjectEncoder):
        return "labels"
    return "sketch"
