"""Partition summaries survive the bytes codec unchanged, and fingerprinting never imports an engine."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd

from reprotrack.core.fingerprint import PARTS, fingerprint
from reprotrack.core.fingerprint.distributed import codec
from reprotrack.core.fingerprint.distributed.merge import combine
from reprotrack.core.fingerprint.distributed.partition import summarise


def test_summaries_decoded_from_bytes_combine_to_the_pandas_fingerprint():
    rng = np.random.default_rng(3)
    n = 70_000
    f = rng.normal(size=n)
    f[::17] = np.nan
    f[5] = np.inf
    df = pd.DataFrame({"f": f, "i": rng.integers(0, 9, n), "s": rng.choice(["a", "b", None], n).astype(object),
                       "b": rng.random(n) > 0.5, "t": pd.date_range("2021-01-01", periods=n, freq="s")})
    plan = {"n": n, "form": "frame", "kinds": {}, "index": "range", "parts": PARTS, "sample": 64}
    cuts = [0, 1000, 40_000, n]
    summaries = [codec.decode(codec.encode(summarise(df.iloc[a:b], a, plan))) for a, b in zip(cuts, cuts[1:])]
    schema = {"columns": [{"name": c, "dtype": str(df[c].dtype)} for c in df.columns],
              "index": [{"name": None, "dtype": "int64"}]}
    got = combine(summaries, type_="pandas.DataFrame", shape=[n, 5], schema=schema, form="frame",
                  names=list(df.columns), dtypes=[str(t) for t in df.dtypes], index_desc=("range", 0, n, 1),
                  parts=PARTS, sample=64)
    want = fingerprint(df)
    for key in ("content", "rows", "approx", "shape"):
        assert got[key] == want[key], key
    assert [s["hash"] for s in got["stats"]] == [s["hash"] for s in want["stats"]]
    assert [s.get("nulls") for s in got["stats"]] == [s.get("nulls") for s in want["stats"]]


def test_decode_refuses_foreign_bytes():
    import pytest

    with pytest.raises(ValueError):
        codec.decode(b"\x80\x04pickle")


def test_fingerprinting_pandas_imports_neither_spark_nor_dask():
    code = ("import sys, pandas as pd, reprotrack; reprotrack.fingerprint(pd.DataFrame({'a': [1, 2]})); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pyspark', 'dask', 'py4j')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
