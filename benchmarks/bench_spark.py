"""Spark fingerprint vs the pandas fingerprint of the same data, in the same run.

Generated data (spark.range: a long, a double, a short string, a boolean), a real ``local[2]`` session.
Figures: wall time and throughput over the pandas frame's in-memory size for (a) ``reprotrack.fingerprint``
of the Spark frame (computed on the executors; only the partition summaries reach the driver) and (b)
``toPandas()`` plus the pandas fingerprint; and the peak RSS increase of the driver process (polled; the
executors of ``local[2]`` are Python worker processes outside it, as they would be on a cluster). Equal
``content`` is asserted. Run: ``python benchmarks/bench_spark.py [--rows N]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench_dask import PeakRSS  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=4_000_000)
    parser.add_argument("--partitions", type=int, default=8)
    args = parser.parse_args(argv)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    import reprotrack

    spark = (SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
             .config("spark.sql.execution.arrow.pyspark.enabled", "true").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    i = F.col("id")
    df = spark.range(0, args.rows, numPartitions=args.partitions).select(
        i.alias("i"), F.rand(1).alias("f"), F.concat(F.lit("w"), (i % 1000).cast("string")).alias("s"),
        (i % 3 == 0).alias("b")).cache()
    df.count()  # both sides read the same cached data
    with PeakRSS() as mem:
        t0 = time.perf_counter()
        got = reprotrack.fingerprint(df)
        spark_s = time.perf_counter() - t0
    spark_peak = mem.peak
    with PeakRSS() as mem:
        t0 = time.perf_counter()
        pdf = df.toPandas()
        convert_s = time.perf_counter() - t0
        want = reprotrack.fingerprint(pdf)
        pandas_s = time.perf_counter() - t0
    size = int(pdf.memory_usage(deep=True).sum())
    assert got["content"] == want["content"] and got["rows"] == want["rows"]
    print(f"spark   {args.rows} rows, {args.partitions} partitions: {spark_s:.2f} s, "
          f"{size / spark_s / 1e6:.0f} MB/s, driver peak RSS increase {spark_peak / 1e6:.0f} MB")
    print(f"pandas  toPandas {convert_s:.2f} s + fingerprint {pandas_s - convert_s:.2f} s = {pandas_s:.2f} s, "
          f"{size / pandas_s / 1e6:.0f} MB/s, driver peak RSS increase {mem.peak / 1e6:.0f} MB "
          f"(frame {size / 1e6:.0f} MB)")
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
