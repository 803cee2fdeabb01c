"""A column's fingerprint does not depend on the storage that holds its values: object, ``string[python]``,
``str`` with or without pyarrow, Arrow (plain, large, view, dictionary-encoded, chunked) and categorical."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reprotrack.core.fingerprint import content_hash, fingerprint, hashing

pa = pytest.importorskip("pyarrow")


def storages(values: list) -> dict[str, pd.Series]:
    """The same values in every storage pandas 3 offers for strings."""
    obj = pd.Series(np.array(values + [None], dtype=object)[:-1], dtype=object)
    half = len(values) // 2
    out = {
        "object": obj,
        "string[python]": pd.Series(values, dtype="string[python]"),
        "str (pyarrow)": pd.Series(values, dtype="str"),
        "str (python)": pd.Series(values, dtype=pd.StringDtype("python", na_value=np.nan)),
        "string[pyarrow]": pd.Series(values, dtype="string[pyarrow]"),
        "arrow string": pd.Series(values, dtype=pd.ArrowDtype(pa.string())),
        "arrow large_string": pd.Series(values, dtype=pd.ArrowDtype(pa.large_string())),
        "arrow dictionary": pd.Series(pa.array(values, pa.string()).dictionary_encode(),
                                      dtype=pd.ArrowDtype(pa.dictionary(pa.int32(), pa.string()))),
        "categorical": pd.Series(pd.Categorical(values)),
        "arrow chunked": pd.concat([pd.Series(values[:half], dtype="str"), pd.Series(values[half:], dtype="str")],
                                   ignore_index=True),
        "arrow sliced": pd.Series(["pad"] + values, dtype="str").iloc[1:].reset_index(drop=True),
    }
    if all(v is None for v in values):
        del out["categorical"]  # no categories: pandas gives them float64, so no strings to compare with
    if hasattr(pa, "string_view"):
        out["arrow string_view"] = pd.Series(pa.array(values, pa.string_view()),
                                             dtype=pd.ArrowDtype(pa.string_view()))
    return out


def assert_same(values: list) -> None:
    forms = storages(values)
    ref = fingerprint(forms["object"])
    for name, s in forms.items():
        fp = fingerprint(s)
        assert fp["content"] == ref["content"], name
        assert fp["rows"] == ref["rows"], name
        if name == "categorical" and ref["stats"][0]["top"] is None:
            continue  # a categorical always counts its categories exactly; a high-cardinality column estimates
        stats = {k: v for k, v in fp["stats"][0].items() if k != "dtype"}
        assert stats == {k: v for k, v in ref["stats"][0].items() if k != "dtype"}, name
        assert content_hash(s) == ref["content"], name


_text = st.one_of(st.text(max_size=12), st.text(alphabet="ab\x00é€😀", max_size=80))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(_text, st.none()), min_size=1, max_size=60))
def test_property_every_storage_same_fingerprint(values):
    assert_same(values)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(max_size=4), min_size=1, max_size=6), st.integers(300, 3000), st.randoms())
def test_property_low_cardinality_same_labels(words, n, rnd):
    values = [rnd.choice(words + [None]) for _ in range(n)]
    assert_same(values)


def test_high_cardinality_and_long_values_across_chunks(monkeypatch):
    from reprotrack.core.fingerprint import table

    monkeypatch.setattr(table, "chunk_rows", lambda width: 97)  # chunks end inside Arrow chunks
    rng = np.random.default_rng(3)
    lengths = rng.choice([0, 1, 7, 8, 9, 16, 33, 64, 65, 300], 5000)
    values = ["".join(chr(97 + int(c)) for c in rng.integers(0, 26, k)) for k in lengths]
    values[17] = None
    values[4999] = "z" * 70  # a long value at the buffer's very end
    assert_same(values)


def test_equal_width_ids_and_binary():
    ids = [f"user-{i:010d}" for i in range(20000)]
    assert_same(ids)
    raw = [b"\x00ab", b"", None, b"\xff" * 70]
    a = fingerprint(pd.Series(raw, dtype=object))
    b = fingerprint(pd.Series(raw, dtype=pd.ArrowDtype(pa.binary())))
    assert a["content"] == b["content"] and a["rows"] == b["rows"]


def test_segment_hashes_from_buffers_with_gaps():
    """Segments need not be back to back: foreign bytes between them never leak into a hash."""
    values = ["a" * k for k in (0, 3, 70, 5, 200, 9, 64, 65)]
    buf = bytearray()
    starts = []
    for v in values:
        buf += b"#" * 3  # foreign bytes before every segment
        starts.append(len(buf))
        buf += v.encode()
    b = np.frombuffer(bytes(buf), dtype=np.uint8)
    got = hashing.segment_hashes(b, np.array(starts), np.array([len(v) for v in values]), "str")
    assert got.tolist() == [hashing.bytes_scalar_hash(v.encode(), "str") for v in values]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.binary(max_size=40), min_size=1, max_size=80), st.sampled_from([8, 16, 64]), st.booleans(),
       st.sampled_from([0, 1 << 40]))
def test_property_block_path_equals_one_by_one(parts, block, packed, cumsum_below):
    """The block path cuts the buffer every ``MAX_BLOCK`` bytes: strings across a block's edge, longer than a
    block, empty at its edge, back to back or (not packed) with foreign bytes between them, all hash as one
    by one, whether a block sums its strings with ``reduceat`` or from a running sum."""
    buf, starts = bytearray(), []
    for part in parts:
        if not packed:
            buf += b"\xff#"
        starts.append(len(buf))
        buf += part
    b = np.frombuffer(bytes(buf) or b"\0", dtype=np.uint8)
    saved = hashing.MAX_BLOCK, hashing.CUMSUM_BELOW
    hashing.MAX_BLOCK, hashing.CUMSUM_BELOW = block, cumsum_below
    try:
        got = hashing.segment_hashes(b, np.array(starts, dtype=np.int64),
                                     np.array([len(x) for x in parts], dtype=np.int64), "bytes", packed)
    finally:
        hashing.MAX_BLOCK, hashing.CUMSUM_BELOW = saved
    assert got.tolist() == [hashing.bytes_scalar_hash(x, "bytes") for x in parts]


def test_dictionary_with_duplicate_and_unused_entries():
    dictionary = pa.array(["x", "y", "x", "unused", None])  # a null in the dictionary itself, too
    arr = pa.DictionaryArray.from_arrays(pa.array([0, 1, 2, None, 0, 4] * 200, pa.int32()), dictionary)
    s = pd.Series(arr, dtype=pd.ArrowDtype(arr.type))
    ref = fingerprint(pd.Series(arr.to_pylist(), dtype=object))
    fp = fingerprint(s)
    assert fp["content"] == ref["content"] and fp["rows"] == ref["rows"]
    assert fp["stats"][0]["top"] == ref["stats"][0]["top"] == [["x", 600], ["y", 200]]


@pytest.mark.parametrize("values", [
    ["solo"],  # a batch of one string: no separator at all
    ["", "", ""],  # nothing but empty strings
    ["a\x00b", "\x00", "cd", ""],  # NULs inside the strings: the separators do not say where they end
    ["ab\x00", "cd\x00"],  # NUL-ended, fixed width
    ["é" * 5, "ab", "日本語", "😀"],  # multi-byte UTF-8: byte lengths, not character counts
    ["x" * 49] * 3 + ["y" * 49],  # fixed width beyond the byte-matrix hash
    ["z" * 100_000, "", "q"],  # one very long string
])
def test_object_string_batches_equal_every_other_storage(values):
    """An object column's batch is one NUL-separated join (no trailing NUL) seen as a byte matrix when its
    strings have one width: content, rows and statistics equal those of the Arrow buffers, and its per-value
    hashes those of each string alone."""
    assert_same(values)
    got = hashing.str_hashes(values)
    assert got.tolist() == [hashing.bytes_scalar_hash(v.encode("utf-8", "surrogatepass"), "str") for v in values]


def test_fixed_width_batches_across_batch_and_chunk_edges(monkeypatch):
    """Ids of one width in several batches (a batch of a single id at the end), with a null and a row of
    another width between them: every storage agrees."""
    monkeypatch.setattr(hashing, "STR_BATCH", 1000)
    values = [f"user-{i:010d}" for i in range(4001)]
    values[1500] = None
    values[2500] = "short"
    assert_same(values)


def test_low_cardinality_strings_with_numbers_or_bytes_among_them():
    """pandas' string table codes a value that is not a str as a null: such a column still factorises as
    pd.factorize does (the number is a value of its own, never a null), whatever the path."""
    from reprotrack.core.fingerprint.encoders import objects

    for odd in (7, 2.5, b"x", True):
        values = np.empty(3000, dtype=object)
        values[:] = [["a", "b", None, "a"][i % 4] for i in range(3000)]
        values[1233] = odd  # in place of a "b"
        s = pd.Series(values, dtype=object)
        fp = fingerprint(s)
        assert fp["stats"][0]["nulls"] == 750 and fp["stats"][0]["count"] == 2250
        public = objects.chunked_factorize(values, 1000)  # pd.factorize only
        assert public is not None and odd in public[1] and objects.chunked_factorize(values, 1000, True) is None
    strings = pd.Series(["a", None, "b", float("nan"), pd.NA] * 600, dtype=object)
    codes, uniques = objects.chunked_factorize(strings.to_numpy(), 1000, strings_only=True)
    assert uniques == ["a", "b"] and codes[:5].tolist() == [0, -1, 1, -1, -1]
    assert fingerprint(strings)["stats"][0]["top"] == [["a", 600], ["b", 600]]


def test_byte_matrix_hash_with_constant_columns():
    """Fixed-width values hash a byte column at a time; a column that is the same in every row of a block (an
    id's prefix, a date's dashes) adds one constant instead: the hashes still equal each string's own, in
    blocks where a column is constant and in blocks where the same column varies after the first rows."""
    rng = np.random.default_rng(5)
    m = rng.integers(0, 256, (5000, 12), dtype=np.uint8)
    m[:, [0, 3, 11]] = [ord("u"), 0, ord("-")]  # constant everywhere (a NUL byte too)
    m[:2500, 5] = 7  # constant in the first blocks only
    m[100, 6] = m[0, 6] + 1  # one row past the first 64 differs
    m[:100, 6] = m[0, 6]
    want = [hashing.poly_one(row.tobytes()) for row in m]
    for rows in (1 << 16, 1000, 64, 1):
        assert hashing._matrix_poly(m, rows=rows).tolist() == want
    ids = [f"2024-01-{d:02d}T{h:02d}" for d in range(1, 29) for h in range(24)]
    assert_same(ids)
