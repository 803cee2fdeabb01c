"""The canonical format is a contract: a value's fingerprint never changes by accident.

Format 3 streams string and object columns as lengths + UTF-8 bytes (``valuestream``); everything else is what
format 2 wrote, byte for byte (numeric frames, numpy arrays, estimators, ``rows``), so locks written by an
older reprotrack still compare on all of it. The string-column digest is recomputed here from the written
definition, independently of the encoders.
"""

from __future__ import annotations

import struct

import numpy as np
import pandas as pd
import pytest
import xxhash

from reprotrack.core.fingerprint import fingerprint
from reprotrack.core.fingerprint.table import FORMAT, digest_header


def _one_block(stream: bytes) -> bytes:
    """The block digest of a stream of under 65 536 rows: xxh3-128 of its one block's xxh3-128."""
    return xxhash.xxh3_128_digest(xxhash.xxh3_128_digest(stream))


def _spec_series_content(values: list) -> str:
    """The content of a RangeIndex Series of strings and nulls, from the definition in valuestream."""
    lens, data = [], b""
    for v in values:
        if v is None:
            lens.append(-1)
        else:
            raw = v.encode("utf-8", "surrogatepass")
            lens.append(len(raw))
            data += raw
    length_stream = struct.pack(f"<{len(lens)}q", *lens)
    values_digest = _one_block(data)
    mask_digest = _one_block(length_stream)
    column = xxhash.xxh3_128_digest(digest_header("values", values_digest, mask_digest))
    n = len(values)
    return "xxh3-128:" + xxhash.xxh3_128_hexdigest(digest_header(FORMAT, "series", n, 1, "range", 0, n, 1, column))


@pytest.mark.parametrize("dtype", [object, "str", pd.StringDtype("python"), "category"])
def test_string_column_content_is_the_written_definition(dtype):
    values = ["a", "bb", None, "é", "", "tail\u00e9"]
    s = pd.Series(values, dtype=dtype)
    assert fingerprint(s, parts=("content",))["content"] == _spec_series_content(values)


def test_what_format_2_wrote_is_unchanged():
    """Pinned values written by the format-2 code: numeric frames, object numpy arrays (estimators'
    ``feature_names_in_``), structured arrays, and the ``rows`` of a string Series."""
    df = pd.DataFrame({"x": np.arange(5, dtype=np.float64) / 3, "n": np.arange(5),
                       "when": pd.to_datetime(["2024-01-01"] * 5)})
    fp = fingerprint(df)
    assert fp["content"] == "xxh3-128:f786058e3b0b6c8d69679d720eaf4af8"
    assert fp["rows"] == "sum128:4cfd8af022ac73a83497a8d92b4d2ce8"
    assert fingerprint(np.array(["a", "b", None], dtype=object))["content"] == \
        "xxh3-128:406a0b2ec2036dcf4d7229dc63f8321d"
    assert fingerprint(np.array([("x", 1)], dtype=[("s", "U3"), ("i", "i8")]))["content"] == \
        "xxh3-128:1593f8524027b735fc71f3408f641600"
    s = pd.Series(["a", "bb", None, "é"], dtype=object)
    assert fingerprint(s)["rows"] == "sum128:0eb27015a32231811a18c18fa1e3d5b5"


def _format2(obj, monkeypatch):
    """The fingerprint the format-2 code wrote: every column through the per-value hash stream."""
    import functools

    from reprotrack.core.fingerprint import engine
    from reprotrack.core.fingerprint.encoders import encoder_for

    with monkeypatch.context() as m:
        m.setattr(engine, "encoder_for", functools.partial(encoder_for, streams=False))
        return fingerprint(obj)


def test_a_lock_of_format_2_compares_on_what_both_formats_share(monkeypatch):
    """A research lock written before format 3 (no ``fingerprint_format``) against a replay of today: equal
    data with string columns is no finding (one warning says why the comparison is coarser); a changed value
    is still found; checkpoints alike."""
    from reprotrack.core.diff.checkpoints import check
    from reprotrack.core.diff.causality import compare
    from reprotrack.core.lockfile import Lock
    from tests.lockbuilders import cell, frame, lock

    old = _format2(pd.Series(["a", "bb", None, "é"], dtype=object), monkeypatch)
    assert old["content"] == "xxh3-128:af5e5ba337c5fbd56999a75288b23597"  # what format 2 wrote (pinned)
    assert old["stats"][0]["hash"] == "xxh3-128:be1571cb53d774f9e3613cc1ae805080"

    df = frame(200)
    df["city"] = pd.Series(["Paris", "Lyon", "Nice", "Brest"] * 50, dtype="str")
    df.index = [f"row{i}" for i in range(200)]  # a string index too
    research = Lock.from_dict({**lock(cell(0, "df = load()", data={"df": _format2(df, monkeypatch)}),
                                      checkpoints={"features": _format2(df, monkeypatch)}).to_dict()})
    research.fingerprint_format = 2
    raw = research.to_dict()
    raw.pop("fingerprint_format")
    research = Lock.from_dict(raw)  # read as an old lock is read
    assert research.fingerprint_format == 2 and fingerprint(df)["content"] != research.cells[0].data["df"]["content"]

    def replay(data):
        return lock(cell(0, "df = load()", data={"df": fingerprint(data)}), checkpoints={"features": fingerprint(data)})

    same = compare(research, replay(df))
    assert [f.severity for f in same.findings] == ["warning"], [(f.cause, f.message) for f in same.findings]
    assert same.findings[0].subject == "reprotrack" and "format 2" in same.findings[0].message
    assert same.status != "differs" or all(f.severity == "warning" for f in same.findings)
    assert [f.severity for f in check(research, replay(df)).findings] == ["warning"]

    changed = df.copy()
    changed.loc["row3", "city"] = "Toulouse"
    report = compare(research, replay(changed))
    errors = [f for f in report.findings if f.severity == "error"]
    assert errors and any("city" in f.message for f in errors), [(f.cause, f.message) for f in report.findings]
    assert [f for f in check(research, replay(changed)).findings if f.severity == "error"]


def test_expanding_distinct_values_by_code_is_the_same_with_and_without_pyarrow():
    """Categoricals and factorised columns write their rows' streams from their distinct values: Arrow's take
    when pyarrow is there, the joined bytes of the values otherwise; both equal the streams written row by row."""
    from reprotrack.core.fingerprint import valuestream as VS

    distinct = ["alpha", "", None, "é", 7, "beta" * 20]
    codes = np.array([0, 1, 1, -1, 3, 2, 4, 5, 0, -1, 5], dtype=np.int64)
    rows = np.empty(len(codes), dtype=object)
    rows[:] = [distinct[c] if c >= 0 else None for c in codes]
    want_lens, want_data = VS.object_stream(rows)
    for arrow in (None, False):
        table = VS.table_of(distinct)
        table._arrow = arrow  # False: as if pyarrow were absent
        lens, data, ends = table.expand(codes)
        assert lens.tolist() == want_lens.tolist() and data.tobytes() == want_data.tobytes()
        assert ends is None or ends.tolist() == VS.ends(lens).tolist()
    assert want_lens.tolist() == [5, 0, 0, -1, 2, -1, -2, 80, 5, -1, 80]


def test_arrow_null_slots_that_still_hold_bytes_write_nothing():
    """Arrow lets a null slot keep bytes (a validity bit cleared over existing data): they are not the
    column's values, so the content is that of the same values with a clean null."""
    import pyarrow as pa

    clean = pa.array(["ab", None, "ef"], type=pa.large_string())
    full = pa.array(["ab", "cd", "ef"], type=pa.large_string())
    validity = pa.array([True, False, True]).buffers()[1]
    dirty = pa.Array.from_buffers(pa.large_string(), 3, [validity, *full.buffers()[1:]])
    assert dirty.to_pylist() == ["ab", None, "ef"] and dirty.buffers()[2].to_pybytes() == b"abcdef"

    def content(arr):
        return fingerprint(pd.Series(pd.arrays.ArrowExtensionArray(arr)))["content"]

    assert content(dirty) == content(clean) == fingerprint(pd.Series(["ab", None, "ef"], dtype=object))["content"]


def _spec_rows_streams(values: list) -> tuple[list[int], bytes]:
    """The two streams of rows of strings, nulls and other values, from the written definition."""
    from reprotrack.core.fingerprint import canonical

    lens, data = [], b""
    for v in values:
        if v is None:
            lens.append(-1)
        elif isinstance(v, str):
            raw = v.encode("utf-8", "surrogatepass")
            lens.append(len(raw))
            data += raw
        else:
            lens.append(-2)
            data += struct.pack("<Q", canonical.scalar_hash(v))
    return lens, data


@pytest.mark.parametrize("distinct", [
    ["alpha", "", None, "é", 7, "a\x00b", "\ud800", "x" * 16],  # NUL inside, lone surrogate, a number
    ["id-00000001", "id-00000002", "id-00000003"],  # one width, nulls among the rows
    [""],  # a table of one empty string
    [None],  # nothing but the nulls' slot
])
@pytest.mark.parametrize("dtype", [np.int8, np.int64])
def test_distinct_values_expand_by_code_as_the_definition_writes_them(distinct, dtype):
    """The rows' streams expanded from the distinct values are those written value by value, code -1 (a
    null) included, whatever the width of the codes (categoricals hold int8 codes)."""
    from reprotrack.core.fingerprint import valuestream as VS

    rng = np.random.default_rng(7)
    codes = rng.integers(-1, len(distinct), 3000).astype(dtype)
    codes[:len(distinct)] = np.arange(len(distinct))
    table = VS.table_of(distinct)
    lens, data, ends = table.expand(codes)
    want_lens, want_data = _spec_rows_streams([distinct[c] if c >= 0 else None for c in codes.tolist()])
    assert lens.tolist() == want_lens and data.tobytes() == want_data
    assert ends is None or ends.tolist() == VS.ends(lens).tolist()
