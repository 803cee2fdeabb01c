"""``reprotrack.core.fingerprint`` of a Dask DataFrame or Series, computed partition by partition by Dask itself.

Two passes, both ``dask.compute`` over the frame's partitions on whatever scheduler the user configured
(threads, processes, a distributed cluster); nothing brings the frame to one machine:

1. per partition: its length, its index if it is a RangeIndex, and the kind of the few columns whose pandas
   kind depends on their values (uint64, non-nanosecond times). From this the driver knows every
   partition's global row offset, whether the whole index would be one RangeIndex (as ``pd.concat`` of the
   partitions would make it, decided by ``RangeIndex.append`` on the (start, stop, step) triples alone), and
   the global kinds.
2. per partition: ``partition.summarise`` at its offset -- block-digest pieces, row-hash lanes, mergeable
   statistics, the values at the global sample positions inside it. Each summary is bounded (a few MB at
   most: two partial blocks per column, the ``STATS_SAMPLE`` and ``approx`` values inside the partition,
   value counts capped at ``LABEL_CAP``, the distinct-count sketch). Summaries of adjacent partitions are
   joined in a binary tree of Dask tasks (``merge.join_summaries``), so the driver receives one summary whose
   only size that grows with the data is the list of 16-byte block digests (one per 65 536 rows per column).

``merge.combine`` turns the summaries into the fingerprint that ``reprotrack.fingerprint(ddf.compute())``
would give (see ``merge`` for the exact and approximate fields). ``type`` is the pandas type the data
computes to (so a research run on pandas and a production check on Dask compare equal); ``engine`` says
where it was computed. The partitions are read twice (once per pass): with Parquet on disk that is two scans.
"""

from __future__ import annotations

from typing import Any

from reprotrack.core.fingerprint import colstats
from reprotrack.core.fingerprint.distributed.merge import combine, global_kind, join_summaries
from reprotrack.core.fingerprint.distributed.partition import columns_of, first_pass, summarise
from reprotrack.core.fingerprint.record import PARTS


def _needs_probe(dtype: Any) -> bool:
    import numpy as np

    if str(dtype).lower() == "uint64":
        return True
    return isinstance(dtype, np.dtype) and dtype.kind in "mM" and np.datetime_data(dtype)[0] != "ns"


def fingerprint_dask(obj: Any, *, sample: int = 64, parts: tuple[str, ...] | None = None) -> dict[str, Any]:
    import dask
    import pandas as pd

    parts = PARTS if parts is None else tuple(parts)
    meta = obj._meta
    form = "series" if isinstance(meta, pd.Series) else "frame"
    meta_cols = columns_of(meta, form)
    probe = [j for j, (_, s) in enumerate(meta_cols) if _needs_probe(s.dtype)]
    pieces = obj.to_delayed()
    firsts = dask.compute(*[dask.delayed(first_pass)(p, form, probe) for p in pieces])
    offsets, n = [], 0
    for f in firsts:
        offsets.append(n)
        n += f["n"]
    kinds = {j: global_kind([f["kinds"][j] for f in firsts]) for j in probe}
    index_desc, index_mode = _index(firsts, meta.index)
    plan = {"n": n, "form": form, "kinds": kinds, "index": index_mode, "parts": parts, "sample": sample}
    level = [dask.delayed(summarise)(p, off, plan) for p, off in zip(pieces, offsets)]
    while len(level) > 1:  # a tree of adjacent joins: only the outer edges of each range travel upwards
        level = [dask.delayed(join_summaries)(level[i], level[i + 1]) if i + 1 < len(level) else level[i]
                 for i in range(0, len(level), 2)]
    summaries = dask.compute(level[0])
    names = [colstats.label(name) for name, _ in meta_cols]
    dtypes = [str(s.dtype) for _, s in meta_cols]
    iname = colstats.label(meta.index.name)
    ischema = [{"name": iname, "dtype": "int64" if index_mode == "range" else str(meta.index.dtype)}]
    if form == "frame":
        schema = {"columns": [{"name": a, "dtype": b} for a, b in zip(names, dtypes)], "index": ischema}
        shape, type_ = [n, len(names)], "pandas.DataFrame"
    else:
        schema = {"name": names[0], "dtype": dtypes[0], "index": ischema}
        shape, type_ = [n], "pandas.Series"
    fp = combine(list(summaries), type_=type_, shape=shape, schema=schema, form=form, names=names, dtypes=dtypes,
                 index_desc=index_desc, parts=parts, sample=sample)
    fp["engine"] = "dask"
    return fp


def _index(firsts: tuple[dict[str, Any], ...], meta_index: Any) -> tuple[Any, str]:
    """("range", start, stop, step) when the concatenated index is a RangeIndex, else it is hashed."""
    import pandas as pd

    if firsts and all(f["range"] is not None for f in firsts):
        ranges = [pd.RangeIndex(*f["range"]) for f in firsts]
        whole = ranges[0].append(ranges[1:]) if len(ranges) > 1 else ranges[0]
        if isinstance(whole, pd.RangeIndex):
            return ("range", whole.start, whole.stop, whole.step), "range"
    return ("levels", 1), "hashed"
