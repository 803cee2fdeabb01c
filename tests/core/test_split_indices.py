"""The split-index encoding: exact round trips, documented format, size cap, refusal of corrupt input."""

from __future__ import annotations

import base64
import hashlib
import json
import zlib

import numpy as np
import pytest

from reprotrack.core import split_indices as indices


@pytest.mark.parametrize(
    "values",
    [
        [],
        [0],
        [5, 3, 9, 0, 1],
        list(range(1000)),
        np.random.default_rng(0).permutation(100_000),
        np.array([0, 2**40, 3, 2**62, 1]),
        np.arange(10, dtype=np.int32)[::-1],
    ],
)
def test_round_trip_is_exact_and_keeps_order(values):
    arr = np.asarray(values, dtype=np.int64)
    enc = indices.encode(values)
    json.dumps(enc)  # JSON-able
    assert enc["encoding"] == indices.ENCODING and enc["order"] == "as-returned" and enc["n"] == arr.size
    out = indices.decode(enc)
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out, arr)


def test_format_is_the_documented_one():
    enc = indices.encode([3, 1, 200])
    raw = zlib.decompress(base64.b64decode(enc["data"]))
    # deltas 3, -2, 199 → zigzag 6, 3, 398 → varint 06 03 8e 03
    assert enc == {"encoding": "delta-zigzag-varint+zlib+base64", "order": "as-returned", "n": 3, "data": enc["data"]}
    assert raw == bytes([0x06, 0x03, 0x8E, 0x03])


def test_boolean_masks_become_positions():
    mask = np.array([True, False, True, True])
    np.testing.assert_array_equal(indices.decode(indices.encode(mask)), [0, 2, 3])
    assert indices.digest(mask) == indices.digest([0, 2, 3])


def test_digest_is_sha256_of_little_endian_int64_in_order():
    assert indices.digest([2, 1]) == hashlib.sha256(np.array([2, 1], dtype="<i8").tobytes()).hexdigest()
    assert indices.digest([2, 1]) != indices.digest([1, 2])
    assert indices.set_digest([2, 1]) == indices.set_digest([1, 2]) == indices.digest([1, 2])
    assert indices.digest(np.array([1, 2], dtype=np.uint32)) == indices.digest([1, 2])


def test_sorted_folds_are_small():
    enc = indices.encode(np.arange(1_000_000))
    assert len(enc["data"]) < 5_000
    shuffled = indices.encode(np.random.default_rng(1).permutation(100_000))
    assert len(shuffled["data"]) < 100_000 * 4


def test_large_shuffled_parts_are_stored_sorted():
    perm = np.random.default_rng(2).permutation(50)
    part = indices.describe_part(perm, ordered_cap=10)
    assert part["indices"]["order"] == "sorted"
    np.testing.assert_array_equal(indices.decode(part["indices"]), np.arange(50))
    assert part["sha256"] == indices.digest(perm) != part["set_sha256"]
    assert indices.describe_part(perm, ordered_cap=50)["indices"]["order"] == "as-returned"
    assert indices.describe_part(np.arange(50), ordered_cap=10)["indices"]["order"] == "as-returned"
    with pytest.raises(ValueError):
        indices.encode([1], order="random")


def test_describe_part_applies_the_cap():
    part = indices.describe_part(np.arange(10), cap=5)
    assert part["size"] == 10 and part["indices"] is None and part["sha256"] == indices.digest(np.arange(10))
    part = indices.describe_part([4, 2])
    np.testing.assert_array_equal(indices.decode(part["indices"]), [4, 2])
    assert part["set_sha256"] == indices.digest([2, 4])


def test_float_indices_are_refused():
    with pytest.raises(TypeError):
        indices.encode(np.array([0.5]))


@pytest.mark.parametrize(
    "bad",
    [
        None,
        {"encoding": "raw", "n": 1, "data": ""},
        {"encoding": indices.ENCODING, "n": -1, "data": ""},
        {"encoding": indices.ENCODING, "n": 2, "data": "!!!"},
        {"encoding": indices.ENCODING, "n": 2, "data": base64.b64encode(b"not zlib").decode()},
        {"encoding": indices.ENCODING, "n": 5, "data": indices.encode([1, 2])["data"]},
        {"encoding": indices.ENCODING, "n": 1, "data": indices.encode([1, 2])["data"]},
        {"encoding": indices.ENCODING, "n": 1, "data": base64.b64encode(zlib.compress(b"\x80" * 12 + b"\x01")).decode()},
        {"encoding": indices.ENCODING, "n": True, "data": ""},
        {"encoding": indices.ENCODING, "order": "shuffled", "n": 0, "data": indices.encode([])["data"]},
    ],
)
def test_corrupt_input_is_a_value_error(bad):
    with pytest.raises(ValueError):
        indices.decode(bad)
