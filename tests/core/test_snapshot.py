"""``core.snapshot``: a frozen value survives every change of the original (pandas in place, numpy through a
shared buffer), and ``same_as`` proves equality only when the fingerprint must be equal (never "same" for
different values)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from reprotrack.core.fingerprint import fingerprint
from reprotrack.core.snapshot import freeze


def frame(n: int = 1000) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame({
        "x": rng.normal(size=n),
        "k": rng.integers(0, 9, n),
        "s": np.array(["a", "b", "c"], dtype=object)[rng.integers(0, 3, n)],
        "c": pd.Categorical(rng.choice(["u", "v"], n)),
        "m": pd.array(rng.integers(0, 5, n), dtype="Int64"),
        "t": pd.date_range("2024-01-01", periods=n, freq="h", tz="UTC"),
    })


@pytest.mark.parametrize("change", [
    "df.loc[0, 'x'] = 99.0",
    "df.iloc[3, 1] = -5",
    "df['x'] *= 2",
    "df.fillna(0, inplace=True); df.loc[1, 'm'] = None",
    "df['s'] = df['s'].str.upper()",
    "del df['k']",
])
def test_a_frozen_frame_keeps_its_values_whatever_the_original_undergoes(change):
    df = frame()
    before = fingerprint(df)
    frozen = freeze(df)
    exec(change, {"df": df})
    assert fingerprint(frozen.value) == before
    assert not frozen.same_as(df)


def test_equal_values_rebuilt_are_proven_same():
    a, b = frame(), frame()
    frozen = freeze(a)
    assert frozen.same_as(a)
    a["x"] = a["x"] * 1.0  # a new buffer, the same bits
    assert frozen.same_as(a)
    assert freeze(pd.Series(np.arange(10.0), name="v")).same_as(pd.Series(np.arange(10.0), name="v"))
    assert fingerprint(a) == fingerprint(frozen.value)
    assert frozen.same_as(b)  # built again from the same seed: numbers by their bits, strings by Arrow
    mixed = pd.Series([1, 2.0, "x"], dtype=object)
    assert not freeze(mixed).same_as(mixed)  # Python objects (1 == 1.0, mutable lists): never proven


@pytest.mark.parametrize("other", [
    lambda s: s.astype("float64"),                       # same numbers, another dtype
    lambda s: s.rename("w"),                             # another name
    lambda s: s.set_axis(np.arange(1, 11)),              # another index
    lambda s: s.to_frame(),                              # another type
    lambda s: pd.Series(np.arange(10), name=b"v"),       # a label of another type
])
def test_a_difference_the_fingerprint_may_see_is_never_proven_same(other):
    s = pd.Series(np.arange(10), name="v")
    assert not freeze(s).same_as(other(s))


def test_negative_zero_is_not_proven_the_same_as_zero():
    assert not freeze(pd.Series([0.0, 1.0])).same_as(pd.Series([-0.0, 1.0]))
    arrow = pd.Series([0.0, 1.0], dtype="double[pyarrow]")
    assert not freeze(arrow).same_as(pd.Series([-0.0, 1.0], dtype="double[pyarrow]"))


def test_extension_arrays_compare_by_their_own_values():
    cats = pd.Series(pd.Categorical(["a", "b", "a"], categories=["a", "b"]))
    reordered = pd.Series(pd.Categorical(["a", "b", "a"], categories=["b", "a"]))
    assert freeze(cats).same_as(pd.Series(pd.Categorical(["a", "b", "a"], categories=["a", "b"])))
    assert not freeze(cats).same_as(reordered)  # equal dtypes to pandas, other codes: not the same values
    masked = pd.Series(pd.array([1, None, 3], dtype="Int64"))
    assert freeze(masked).same_as(pd.Series(pd.array([1, None, 3], dtype="Int64")))
    assert not freeze(masked).same_as(pd.Series(pd.array([1, 2, 3], dtype="Int64")))
    text = pd.Series(["p", "q", None], dtype="str")
    assert freeze(text).same_as(pd.Series(["p", "q", None], dtype="str"))
    assert not freeze(text).same_as(pd.Series(["p", "q", "r"], dtype="str"))


def test_a_frame_built_on_a_numpy_array_without_a_copy_is_frozen_apart_from_it():
    values = np.zeros(10)
    shared = pd.Series(values, copy=False)
    frozen = freeze(shared)
    values[0] = 9.0  # a write pandas cannot see: the series changes, the snapshot does not
    assert shared.iloc[0] == 9.0 and frozen.value.iloc[0] == 0.0
    assert not frozen.same_as(shared)


def test_numeric_arrays_are_frozen_and_compared_by_their_bits():
    a = np.arange(12.0).reshape(3, 4)
    frozen = freeze(a)
    assert frozen.same_as(a.copy()) and not frozen.same_as(a.astype("float32"))
    a[1, 1] = -1.0
    assert not frozen.same_as(a)
    assert fingerprint(frozen.value) == fingerprint(np.arange(12.0).reshape(3, 4))
    assert freeze(np.arange(4.0).reshape(2, 2).T).same_as(np.arange(4.0).reshape(2, 2).T)  # F-ordered too
    two_d = pd.DataFrame(np.arange(6.0).reshape(3, 2), columns=["p", "q"])  # one 2-D block, copied or not
    assert freeze(two_d).same_as(pd.DataFrame({"p": [0.0, 2.0, 4.0], "q": [1.0, 3.0, 5.0]}))
    assert freeze(np.zeros(0)).same_as(np.zeros(0))
    assert not freeze(pd.DataFrame()).same_as(np.zeros(0))


def test_only_frames_series_and_numeric_arrays_within_the_size_cap_are_frozen():
    assert freeze(np.array([1, "a"], dtype=object)) is None
    assert freeze([1, 2]) is None
    assert freeze(pd.Index([1, 2])) is None
    assert freeze(frame(), max_bytes=100) is None
    assert freeze(np.zeros(100), max_bytes=100) is None
    empty = freeze(pd.DataFrame())
    assert empty is not None and empty.same_as(pd.DataFrame()) and not empty.same_as(pd.DataFrame({"a": []}))
