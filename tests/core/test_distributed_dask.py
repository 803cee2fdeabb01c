"""Dask fingerprints equal the pandas fingerprint of the same data, computed partition by partition.

Real Dask on the local threaded scheduler; generated data across dtypes; partitionings that cross the
2**16-row content blocks at odd places, with empty partitions. Everything in ``merge``'s "identical" list is
compared for equality; mean/std (merged moments) to 1e-12 relative."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import assert_same_fingerprint

from reprotrack.core.diff.data import classify
from reprotrack.core.fingerprint import fingerprint
from reprotrack.core.fingerprint.blockdigest import BLOCK_ROWS, BlockHasher, PartHasher, stitch

dask = pytest.importorskip("dask", reason="dask is not installed (pip install 'reprotrack[dask]')")
dd = pytest.importorskip("dask.dataframe", reason="dask[dataframe] is not installed (pip install 'reprotrack[dask]')")



@pytest.fixture(autouse=True)
def _threads():
    with dask.config.set(scheduler="threads", num_workers=2):
        yield


def _frame(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    f = rng.normal(size=n)
    f[rng.random(n) < 0.05] = np.nan
    nullable = pd.array(rng.integers(-5, 5, n), dtype="Int64")
    nullable[: n // 3][rng.random(n // 3) < 0.1] = pd.NA  # nulls only in the first third
    big = rng.integers(0, 1 << 40, n).astype(np.uint64)
    big[-1] = np.uint64(1 << 63) + np.uint64(5)  # uint kind decided by the last partition alone
    words = rng.choice(["alpha", "beta", "gamma", None], n).astype(object)
    return pd.DataFrame({
        "f": f, "f32": rng.normal(size=n).astype(np.float32), "i": rng.integers(0, 1000, n), "n": nullable,
        "u": big, "b": rng.random(n) > 0.3, "nb": pd.array(np.where(rng.random(n) < 0.1, None, rng.random(n) > .5),
                                                           dtype="boolean"),
        "s": words, "uniq": [f"id-{i}" for i in rng.permutation(n)],
        "c": pd.Categorical(rng.choice(["x", "y", "z"], n)), "ci": pd.Categorical(rng.choice([1, 5, 9], n)),
        "t": pd.Timestamp("2021-03-04") + pd.to_timedelta(rng.integers(0, 10**9, n), unit="s"),
        "tz": pd.date_range("2020-01-01", periods=n, freq="min", tz="Europe/Paris"),
        "d": pd.to_timedelta(rng.integers(0, 10**6, n), unit="ms"),
        "ts": (pd.Timestamp("2000-01-01") + pd.to_timedelta(rng.integers(0, 10**6, n), unit="s")).astype("M8[s]"),
    })


def _dask(df: pd.DataFrame, sizes: list[int]):
    """A Dask frame whose partitions have exactly ``sizes`` rows (zeros allowed)."""
    assert sum(sizes) == len(df)
    cuts = np.cumsum([0] + sizes)
    parts = [dask.delayed(df.iloc[a:b].copy)() for a, b in zip(cuts[:-1], cuts[1:])]
    return dd.from_delayed(parts, meta=df.iloc[:0], verify_meta=False)


N = 150_001  # crosses two block boundaries
PARTITIONINGS = {
    "one": [N],
    "aligned": [BLOCK_ROWS, BLOCK_ROWS, N - 2 * BLOCK_ROWS],
    "odd-with-empties": [0, 1, 70_000, 0, 3, 40_000, 0, N - 110_004, 0],
    "many-small": [N // 8] * 7 + [N - 7 * (N // 8)],
}


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, dict]:
    df = _frame(N)
    return df, fingerprint(df)


@pytest.mark.parametrize("name", list(PARTITIONINGS))
def test_dask_equals_pandas_across_dtypes_and_partitionings(data, name):
    df, expected = data
    got = fingerprint(_dask(df, PARTITIONINGS[name]))
    assert got["engine"] == "dask" and got["type"] == "pandas.DataFrame"
    assert_same_fingerprint(got, expected)


def test_a_series_an_index_and_the_data_compute_gives(data):
    df = data[0].iloc[:5000]
    ddf = _dask(df, [1000, 0, 2500, 1500])
    assert_same_fingerprint(fingerprint(ddf["f"]), fingerprint(df["f"]))
    keyed = df.set_index("uniq")
    assert_same_fingerprint(fingerprint(_dask(keyed, [2000, 3000])), fingerprint(keyed))
    # from_pandas (with Dask's own string conversion): equal to what it computes to
    auto = dd.from_pandas(df, npartitions=3)
    assert_same_fingerprint(fingerprint(auto), fingerprint(auto.compute()))
    restarted = pd.concat([df.iloc[:100].reset_index(drop=True), df.iloc[100:300].reset_index(drop=True)])
    assert_same_fingerprint(fingerprint(_dask(restarted, [100, 200])), fingerprint(restarted))  # index 0..99, 0..199


def test_a_changed_value_a_reordered_partition_and_a_dropped_row_are_told_apart(data):
    df = data[0].iloc[:20_000]
    sizes = [5000, 7000, 8000]
    base = fingerprint(_dask(df, sizes))
    changed = df.copy()
    changed.iloc[12_345, changed.columns.get_loc("i")] += 1
    fp = fingerprint(_dask(changed, sizes))
    assert fp["content"] != base["content"] and fp["rows"] != base["rows"]
    assert [s["name"] for s in fp["stats"] if s["hash"] != dict((t["name"], t["hash"]) for t in base["stats"])[s["name"]]] == ["i"]
    assert "values-changed" in [d.cause for d in classify(base, fp)]

    parts = [df.iloc[:5000], df.iloc[5000:12_000], df.iloc[12_000:]]
    swapped = dd.from_delayed([dask.delayed(p.copy)() for p in (parts[1], parts[0], parts[2])], meta=df.iloc[:0])
    fp = fingerprint(swapped)
    assert fp["content"] != base["content"] and fp["rows"] == base["rows"]
    assert [d.cause for d in classify(base, fp)][0] == "rows-reordered"

    dropped = fingerprint(_dask(df.drop(df.index[9_999]), [5000, 6999, 8000]))
    assert dropped["rows"] != base["rows"] and dropped["shape"] == [19_999, df.shape[1]]
    assert "rows-removed" in [d.cause for d in classify(base, dropped)]


@pytest.mark.parametrize("sizes", [[0], [1], [BLOCK_ROWS - 1, 2], [3, BLOCK_ROWS, BLOCK_ROWS + 7], [5] * 40])
def test_block_pieces_stitch_to_the_single_pass_digest(sizes):
    data = np.random.default_rng(1).integers(0, 255, (sum(sizes), 3), dtype=np.uint8)
    whole = BlockHasher()
    whole.rows = len(data)
    whole.update(data.tobytes())
    pieces, offset = [], 0
    for size in sizes:
        part = PartHasher(offset)
        for lo in range(0, size, 1000):  # chunked like the encoders write
            hi = min(size, lo + 1000)
            part.rows = hi - lo
            part.update(data[offset + lo: offset + hi].tobytes())
        pieces += part.pieces()
        offset += size
    assert stitch(pieces) == whole.digest()
