"""``reprotrack.drift`` and ``reprotrack.expect`` from Python: a pandas, a Dask and a Spark frame of the same
data give the same drift measures (each counted by its own engine); the research grid is equal on all three;
requirements are recorded, checked and ratcheted; a now-test carries the drift report of the data it scored.
"""

from __future__ import annotations

import os
import shutil
import sys

import numpy as np
import pandas as pd
import pytest

import reprotrack
from reprotrack import store
from reprotrack.core import requirements
from reprotrack.core.diff import compare
from reprotrack.core.fingerprint import fingerprint
from reprotrack.core.lockfile import Lock
from reprotrack.errors import UsageError


def frame(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "x": rng.normal(shift, 1, n), "k": rng.integers(0, 7, n), "c": rng.choice(list("abcde"), n),
        "when": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 86400 * 30, n), unit="s"),
        "flag": rng.random(n) < 0.3,
    })


@pytest.fixture(scope="module")
def research_lock(tmp_path_factory):
    path = tmp_path_factory.mktemp("drift") / "research.lock"
    store.write_lock(path, Lock(checkpoints={"features": fingerprint(frame(30_000, 0))}))
    return path


def measures(report) -> list:
    return [(c.name, c.drifted, sorted(c.causes), {k: v for k, v in c.measures.items() if k != "mean"})
            for c in report.columns]


def test_dask_counts_like_pandas(research_lock):
    dd = pytest.importorskip("dask.dataframe")
    new = frame(20_000, 3, shift=0.3)
    pandas_report = reprotrack.drift(research_lock, "features", new)
    dask_report = reprotrack.drift(research_lock, "features", dd.from_pandas(new, npartitions=7))
    assert measures(dask_report) == measures(pandas_report)
    assert dask_report.status == pandas_report.status and dask_report.source == "dask frame"
    assert [c.name for c in pandas_report.columns if c.drifted] == ["x"]


def test_the_research_grid_is_equal_on_dask_and_pandas():
    dd = pytest.importorskip("dask.dataframe")
    data = frame(40_000, 1)
    grids = [[s.get("cdf_grid") for s in fingerprint(d)["stats"]]
             for d in (data, dd.from_pandas(data, npartitions=5))]
    assert grids[0] == grids[1] and grids[0][0] is not None


@pytest.mark.skipif(shutil.which("java") is None and not os.environ.get("JAVA_HOME"), reason="Spark needs Java")
def test_spark_counts_like_pandas(research_lock):
    pytest.importorskip("pyspark")
    from pyspark.sql import SparkSession

    old = os.environ.get("PYSPARK_PYTHON")
    os.environ["PYSPARK_PYTHON"] = sys.executable
    spark = (SparkSession.builder.master("local[2]").appName("reprotrack-drift")
             .config("spark.ui.enabled", "false").config("spark.sql.session.timeZone", "UTC")
             .config("spark.sql.execution.arrow.pyspark.enabled", "true").getOrCreate())
    try:
        new = frame(5000, 4)
        got = reprotrack.drift(research_lock, "features", spark.createDataFrame(new).repartition(3))
        want = reprotrack.drift(research_lock, "features", new)
        assert measures(got) == measures(want) and got.status == "no-drift"
    finally:
        spark.stop()
        if old is None:
            os.environ.pop("PYSPARK_PYTHON", None)
        else:
            os.environ["PYSPARK_PYTHON"] = old


def test_requirements_check_and_ratchet():
    req = requirements.make("auc", np.float64(0.84), min=0.8)
    assert req == {"value": 0.84, "min": 0.8}
    assert requirements.check("auc", req, 0.81)[0] and not requirements.check("auc", req, 0.79)[0]
    assert not requirements.check("auc", req, float("nan"))[0]
    band = requirements.make("rmse", 1.0, within=0.05, max=1.2)
    assert requirements.check("rmse", band, 1.04)[0] and not requirements.check("rmse", band, 0.9)[0]
    assert requirements.ratchet(req, 0.9) == {"value": 0.9, "min": 0.9}
    assert requirements.ratchet(req, 0.7) is None
    assert requirements.parse("auc >= 0.80") == ("auc", "min", 0.8)
    assert requirements.parse("loss<=-1e-3") == ("loss", "max", -0.001)
    for bad in ("auc > 0.8", "auc >= high", ""):
        with pytest.raises(UsageError):
            requirements.parse(bad)
    with pytest.raises(UsageError):
        requirements.make("auc", 0.8)


def test_verify_fails_a_broken_requirement_even_within_tolerance():
    research = Lock(requirements={"auc": {"value": 0.8001, "min": 0.8}})
    replay = Lock(requirements={"auc": {"value": 0.79995, "min": 0.8}})
    report = compare(research, replay)  # |diff| is 1.5e-4: a metric within a loose tolerance, still broken
    assert report.status == "differs"
    (finding,) = report.findings
    assert (finding.kind, finding.cause, finding.subject) == ("output", "requirement-failed", "auc")
    assert compare(research, Lock(requirements={"auc": {"value": 0.81, "min": 0.8}})).status == "reproduced"


def test_a_now_test_checks_today_with_the_drift_report_alongside(research_lock, tmp_path):
    lock = store.read_lock(research_lock)
    lock.requirements = {"auc": {"value": 0.86, "min": 0.8}}
    store.write_lock(tmp_path / "research.lock", lock)
    today = frame(3000, 9, shift=1.0)
    result = reprotrack.expect("auc", 0.74, against=tmp_path / "research.lock", data=today, checkpoint="features")
    assert not result.ok and result.status == "requirement-failed"
    assert result.requirements[0]["message"].startswith("auc = 0.74 is below the minimum 0.8")
    assert result.drift.requirements == result.requirements
    assert [c.name for c in result.drift.columns if c.drifted] == ["x"]
    ok = reprotrack.expect("auc", 0.83, against=tmp_path / "research.lock")
    assert ok.ok and ok.drift is None and ok.status == "ok"
    with pytest.raises(UsageError, match="no requirement 'f1'"):
        reprotrack.expect("f1", 0.5, against=tmp_path / "research.lock")


def test_wide_frames_columns_without_statistics_are_noted_not_new(tmp_path):
    wide = pd.DataFrame(np.random.default_rng(0).normal(size=(500, 105)), columns=[f"f{i}" for i in range(105)])
    store.write_lock(tmp_path / "wide.lock", Lock(checkpoints={"features": fingerprint(wide)}))
    report = reprotrack.drift(tmp_path / "wide.lock", "features", wide.iloc[:300])
    assert report.status == "no-drift" and len(report.columns) == 100
    assert not [f for f in report.findings if f.cause == "schema-changed"]
    assert any("5 column(s) of the research data have no statistics" in n for n in report.notes)


def test_new_labels_are_protected_with_the_research_policy(tmp_path):
    """Under a lock's ``hashed`` policy the lock holds keyed hashes only; the new data's labels go through
    ``reprotrack.core.privacy.protect`` with the lock's salt before they are compared."""
    from reprotrack.core.privacy import protect

    research = frame(5000, 0)
    fp = protect(fingerprint(research), "hashed", "pepper")
    column = next(s for s in fp["stats"] if s["name"] == "c")
    assert all(str(label).startswith("h:") for label, _ in column["top"])
    lock = Lock(checkpoints={"features": fp})
    lock.privacy = {"policy": "hashed", "salt": "pepper"}
    report = reprotrack.drift(lock, "features", frame(2000, 5))
    c = next(col for col in report.columns if col.name == "c")
    assert not c.drifted and c.measures["js_distance"] < 0.05  # labels matched through their hashes
    assert any("keyed hashes" in n for n in report.notes)
    skewed = frame(2000, 5)
    skewed.loc[:1200, "c"] = "a"
    assert next(col for col in reprotrack.drift(lock, "features", skewed).columns if col.name == "c").drifted
