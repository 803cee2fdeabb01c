"""``reprotrack.core.fingerprint`` of a PySpark DataFrame, computed partition by partition by Spark itself.

"The same data" is the pandas frame ``spark_df.toPandas()`` returns with Arrow enabled
(``spark.sql.execution.arrow.pyspark.enabled=true``), and the result equals ``reprotrack.core.fingerprint`` of
that frame on the fields ``merge`` lists as identical (``mean``/``std`` to rounding). Spark decides that
frame's dtypes, so the executors convert with Spark's own ``toPandas`` converter and no mapping is
re-implemented here: strings -> ``str`` (pandas 3; ``object`` before), longs/ints/shorts/bytes -> int64..int8,
or float64 when the column holds a null anywhere, doubles/floats -> float64/float32 (null and NaN both
NaN), booleans -> bool, or object (True/False/None) with a null anywhere, timestamps -> naive
``datetime64`` wall time in ``spark.sql.session.timeZone`` (so the same instants fingerprint differently
under another session time zone, exactly as their ``toPandas`` frames differ), dates -> ``datetime.date``
objects, decimals -> ``Decimal`` objects; the index is a ``RangeIndex``.

Two Spark jobs, nothing but bounded summaries reaching the driver:

1. an aggregation grouped by ``spark_partition_id()`` in the JVM (no Python workers): each partition's row
   count, each nullable integer/boolean column's non-null count (the global null decision above), each
   timestamp column's min/max (whether pandas' encoder may use nanoseconds). Every column is referenced so
   the optimizer prunes nothing under the frame's own plan (pruning would change shuffle sizes, and with them
   adaptive partition coalescing).
2. ``mapInArrow``: each task learns its partition index from ``TaskContext``, converts its Arrow batches in
   chunks of ``CHUNK_ROWS`` with ``toPandas``' converter, forces the global decisions, runs
   ``partition.summarise`` at the chunk's global offset and joins the chunks' summaries; it yields one row:
   partition index, the facts it saw (rows, nulls, time kinds, dtypes) and the summary as bytes
   (``codec``: JSON and raw buffers, no pickle). When there are more than ``FANIN`` summaries, rounds of
   ``groupBy(index // FANIN).applyInPandas`` join adjacent ones on executors (only their outer partial
   blocks survive a join), so the driver collects at most ``FANIN`` summaries and joins them in partition
   order (``merge.join_summaries`` is associative, not commutative: order is kept by the indexes).

Spark re-executes the frame's plan in each job. If the second job saw other partition lengths or other
facts than the first (a non-deterministic frame: ``rand()`` without seed, a source that changed), the
summaries are recomputed once with what the second job saw; if that still disagrees the frame is not
reproducible by itself and ``NonDeterministicFrame`` says to ``cache()``/``localCheckpoint()`` it. Executors
need reprotrack importable (the same environment as the driver).
"""

from __future__ import annotations

import functools
import json
from typing import Any

from reprotrack.core.fingerprint import colstats
from reprotrack.core.fingerprint.distributed import codec
from reprotrack.core.fingerprint.distributed.merge import combine, global_kind, join_summaries
from reprotrack.core.fingerprint.distributed.partition import first_pass, summarise
from reprotrack.core.fingerprint.record import PARTS

CHUNK_ROWS = 1 << 17  # rows converted to pandas at a time on an executor (two content blocks)
FANIN = 16  # summaries joined per executor task in a reduction round; the driver collects at most this many
MICROS_NS_LIMIT = (2**63 - 1) // 1000 - 86_400_000_000  # |micros| that fit int64 nanoseconds, a day of margin
OUT_SCHEMA = "p long, facts string, payload binary"


class NonDeterministicFrame(RuntimeError):
    """Two executions of the frame's plan disagreed on its partitions: fingerprint a cached frame."""


def _conf(spark: Any, key: str, default: str) -> str:
    try:
        return spark.conf.get(key, default) or default
    except Exception:  # a conf that cannot be read (older Connect servers) falls back to Spark's default
        return default


def _kinds_of(schema: Any) -> tuple[list[int], list[int], list[int]]:
    """Columns whose pandas dtype or encoding depends on values: nullable integers, nullable booleans,
    timestamps."""
    from pyspark.sql import types as T

    ints, bools, times = [], [], []
    for j, f in enumerate(schema.fields):
        if isinstance(f.dataType, T.IntegralType) and f.nullable:
            ints.append(j)
        elif isinstance(f.dataType, T.BooleanType) and f.nullable:
            bools.append(j)
        elif type(f.dataType).__name__ in ("TimestampType", "TimestampNTZType"):
            times.append(j)
    return ints, bools, times


def _first_pass(df: Any, times: list[int]) -> dict[str, Any]:
    from pyspark.sql import functions as F

    names = [f"c{j}" for j in range(len(df.columns))]
    renamed = df.toDF(*names) if names else df
    aggs = [F.count(F.lit(1)).alias("__n")] + [F.count(F.col(c)).alias(f"__k{j}") for j, c in enumerate(names)]
    for j in times:
        micros = F.unix_micros(F.col(names[j]).cast("timestamp"))
        aggs += [F.min(micros).alias(f"__lo{j}"), F.max(micros).alias(f"__hi{j}")]
    rows = renamed.select(F.spark_partition_id().alias("__p"), *names).groupBy("__p").agg(*aggs).collect()
    rows = sorted((r.asDict() for r in rows), key=lambda r: r["__p"])
    lengths = {int(r["__p"]): int(r["__n"]) for r in rows if r["__n"]}
    nulls = sorted(j for j in range(len(names)) if sum(r["__n"] - r[f"__k{j}"] for r in rows))
    kinds = {}
    for j in times:
        lo = [r[f"__lo{j}"] for r in rows if r[f"__lo{j}"] is not None]
        hi = [r[f"__hi{j}"] for r in rows if r[f"__hi{j}"] is not None]
        fits = not lo or (max(hi) <= MICROS_NS_LIMIT and min(lo) >= -MICROS_NS_LIMIT)
        kinds[j] = "datetime" if fits else "datetime[us]"
    return {"lengths": lengths, "nulls": nulls, "kinds": kinds}


def _offsets(lengths: dict[int, int]) -> dict[int, int]:
    out, n = {}, 0
    for p in sorted(lengths):
        out[p], n = n, n + lengths[p]
    return out


def _to_pandas(table: Any, schema: Any, tz: str, struct_mode: str) -> Any:
    """``toPandas``' own Arrow -> pandas conversion (Spark 4), or the same steps on Spark 3.5."""
    import warnings

    with warnings.catch_warnings():  # pyspark warns on every call that it does not fully support pandas 3
        warnings.simplefilter("ignore", FutureWarning)
        return _convert(table, schema, tz, struct_mode)


def _convert(table: Any, schema: Any, tz: str, struct_mode: str) -> Any:
    try:
        from pyspark.sql.pandas.conversion import _convert_arrow_table_to_pandas
    except ImportError:  # pyspark 3.5: toPandas inlines these steps
        import pandas as pd
        from pyspark.sql.pandas.types import _create_converter_to_pandas

        pdf = table.rename_columns([f"c{j}" for j in range(table.num_columns)]).to_pandas(
            date_as_object=True, coerce_temporal_nanoseconds=True)
        cols = [_create_converter_to_pandas(f.dataType, f.nullable, timezone=tz, struct_in_pandas=struct_mode,
                                            error_on_duplicated_field_names=False)(pdf.iloc[:, j])
                for j, f in enumerate(schema.fields)]
        out = pd.concat(cols, axis="columns") if cols else pdf
        out.columns = pd.Index(schema.names)
        return out
    return _convert_arrow_table_to_pandas(table, schema, timezone=tz, struct_handling_mode=struct_mode,
                                          date_as_object=True)


def _decide(pdf: Any, plan: dict[str, Any]) -> Any:
    """Apply the whole column's dtype decisions to one chunk (Spark takes them per converted table)."""
    import numpy as np

    for j in plan["null_ints"]:
        if pdf.dtypes.iloc[j] != np.float64:
            pdf.isetitem(j, pdf.iloc[:, j].astype(np.float64))
    for j in plan["null_bools"]:
        if pdf.dtypes.iloc[j] != object:
            pdf.isetitem(j, pdf.iloc[:, j].astype(object))
    return pdf


def _summarise_partition(batches: Any, *, schema: Any, tz: str, struct_mode: str, plan: dict[str, Any],
                         offsets: dict[int, int], facts_of: dict[str, list[int]]) -> Any:
    """mapInArrow body: one output row per non-empty partition (runs on an executor)."""
    import pyarrow as pa
    from pyspark import TaskContext

    p = TaskContext.get().partitionId()
    offset = offsets.get(p, 0)
    seen, summary, pending, kinds, nulls, dtypes = 0, None, [], [], set(), None

    def flush() -> None:
        nonlocal seen, summary, pending, dtypes
        pdf = _to_pandas(pa.Table.from_batches(pending), schema, tz, struct_mode)
        pending = []
        for j in facts_of["nullable"]:
            if pdf.iloc[:, j].isna().any():
                nulls.add(j)
        _decide(pdf, plan)
        kinds.append(first_pass(pdf, "frame", facts_of["times"])["kinds"])
        dtypes = dtypes or [str(t) for t in pdf.dtypes]
        part = summarise(pdf, offset + seen, plan)
        summary = part if summary is None else join_summaries(summary, part)
        seen += len(pdf)

    rows = 0
    for batch in batches:
        if batch.num_rows:
            pending.append(batch)
            rows += batch.num_rows
            if rows >= CHUNK_ROWS:
                flush()
                rows = 0
    if pending:
        flush()
    if summary is None:
        return
    facts = {str(p): {"n": seen, "nulls": sorted(nulls), "dtypes": dtypes,
                      "kinds": {str(j): [k[j] for k in kinds] for j in facts_of["times"]}}}
    yield pa.RecordBatch.from_pydict({"p": [p], "facts": [json.dumps(facts)], "payload": [codec.encode(summary)]},
                                     schema=pa.schema([("p", pa.int64()), ("facts", pa.string()),
                                                       ("payload", pa.binary())]))


def _join_group(key: Any, pdf: Any) -> Any:
    """applyInPandas body: adjacent summaries of one group joined in partition order; the group's key is
    its index in the next round."""
    import pandas as pd

    pdf = pdf.sort_values("p")
    summary, facts = None, {}
    for payload, f in zip(pdf["payload"], pdf["facts"]):
        s = codec.decode(bytes(payload))
        summary = s if summary is None else join_summaries(summary, s)
        facts.update(json.loads(f))
    return pd.DataFrame({"p": [int(key[0])], "facts": [json.dumps(facts)],
                         "payload": [codec.encode(summary)]})


def _summaries(df: Any, plan: dict[str, Any], offsets: dict[int, int], facts_of: dict[str, list[int]],
               tz: str, struct_mode: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    from pyspark.sql import functions as F

    body = functools.partial(_summarise_partition, schema=df.schema, tz=tz, struct_mode=struct_mode, plan=plan,
                             offsets=offsets, facts_of=facts_of)
    out = df.mapInArrow(body, OUT_SCHEMA)
    keys = sorted(offsets)
    while len(keys) > FANIN:  # rounds of adjacent joins on executors: group g = indexes [g*FANIN, (g+1)*FANIN)
        grouped = out.withColumn("__g", F.floor(F.col("p") / FANIN)).groupBy("__g")
        out = grouped.applyInPandas(_join_group, OUT_SCHEMA)
        keys = sorted({k // FANIN for k in keys})
    rows = sorted(out.collect(), key=lambda r: r["p"])
    facts: dict[str, Any] = {}
    for r in rows:
        facts.update(json.loads(r["facts"]))
    return [codec.decode(bytes(r["payload"])) for r in rows], facts


def _observed(facts: dict[str, Any], facts_of: dict[str, list[int]]) -> dict[str, Any]:
    """The first-pass facts as the second job saw them."""
    lengths = {int(p): f["n"] for p, f in facts.items()}
    nulls = sorted({j for f in facts.values() for j in f["nulls"]})
    kinds = {j: global_kind([k for p in sorted(facts, key=int) for k in facts[p]["kinds"][str(j)]])
             for j in facts_of["times"]}
    return {"lengths": lengths, "nulls": nulls, "kinds": {j: k for j, k in kinds.items() if k is not None}}


def fingerprint_spark(df: Any, *, sample: int = 64, parts: tuple[str, ...] | None = None) -> dict[str, Any]:
    parts = PARTS if parts is None else tuple(parts)
    spark = df.sparkSession
    tz = _conf(spark, "spark.sql.session.timeZone", "UTC")
    struct_mode = _conf(spark, "spark.sql.execution.pandas.structHandlingMode", "legacy")
    struct_mode = "dict" if struct_mode == "legacy" else struct_mode
    schema = df.schema
    ints, bools, times = _kinds_of(schema)
    facts_of = {"nullable": ints + bools, "times": times}
    first = _first_pass(df, times)
    for attempt in range(2):
        known = {j: k for j, k in first["kinds"].items()}
        plan = {"n": sum(first["lengths"].values()), "form": "frame", "kinds": known, "index": "range",
                "parts": parts, "sample": sample, "null_ints": [j for j in ints if j in first["nulls"]],
                "null_bools": [j for j in bools if j in first["nulls"]]}
        summaries, facts = _summaries(df, plan, _offsets(first["lengths"]), facts_of, tz, struct_mode)
        seen = _observed(facts, facts_of)
        relevant = {"lengths": first["lengths"], "nulls": [j for j in first["nulls"] if j in ints + bools],
                    "kinds": {j: k for j, k in first["kinds"].items() if j in seen["kinds"]}}
        if seen == relevant:
            break
        first = seen
    else:
        raise NonDeterministicFrame("two runs of the Spark plan gave different partitions or values; "
                                    "fingerprint df.cache() or df.localCheckpoint() instead")
    n = plan["n"]
    if summaries:
        dtypes = next(iter(facts[p]["dtypes"] for p in sorted(facts, key=int)))
    else:  # no rows at all: the dtypes and the summary of toPandas' empty frame
        import pyarrow as pa
        from pyspark.sql.pandas.types import to_arrow_schema

        empty = _decide(_to_pandas(to_arrow_schema(schema, timezone="UTC").empty_table(), schema, tz, struct_mode),
                        plan)
        dtypes = [str(t) for t in empty.dtypes]
        summaries = [summarise(empty, 0, plan)]
        del pa
    names = [colstats.label(name) for name in df.columns]
    schema_out = {"columns": [{"name": a, "dtype": b} for a, b in zip(names, dtypes)],
                  "index": [{"name": None, "dtype": "int64"}]}
    fp = combine(summaries, type_="pandas.DataFrame", shape=[n, len(names)], schema=schema_out, form="frame",
                 names=names, dtypes=dtypes, index_desc=("range", 0, n, 1), parts=parts, sample=sample)
    fp["engine"] = "spark"
    return fp
