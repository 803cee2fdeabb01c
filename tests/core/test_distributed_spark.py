"""Spark fingerprints equal the pandas fingerprint of ``toPandas()``, computed by a real local Spark.

One module-scoped ``local[2]`` session (the JVM start dominates); generated data across Spark's types with
nulls (which change the pandas dtype of integer and boolean columns), several partitionings (repartition,
coalesce, empty partitions, no rows, more partitions than one reduction round joins). Everything in
``merge``'s "identical" list is compared for equality; mean/std to 1e-12 relative."""

from __future__ import annotations

import os
import shutil
import sys

import pytest

pyspark = pytest.importorskip("pyspark", reason="pyspark is not installed (pip install 'reprotrack[spark]')")
pytest.importorskip("pyarrow", reason="pyarrow is not installed (pip install 'reprotrack[spark]')")
if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("Spark needs a Java runtime: no java on PATH and no JAVA_HOME", allow_module_level=True)

from conftest import assert_same_fingerprint  # noqa: E402
from pyspark.sql import SparkSession  # noqa: E402
from pyspark.sql import functions as F  # noqa: E402

from reprotrack.core.diff.data import classify  # noqa: E402
from reprotrack.core.fingerprint import fingerprint  # noqa: E402
from reprotrack.core.fingerprint.distributed import spark as spark_fp  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning")
N = 70_001  # crosses a 2**16-row content block


@pytest.fixture(scope="module")
def spark():
    old = os.environ.get("PYSPARK_PYTHON")
    os.environ["PYSPARK_PYTHON"] = sys.executable  # executors run this interpreter (reprotrack importable)
    session = (SparkSession.builder.master("local[2]").appName("reprotrack-tests")
               .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "4")
               .config("spark.sql.execution.arrow.pyspark.enabled", "true")
               .config("spark.sql.session.timeZone", "Europe/Paris")  # DST: wall times differ from UTC
               .config("spark.driver.memory", "1g").getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
    if old is None:
        os.environ.pop("PYSPARK_PYTHON", None)
    else:
        os.environ["PYSPARK_PYTHON"] = old


def _frame(spark, n: int = N, partitions: int = 6):
    i = F.col("id")
    return spark.range(0, n, numPartitions=partitions).select(
        i.alias("i"),
        F.when(i % 7 == 0, None).otherwise(i % 5).cast("int").alias("ni"),  # nulls -> float64 in pandas
        (i % 100).cast("short").alias("sh"),
        F.when(i % 13 == 0, None).when(i % 29 == 0, F.lit(float("nan"))).otherwise(F.randn(1)).alias("f"),
        F.rand(2).cast("float").alias("f32"),
        F.when(i % 11 == 0, None).otherwise(F.concat(F.lit("w"), (i % 13).cast("string"))).alias("s"),
        F.concat(F.lit("id-"), ((i * 7919) % n).cast("string")).alias("uniq"),
        (i % 3 == 0).alias("b"),
        F.when(i % 9 == 0, None).otherwise(i % 2 == 0).alias("nb"),  # nulls -> object in pandas
        F.when(i % 17 == 0, None).otherwise(F.timestamp_seconds(i * 3599 + 1_585_000_000)).alias("t"),
        F.when(i % 19 == 0, None).otherwise(F.date_add(F.lit("2020-01-01").cast("date"), (i % 1000).cast("int")))
        .alias("d"),
    )


def _assert_same(a: dict, b: dict) -> None:
    assert a["engine"] == "spark" and a["type"] == b["type"] == "pandas.DataFrame"
    assert_same_fingerprint(a, b)


PARTITIONINGS = {
    "range": lambda df: df,
    "repartition": lambda df: df.repartition(5),
    "coalesce": lambda df: df.repartition(7).coalesce(3),
    "empty-partitions": lambda df: df.filter(~F.col("i").between(20_000, 45_000)),  # partitions 2, 3 empty
    "no-rows": lambda df: df.filter(F.lit(False)),
}


@pytest.mark.parametrize("name", list(PARTITIONINGS))
def test_spark_equals_pandas_of_topandas(spark, name):
    df = PARTITIONINGS[name](_frame(spark))
    expected = fingerprint(df.toPandas())
    _assert_same(fingerprint(df), expected)
    if name == "range":
        kinds = {c["name"]: c["dtype"] for c in expected["schema"]["columns"]}
        assert kinds["ni"] == "float64" and kinds["nb"] == "object" and kinds["i"] == "int64"


def test_more_partitions_than_one_round_joins(spark, monkeypatch):
    monkeypatch.setattr(spark_fp, "FANIN", 3)  # 11 summaries: two rounds of joins on executors
    df = _frame(spark, 20_000).repartition(11)
    _assert_same(fingerprint(df), fingerprint(df.toPandas()))


def test_a_changed_value_reordered_partitions_and_a_dropped_row_are_told_apart(spark):
    df = _frame(spark, 20_000, partitions=1)
    i = F.col("i")
    parts = [df.filter(i < 5000), df.filter(i.between(5000, 11_999)), df.filter(i >= 12_000)]
    base = fingerprint(parts[0].union(parts[1]).union(parts[2]))
    assert base["shape"] == [20_000, 11]

    bumped = F.when(F.col("i") == 12_345, F.col("sh") + 1).otherwise(F.col("sh")).cast("short")  # same dtype
    changed = fingerprint(df.withColumn("sh", bumped))
    assert changed["content"] != base["content"] and changed["rows"] != base["rows"]
    hashes = {s["name"]: s["hash"] for s in base["stats"]}
    assert [s["name"] for s in changed["stats"] if s["hash"] != hashes[s["name"]]] == ["sh"]
    assert "values-changed" in [d.cause for d in classify(base, changed)]

    swapped = fingerprint(parts[1].union(parts[0]).union(parts[2]))
    assert swapped["content"] != base["content"] and swapped["rows"] == base["rows"]
    assert [d.cause for d in classify(base, swapped)][0] == "rows-reordered"

    dropped = fingerprint(df.filter(F.col("i") != 9_999))
    assert dropped["rows"] != base["rows"] and dropped["shape"] == [19_999, 11]
    assert "rows-removed" in [d.cause for d in classify(base, dropped)]
