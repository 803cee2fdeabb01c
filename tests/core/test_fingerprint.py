"""The canonical fingerprint: equal values give equal fingerprints, each kind of change moves the right parts."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reprotrack.core.fingerprint import KEYS, content_hash, fingerprint


def _frame(n: int = 300, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "f": rng.normal(size=n),
        "i": rng.integers(-5, 5, n),
        "b": rng.random(n) < 0.5,
        "t": pd.date_range("2021-03-01", periods=n, freq="h", tz="Europe/Paris"),
        "td": pd.to_timedelta(rng.integers(0, 1000, n), unit="s"),
        "low": rng.choice(["red", "green", "blue"], n).astype(object),
        "cat": pd.Categorical(rng.choice(["x", "y", "z"], n)),
        "id": [f"id-{i:05d}-é" for i in range(n)],
        "s": pd.Series(rng.choice(["p", "q", None], n), dtype="str"),
        "I": pd.array(np.where(rng.random(n) < 0.1, None, rng.integers(0, 9, n)), dtype="Int64"),
    })


def _parts(fp: dict) -> dict:
    return {k: fp[k] for k in ("content", "rows", "schema", "shape")}


def test_keys_and_json_safe():
    fp = fingerprint(_frame())
    assert set(KEYS) <= set(fp)
    json.dumps(fp, allow_nan=False)  # strict JSON: no NaN/inf literals
    assert fp["type"] == "pandas.DataFrame" and fp["shape"] == [300, 10]
    assert fp["content"].startswith("xxh3-128:") and fp["rows"].startswith("sum128:")
    names = [c["name"] for c in fp["schema"]["columns"]]
    assert names == list(_frame().columns)
    stats = {s["name"]: s for s in fp["stats"]}
    assert stats["f"]["count"] == 300 and len(stats["f"]["histogram"]["counts"]) == 10
    assert stats["low"]["distinct"] == 3 and sum(c for _, c in stats["low"]["top"]) == 300
    assert stats["I"]["nulls"] > 0
    assert stats["t"]["unit"] == "s"


def test_equal_values_equal_fingerprints():
    assert fingerprint(_frame()) == fingerprint(_frame())


def test_reorder_changes_content_not_rows():
    df = _frame()
    shuffled = df.sample(frac=1, random_state=3)
    a, b = fingerprint(df), fingerprint(shuffled)
    assert a["content"] != b["content"] and a["rows"] == b["rows"] and a["schema"] == b["schema"]
    c = fingerprint(shuffled.reset_index(drop=True))
    assert c["rows"] == a["rows"] and c["content"] != a["content"]


def test_single_value_change():
    df = _frame()
    other = df.copy()
    other.loc[7, "low"] = "purple"
    a, b = fingerprint(df), fingerprint(other)
    assert a["content"] != b["content"] and a["rows"] != b["rows"] and a["schema"] == b["schema"]
    changed = [x["name"] for x, y in zip(a["stats"], b["stats"]) if x["hash"] != y["hash"]]
    assert changed == ["low"]


def test_dtype_and_name_change_schema_only():
    df = _frame()
    a = fingerprint(df)
    b = fingerprint(df.assign(i=df["i"].astype("int32")))
    assert b["content"] == a["content"] and b["rows"] == a["rows"] and b["schema"] != a["schema"]
    c = fingerprint(df.rename(columns={"f": "g"}))
    assert c["content"] == a["content"] and c["schema"] != a["schema"]


def test_added_and_removed_rows():
    df = _frame()
    a = fingerprint(df)
    for other in (df.iloc[:-1], pd.concat([df, df.iloc[:1]])):
        b = fingerprint(other)
        assert b["content"] != a["content"] and b["rows"] != a["rows"] and b["shape"] != a["shape"]
        assert b["schema"] == a["schema"] and b["type"] == a["type"]


def test_duplicates_count_in_rows():
    df = pd.DataFrame({"a": [1, 2, 2]})
    assert fingerprint(df)["rows"] != fingerprint(pd.DataFrame({"a": [1, 1, 2]}))["rows"]
    # xor would cancel pairs; a sum does not
    assert fingerprint(pd.DataFrame({"a": [1, 1]}))["rows"] != fingerprint(pd.DataFrame({"a": [2, 2]}))["rows"]


def test_nulls_nan_negative_zero_canonical():
    assert content_hash(pd.Series([1.0, np.nan])) == content_hash(pd.Series([1.0, None], dtype="Float64"))
    assert content_hash(np.array([0.0, 1.0])) == content_hash(np.array([-0.0, 1.0]))
    weird_nan = np.frombuffer(np.uint64(0x7FF8000000000123).tobytes(), dtype=np.float64)
    assert content_hash(np.array([np.nan])) == content_hash(weird_nan.copy())
    obj = pd.Series(["a", None, np.nan, pd.NA], dtype=object)
    assert content_hash(obj) == content_hash(pd.Series(["a", None, None, None], dtype=object))


def test_categorical_equals_object_content():
    s = pd.Series(["a", "b", None, "a"], dtype=object)
    assert content_hash(s) == content_hash(s.astype("category"))
    assert fingerprint(s)["schema"] != fingerprint(s.astype("category"))["schema"]


def test_int_widths_and_float_widths():
    assert content_hash(np.arange(10, dtype=np.int8)) == content_hash(np.arange(10, dtype=np.int64))
    assert content_hash(np.arange(10, dtype=np.uint16)) == content_hash(np.arange(10, dtype=np.int64))
    assert content_hash(np.arange(10, dtype=np.int64)) != content_hash(np.arange(10, dtype=np.float64))
    half = np.array([0.5, 1.25], dtype=np.float32)
    assert content_hash(half) == content_hash(half.astype(np.float64))


def test_datetime_units_and_time_zones():
    us = pd.Series(pd.date_range("2020-01-01", periods=5, freq="D").astype("datetime64[us]"))
    ns = us.astype("datetime64[ns]")
    assert content_hash(us) == content_hash(ns)
    utc = pd.Series(pd.date_range("2020-01-01", periods=5, freq="D", tz="UTC"))
    paris = utc.dt.tz_convert("Europe/Paris")
    assert content_hash(utc) == content_hash(paris)
    assert fingerprint(utc)["schema"] != fingerprint(paris)["schema"]
    assert content_hash(pd.Series([pd.NaT, pd.Timestamp("2020")])) != content_hash(pd.Series([pd.Timestamp("2020")] * 2))


def test_layout_invariance():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(200, 7))
    f = np.asfortranarray(a)
    assert fingerprint(a) == fingerprint(f)
    big = rng.normal(size=(400, 30))
    assert fingerprint(big[::2, 3:10]) == fingerprint(np.ascontiguousarray(big[::2, 3:10]))
    wide = rng.normal(size=(50, 100))
    assert fingerprint(wide) == fingerprint(np.asfortranarray(wide))
    cube = rng.normal(size=(10, 4, 5))
    assert fingerprint(cube) == fingerprint(np.asfortranarray(cube))
    assert fingerprint(cube)["content"] != fingerprint(cube.reshape(10, 20))["content"]
    df = pd.DataFrame(a)
    assert fingerprint(df) == fingerprint(pd.DataFrame(f))


def test_zero_d_structured_and_strings_arrays():
    assert fingerprint(np.array(3.0))["shape"] == []
    assert content_hash(np.array(3.0)) != content_hash(np.array(4.0))
    rec = np.zeros(3, dtype=[("a", "f8"), ("b", "i4", (2,))])
    fp = fingerprint(rec)
    assert [f["name"] for f in fp["schema"]["fields"]] == ["a", "b"]
    rec2 = rec.copy()
    rec2["b"][1, 1] = 5
    assert content_hash(rec2) != fp["content"]
    assert content_hash(np.array(["ab", "c"])) == content_hash(np.array(["ab", "c"], dtype=object))
    assert content_hash(np.array([b"ab", b"c"])) != content_hash(np.array(["ab", "c"]))


def test_strings_with_nul_surrogates_and_long_values():
    values = ["a\x00b", "", "\ud800x", "z" * 100_000, "é" * 7, "a\x00"]
    s = pd.Series(values, dtype=object)
    assert content_hash(s) == content_hash(pd.Series(list(values), dtype=object))
    for i in range(len(values)):
        changed = list(values)
        changed[i] = changed[i] + "!"
        assert content_hash(pd.Series(changed, dtype=object)) != content_hash(s)
    assert content_hash(pd.Series(["ab", "c"])) != content_hash(pd.Series(["a", "bc"]))


def test_multiindex_and_duplicate_columns():
    idx = pd.MultiIndex.from_product([["a", "b"], [1, 2]], names=["k", "n"])
    df = pd.DataFrame(np.arange(8).reshape(4, 2), index=idx, columns=pd.MultiIndex.from_tuples([("x", 1), ("x", 2)]))
    fp = fingerprint(df)
    assert fp["schema"]["columns"][0]["name"] == ["x", 1]
    assert [c["name"] for c in fp["schema"]["index"]] == ["k", "n"]
    json.dumps(fp, allow_nan=False)
    dup = pd.DataFrame([[1, 2], [3, 4]], columns=["a", "a"])
    assert [c["name"] for c in fingerprint(dup)["schema"]["columns"]] == ["a", "a"]
    assert fingerprint(dup)["content"] != fingerprint(pd.DataFrame([[2, 1], [4, 3]], columns=["a", "a"]))["content"]
    assert fingerprint(pd.Index([3, 1]))["content"] != fingerprint(pd.Index([1, 3]))["content"]
    assert fingerprint(idx)["type"] == "pandas.MultiIndex"


def test_scalars_containers_unknown():
    assert fingerprint(1)["type"] == "int" and fingerprint(1)["content"] != fingerprint(1.0)["content"]
    assert fingerprint(True)["content"] != fingerprint(1)["content"]
    assert fingerprint("a")["content"] != fingerprint(b"a")["content"]
    assert fingerprint(None)["content"] is not None
    assert fingerprint(0.5)["approx"]["columns"][0]["values"] == [0.5]
    assert fingerprint({"a": 1, "b": 2})["content"] == fingerprint({"b": 2, "a": 1})["content"]
    assert fingerprint([1, 2])["content"] != fingerprint([2, 1])["content"]
    assert fingerprint([1, 2])["rows"] == fingerprint([2, 1])["rows"]
    assert fingerprint((1, 2))["content"] != fingerprint([1, 2])["content"]
    nested = {"df": _frame(20), "arr": np.arange(3), "xs": [1.5, "x", None]}
    assert fingerprint(nested)["content"] == fingerprint({"df": _frame(20), "arr": np.arange(3),
                                                          "xs": [1.5, "x", None]})["content"]
    cyc: list = [1]
    cyc.append(cyc)
    assert fingerprint(cyc)["content"].startswith("xxh3-128:")

    class Opaque:
        def __repr__(self):
            raise RuntimeError("never call repr")

    fp = fingerprint(Opaque())
    assert fp["content"] is None and fp["type"].endswith("Opaque")
    # opaque objects inside a column: by type name, never repr
    assert fingerprint(pd.Series([Opaque(), 1], dtype=object))["content"].startswith("xxh3-128:")


def test_estimators_learned_apart_from_params():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    y = (X[:, 0] + 0.3 * rng.normal(size=200) > 0).astype(int)
    a = fingerprint(LogisticRegression().fit(X, y))
    assert a["type"] == "sklearn.linear_model.LogisticRegression"
    assert "coef_" in a["schema"]["learned"] and a["schema"]["params"]["C"] == 1.0
    assert fingerprint(LogisticRegression().fit(X, y)) == a
    b = fingerprint(LogisticRegression().fit(X[:150], y[:150]))
    assert b["content"] != a["content"] and b["schema"] == a["schema"]
    assert fingerprint(LogisticRegression(C=10.0))["schema"]["params"]["C"] == 10.0
    p1 = fingerprint(make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y))
    p2 = fingerprint(make_pipeline(StandardScaler(), LogisticRegression()).fit(X[:100], y[:100]))
    assert p1["content"] != p2["content"]
    assert p1["schema"]["params"]["steps"][1][1]["params"]["C"] == 1.0
    t1 = fingerprint(DecisionTreeClassifier(random_state=0).fit(X, y))
    t2 = fingerprint(DecisionTreeClassifier(random_state=0, max_depth=2).fit(X, y))
    assert t1["content"] != t2["content"]
    json.dumps(t1, allow_nan=False)


_CHILD = """
import json, sys
import numpy as np, pandas as pd
sys.path.insert(0, {tests!r})
from test_fingerprint import _frame
from reprotrack.core.fingerprint import fingerprint
df = _frame()
print(json.dumps([fingerprint(df), fingerprint({{"k": ["a", 1.5, None], "s": {{"x", "y"}}}})], sort_keys=True))
"""


def test_cross_process_stable_under_hash_seed():
    outs = []
    for seed in ("1", "12345"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        code = _CHILD.format(tests=os.path.dirname(__file__))
        outs.append(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                   check=True).stdout)
    assert outs[0] == outs[1]
    here = json.dumps([fingerprint(_frame()), fingerprint({"k": ["a", 1.5, None], "s": {"x", "y"}})], sort_keys=True)
    assert json.loads(outs[0]) == json.loads(here)


def test_chunked_equals_whole(monkeypatch):
    """Chunk boundaries never show in the fingerprint."""
    import reprotrack.core.fingerprint.table as ft

    df = _frame(5000)
    whole = fingerprint(df)
    monkeypatch.setattr(ft, "chunk_rows", lambda ncols: 777)
    chunked = fingerprint(df)
    stats_a, stats_b = whole.pop("stats"), chunked.pop("stats")
    assert chunked == whole
    for x, y in zip(stats_a, stats_b):  # summaries: equal up to float summation order
        for key in x:
            if isinstance(x[key], float):
                assert y[key] == pytest.approx(x[key], rel=1e-9, abs=1e-12), key
            else:
                assert y[key] == x[key], key


def test_content_only_parts():
    fp = fingerprint(_frame(), parts=("content",))
    assert fp["content"] == fingerprint(_frame())["content"]
    assert fp["rows"] is None and fp["stats"] is None and fp["approx"] is None


_cells = st.one_of(st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=True), st.text(max_size=8),
                   st.none(), st.booleans())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.floats(allow_nan=False, width=64), st.integers(-1000, 1000), st.text(max_size=6)),
                min_size=2, max_size=40), st.data())
def test_property_components(rows, data):
    df = pd.DataFrame(rows, columns=["f", "i", "s"]).astype({"s": object})
    a = fingerprint(df)
    assert fingerprint(df.copy(deep=True)) == a
    perm = data.draw(st.permutations(range(len(df))))
    shuffled = df.iloc[list(perm)]
    b = fingerprint(shuffled.reset_index(drop=True))
    assert b["rows"] == a["rows"]
    assert (b["content"] == a["content"]) == shuffled.reset_index(drop=True).equals(df)
    row = data.draw(st.integers(0, len(df) - 1))
    changed = df.copy()
    changed.iloc[row, 1] = int(changed.iloc[row, 1]) + 1
    c = fingerprint(changed)
    assert c["content"] != a["content"] and c["rows"] != a["rows"] and c["schema"] == a["schema"]
    assert [x["hash"] != y["hash"] for x, y in zip(a["stats"], c["stats"])] == [False, True, False]


@settings(max_examples=60, deadline=None)
@given(st.lists(_cells, max_size=30))
def test_property_object_columns(values):
    s = pd.Series(values, dtype=object)
    assert content_hash(s) == content_hash(pd.Series(list(values), dtype=object))
    assert fingerprint(list(values))["content"] == fingerprint(list(values))["content"]


def test_edge_values_are_json_safe():
    import datetime as dt
    import decimal

    values = [pd.DataFrame(), pd.DataFrame({"a": pd.Series([], dtype=float)}), np.zeros((0, 3)), [], {},
              pd.Series([[1, 2], [3], None], dtype=object), pd.Series([1, "a", 2.5, None, True, 10**30, b"x"],
                                                                     dtype=object),
              pd.Series(pd.period_range("2020-01", periods=3, freq="M")), pd.Series(pd.interval_range(0, 3)),
              pd.Series(pd.arrays.SparseArray([0, 0, 1.5])),
              pd.Series(np.array(["3000-01-01", "NaT"], dtype="datetime64[s]")),
              pd.Series([True, None, False], dtype="boolean"), np.array([2**64 - 1, 1], dtype=np.uint64),
              np.array([1 + 2j, np.nan]), pd.Timestamp("2020-01-01", tz="UTC"), pd.Timedelta("1s"),
              dt.date(2020, 1, 1), decimal.Decimal("1.10"), np.datetime64("2020-01-01"), pd.NaT, float("inf"),
              np.array([[1, "a"], [None, 2.5]], dtype=object), np.array([1.5, -0.0], dtype=np.float16),
              pd.Series(pd.Categorical([1, 2, None])), {1, 2, "a"}, pd.RangeIndex(5), np.zeros((), dtype=[("a", "i4")]),
              (i for i in range(3)), np, len, int]
    for v in values:
        fp = fingerprint(v)
        assert set(KEYS) <= set(fp)
        json.dumps(fp, allow_nan=False)
    assert fingerprint((i for i in range(3)))["content"] is None  # a generator is never consumed
    assert fingerprint(int)["type"] == "type"


def test_categorical_numbers_equal_plain_numbers():
    assert content_hash(pd.Series(pd.Categorical([1, 2, None]))) == content_hash(pd.Series([1, 2, None], dtype="Int64"))
    utc = pd.Series(pd.date_range("2020", periods=3, tz="UTC"))
    assert content_hash(utc.astype("category")) == content_hash(utc)


def test_zero_rows_count_in_rows():
    assert fingerprint(np.zeros(3))["rows"] != fingerprint(np.zeros(2))["rows"]
    assert fingerprint(pd.DataFrame({"a": [0, 0]}))["rows"] != fingerprint(pd.DataFrame({"a": [0]}))["rows"]


def test_deep_nesting_and_hostile_estimator():
    deep: list = []
    cur = deep
    for _ in range(5000):
        nxt: list = []
        cur.append(nxt)
        cur = nxt
    assert fingerprint(deep)["content"].startswith("xxh3-128:")

    class Hostile:
        def fit(self, X, y=None):
            return self

        def get_params(self, deep=True):
            raise RuntimeError("broken")

    fp = fingerprint(Hostile())
    assert fp["schema"]["params"] == {} and fp["content"].startswith("xxh3-128:")


def test_benchmark_runs_small(capsys):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_fingerprint.py"
    spec = importlib.util.spec_from_file_location("bench_fingerprint", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.main(["--rows", "3000", "--skip-joblib"]) == 0
    out = capsys.readouterr().out
    assert "reprotrack.fingerprint (full)" in out and "speed-up full/hash_pandas_object" in out


def test_repeated_objects_and_equal_copies_agree():
    words = ["alpha", "beta", None, "gamma"]
    shared = np.array([words[i % 4] for i in range(20000)], dtype=object)  # the same 3 str objects
    copies = np.array(["".join(list(w)) if w else None for w in shared], dtype=object)  # one object per row
    a, b = fingerprint(pd.Series(shared)), fingerprint(pd.Series(copies))
    assert a["content"] == b["content"] and a["rows"] == b["rows"]
    assert a["stats"][0]["top"] == b["stats"][0]["top"] and a["stats"][0]["distinct"] == 3
    assert content_hash(pd.Series(shared)) == content_hash(pd.Series(shared).astype("category"))
    mixed = pd.Series([1, 1.0, True, "1"] * 500, dtype=object)  # equal in Python, different values here
    stats = fingerprint(mixed)["stats"][0]
    assert stats["distinct"] == 4
    assert content_hash(mixed) != content_hash(pd.Series([1, 1, 1, "1"] * 500, dtype=object))


def test_string_hash_paths_agree():
    from reprotrack.core.fingerprint import hashing

    def reference(values):
        return [hashing.bytes_scalar_hash(v.encode("utf-8", "surrogatepass"), "str") for v in values]

    cases = [["abc"] * 5, ["ab", "", "xyz", "é€"], ["a\x00b", "c"], [""] * 3,
             ["x" * (hashing.MAX_BLOCK + 3), "b", "c" * 10, "d" * (hashing.MAX_BLOCK // 2 + 1)] + ["e"] * 3]
    for values in cases:
        assert hashing.str_hashes(values).tolist() == reference(values)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=12), st.text(alphabet="\x00a€", max_size=5)), min_size=1, max_size=60))
def test_property_string_hashes(values):
    from reprotrack.core.fingerprint import hashing

    expected = [hashing.bytes_scalar_hash(v.encode("utf-8", "surrogatepass"), "str") for v in values]
    assert hashing.str_hashes(values).tolist() == expected
    assert content_hash(pd.Series(values, dtype=object)) == content_hash(pd.Series(values, dtype="category"))


def test_estimators_private_fitted_data():
    from sklearn.cluster import KMeans
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.neighbors import KNeighborsClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    y = (X[:, 0] > 0).astype(int)
    hgb = HistGradientBoostingClassifier(max_iter=5, random_state=0).fit(X, y)
    before = fingerprint(hgb)["content"]
    hgb._predictors[0][0].nodes["value"][1] += 1.0  # one leaf of one tree: only private state holds it
    assert fingerprint(hgb)["content"] != before
    knn = fingerprint(KNeighborsClassifier().fit(X, y))
    assert fingerprint(KNeighborsClassifier().fit(X + 1e-3, y))["content"] != knn["content"]
    k1 = KMeans(2, n_init=1, random_state=0).fit(X)
    k2 = KMeans(2, n_init=1, random_state=0).fit(X)
    k2._n_threads = 64  # a machine setting, not learned data
    assert fingerprint(k1)["content"] == fingerprint(k2)["content"]


def test_fingerprints_fit_the_lockfile_schema():
    from importlib import resources

    import jsonschema
    from sklearn.linear_model import LogisticRegression

    schema = json.loads(resources.files("reprotrack").joinpath("schema/lockfile.schema.json").read_text())
    validator = jsonschema.Draft202012Validator({"$ref": "#/$defs/fingerprint", "$defs": schema["$defs"]})
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3))
    for value in (_frame(), np.arange(6).reshape(2, 3), 1.5, "x", [1, None], {"a": 1}, object(),
                  LogisticRegression().fit(X, X[:, 0] > 0), pd.Index(["a", "b"])):
        validator.validate(json.loads(json.dumps(fingerprint(value), allow_nan=False)))


def test_hostile_objects_in_a_column():
    class Hostile:
        def __hash__(self):
            raise RuntimeError("no hashing")

        def __eq__(self, other):
            raise RuntimeError("no comparing")

        def __repr__(self):
            raise RuntimeError("no repr")

    s = pd.Series([Hostile() for _ in range(10)] + ["a"] * 10, dtype=object)
    fp = fingerprint(s)
    assert fp["content"].startswith("xxh3-128:") and fp["stats"][0]["count"] == 20


def test_extreme_floats_give_json_safe_stats():
    import warnings

    values = pd.DataFrame({"x": [1.7976931348623157e308, -9.9792015476736e291, np.inf, -np.inf, np.nan, 0.0]})
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # overflow is reported in the stats, never warned
        fp = fingerprint(values)
    json.dumps(fp, allow_nan=False)
    stats = fp["stats"][0]
    assert stats["posinf"] == 1 and stats["neginf"] == 1 and stats["nulls"] == 1
