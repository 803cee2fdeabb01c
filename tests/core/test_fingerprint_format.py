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
