"""classify: each way data can differ between research and replay gets its own cause."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from reprotrack.core.diff.data import CAUSES, DataDifference, classify
from reprotrack.core.fingerprint import fingerprint


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 4000
    return pd.DataFrame({
        "f": rng.normal(size=n),
        "g": rng.normal(size=n) * 100,
        "i": rng.integers(0, 10, n),
        "s": rng.choice(["a", "b", "c"], n).astype(object),
    })


@pytest.fixture(scope="module")
def base(df) -> dict:
    return fingerprint(df)


def causes(base: dict, other) -> list[str]:
    found = classify(base, fingerprint(other))
    assert all(isinstance(d, DataDifference) and d.cause in CAUSES for d in found)
    assert all(len(d.message) < 300 for d in found)
    return [d.cause for d in found]


def test_equal(df, base):
    assert classify(base, fingerprint(df.copy())) == []


def test_reordered(df, base):
    assert causes(base, df.sample(frac=1, random_state=1)) == ["rows-reordered"]
    assert causes(base, df.sample(frac=1, random_state=1).reset_index(drop=True)) == ["rows-reordered"]


def test_rows_added_and_removed(df, base):
    found = classify(base, fingerprint(df.iloc[:-25]))
    assert [d.cause for d in found] == ["rows-removed"] and "25" in found[0].message
    found = classify(base, fingerprint(pd.concat([df, df.iloc[:3]], ignore_index=True)))
    assert [d.cause for d in found] == ["rows-added"] and "3" in found[0].message


def test_precision_float32_round_trip(df, base):
    found = classify(base, fingerprint(df.assign(f=df["f"].astype(np.float32).astype(np.float64))))
    assert [d.cause for d in found] == ["precision"] and found[0].columns == ["f"]


def test_precision_relative_1e12(df, base):
    found = classify(base, fingerprint(df.assign(f=df["f"] * (1 + 1e-12), g=df["g"] * (1 - 1e-12))))
    assert [d.cause for d in found] == ["precision"] and found[0].columns == ["f", "g"]


def test_values_changed_not_precision(df, base):
    found = classify(base, fingerprint(df.assign(g=df["g"] * 1.001)))
    assert found[0].cause == "values-changed" and found[0].columns == ["g"]
    one = df.copy()
    one.loc[11, "i"] = 99
    found = classify(base, fingerprint(one))
    assert found[0].cause == "values-changed" and found[0].columns == ["i"]
    few = df.copy()
    few.loc[5, "f"] = few.loc[5, "f"] + 1e-3
    found = classify(base, fingerprint(few))
    assert [d.cause for d in found] == ["values-changed"] and found[0].columns == ["f"]


def test_schema_changed(df, base):
    found = classify(base, fingerprint(df.rename(columns={"g": "h"})))
    assert [d.cause for d in found] == ["schema-changed"] and found[0].columns == ["h"]
    assert "renamed" in found[0].message and "'g' → 'h'" in found[0].message
    found = classify(base, fingerprint(df.assign(i=df["i"].astype(np.float64))))
    assert [d.cause for d in found] == ["schema-changed"] and "float64" in found[0].message
    assert causes(base, df.drop(columns=["s"]))[0] == "schema-changed"
    assert classify(base, fingerprint(np.zeros(3)))[0].cause == "schema-changed"


def test_new_categories(df, base):
    other = df.assign(s=df["s"].where(df.index % 7 != 0, "zzz"))
    found = classify(base, fingerprint(other))
    assert "new-categories" in [d.cause for d in found]
    assert "zzz" in next(d for d in found if d.cause == "new-categories").message


def test_distribution_shift_with_rows_added(df, base):
    rng = np.random.default_rng(5)
    extra = pd.DataFrame({"f": rng.normal(5, 1, 2000), "g": rng.normal(size=2000) * 100,
                          "i": rng.integers(0, 10, 2000), "s": rng.choice(["a", "b", "c"], 2000).astype(object)})
    found = classify(base, fingerprint(pd.concat([df, extra], ignore_index=True)))
    assert [d.cause for d in found] == ["rows-added", "distribution-shift"]
    assert found[1].columns == ["f"]


def test_estimator_precision_and_params():
    from sklearn.linear_model import LinearRegression, Ridge

    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 3))
    y = X @ [1.0, 2.0, 3.0] + rng.normal(size=100)
    a = LinearRegression().fit(X, y)
    b = LinearRegression().fit(X, y)
    b.coef_ = b.coef_ * (1 + 1e-12)
    found = classify(fingerprint(a), fingerprint(b))
    assert [d.cause for d in found] == ["precision"]
    c = LinearRegression().fit(X[:50], y[:50])
    assert classify(fingerprint(a), fingerprint(c))[0].cause == "values-changed"
    r1, r2 = fingerprint(Ridge(alpha=1.0).fit(X, y)), fingerprint(Ridge(alpha=5.0).fit(X, y))
    found = classify(r1, r2)
    assert found[0].cause == "schema-changed" and "alpha" in found[0].message


def test_scalars():
    assert classify(fingerprint(0.91), fingerprint(0.91 * (1 + 1e-13)))[0].cause == "precision"
    assert classify(fingerprint(0.91), fingerprint(0.95))[0].cause == "values-changed"
    assert classify(fingerprint("a"), fingerprint("a")) == []
    metrics = {"acc": 0.91, "loss": [0.5, 0.25]}
    assert [d.cause for d in classify(fingerprint(metrics), fingerprint({"acc": 0.91 * (1 + 1e-12),
                                                                       "loss": [0.5, 0.25]}))] == ["precision"]
    assert [d.cause for d in classify(fingerprint(metrics), fingerprint({"acc": 0.8, "loss": [0.5, 0.25]}))] == [
        "values-changed"]


def test_arrays_and_duplicate_names():
    a = np.random.default_rng(0).normal(size=1000)
    found = classify(fingerprint(a), fingerprint(a * (1 + 1e-12)))
    assert [d.cause for d in found] == ["precision"] and found[0].columns == []
    assert "column" not in found[0].message
    # every value moved and so did the distribution: the shift leads, the changed values follow
    assert [d.cause for d in classify(fingerprint(a), fingerprint(a + 1))] == ["distribution-shift", "values-changed"]
    few = a.copy()
    few[:3] = 50.0  # a few edits blow up the std too, but the edits are what happened
    assert classify(fingerprint(a), fingerprint(few))[0].cause == "values-changed"
    frame = pd.DataFrame([[1.0, 2.0]] * 50, columns=["a", "a"])
    other = frame.copy()
    other.iloc[:, 1] *= 1 + 1e-12
    assert [d.cause for d in classify(fingerprint(frame), fingerprint(other))] == ["precision"]
    other.iloc[:, 1] += 5
    assert [d.cause for d in classify(fingerprint(frame), fingerprint(other))] == ["distribution-shift",
                                                                                 "values-changed"]


def test_float_width_change_is_schema_and_precision(df, base):
    found = classify(base, fingerprint(df.assign(f=df["f"].astype(np.float32))))
    assert [d.cause for d in found] == ["schema-changed", "precision"]
    assert "float32" in found[0].message and found[1].columns == ["f"]
