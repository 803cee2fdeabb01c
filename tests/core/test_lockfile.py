"""The lock model, its one serialisation and its schema."""

from __future__ import annotations

import json

import pytest

from reprotrack.core import lockfile
from reprotrack.core.lockfile import CellRecord, Lock
from reprotrack.errors import LockfileError


def sample_lock() -> Lock:
    cell = CellRecord(id="c1", order=1, index=0, source_sha256=lockfile.sha256_text("x = 1"))
    cell.seeds.append({"api": "numpy.random.seed", "value": 42})
    cell.randomness.append({"source": "numpy.random (global)", "seeded": True})
    cell.run["duration_s"] = 0.01
    return Lock(
        environment={"python": "3.11.7", "implementation": "CPython", "packages": {"numpy": "2.0.0"}},
        git=None,
        cells=[cell],
        checkpoints={"features": {"type": "pandas.DataFrame", "shape": [3, 2], "content": "x"}},
        notebook="nb.ipynb",
    )


def test_round_trip_is_exact():
    lock = sample_lock()
    text = lockfile.dumps(lock)
    again = lockfile.loads(text)
    assert again == lock
    assert lockfile.dumps(again) == text


def test_text_is_deterministic_sorted_two_space_with_newline():
    text = lockfile.dumps(sample_lock())
    assert text.endswith("}\n")
    raw = json.loads(text)
    assert text == json.dumps(raw, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert raw["lockfile_version"] == lockfile.LOCKFILE_VERSION
    assert raw["generator"]["name"] == "reprotrack"
    for key in ("environment", "git", "cells", "checkpoints"):
        assert key in raw


def test_source_hash_is_of_utf8_text():
    import hashlib

    src = "print('héllo')  # ünïcode"
    assert lockfile.sha256_text(src) == hashlib.sha256(src.encode("utf-8")).hexdigest()


def test_the_shipped_schema_is_itself_valid():
    import jsonschema

    schema = lockfile.schema()
    jsonschema.validators.validator_for(schema).check_schema(schema)


@pytest.mark.parametrize(
    "text, words",
    [
        ("", "empty"),
        ("{", "not valid JSON"),
        ("[1, 2]", "not a reprotrack lock"),
        ('{"a": 1}', "no lockfile_version"),
        ('{"lockfile_version": "2.0"}', "upgrade reprotrack"),
        ('{"lockfile_version": "0.3"}', "record the notebook again"),
        ('{"lockfile_version": "x.y"}', "malformed"),
        ('{"lockfile_version": "1.0", "generator": {"name": "r", "version": "1"}}', "schema"),
        ('{"lockfile_version": NaN}', "not valid JSON"),
        ("[" * 100000 + "]" * 100000, "nested"),
    ],
)
def test_bad_text_gives_one_clear_error(text, words):
    with pytest.raises(LockfileError) as info:
        lockfile.loads(text)
    message = str(info.value)
    assert words in message
    assert "\n" not in message and len(message) < 400


def test_wrong_types_are_refused_by_the_schema():
    raw = json.loads(lockfile.dumps(sample_lock()))
    raw["cells"][0]["order"] = "first"
    with pytest.raises(LockfileError, match="cells/0/order"):
        lockfile.from_raw(raw)
    raw = json.loads(lockfile.dumps(sample_lock()))
    raw["cells"][0]["source_sha256"] = "../../etc/passwd"
    with pytest.raises(LockfileError):
        lockfile.from_raw(raw)


def test_non_utf8_bytes_are_refused():
    with pytest.raises(LockfileError, match="not UTF-8"):
        lockfile.loads(b"\xff\xfe{}")


def test_a_newer_minor_version_with_unknown_keys_still_loads():
    raw = json.loads(lockfile.dumps(sample_lock()))
    raw["lockfile_version"] = "1.7"
    raw["something_new"] = {"x": 1}
    raw["cells"][0]["also_new"] = [1]
    lock = lockfile.from_raw(raw)
    assert lock.cells[0].id == "c1"


@pytest.mark.parametrize("new", ["/data/final.reprotrack.lock", '/tmp/with "quotes" and ünïcode\\.lock'])
def test_relocated_changes_only_the_lock_path_and_equals_serialising_again(new):
    lock = sample_lock()
    lock.run = {"lock_path": "/tmp/reprotrack-record-x/record.lock", "notebook_path": "/tmp/nb.ipynb"}
    text = lockfile.dumps(lock)
    moved = lockfile.relocated(text, lock, new)
    assert lock.run["lock_path"] == new
    assert moved == lockfile.dumps(lock)
    assert lockfile.loads(moved).run["lock_path"] == new


def test_relocated_serialises_again_when_the_text_is_another_writers():
    lock = sample_lock()
    lock.run = {"lock_path": "/tmp/a.lock"}
    lock.generator = {"name": "reprotrack", "version": "0.0.1"}  # a kernel of another version wrote the text
    stale = lockfile.dumps(lock).replace('"checkpoints"', '"unknown_key": 1,\n  "checkpoints"')
    moved = lockfile.relocated(stale, lock, "/data/b.lock")
    assert moved == lockfile.dumps(lock) and "unknown_key" not in moved
    lock.generator = lockfile.Lock().generator  # same version, but the value is held twice: serialised again
    lock.checkpoints["x"] = {"lock_path": "/tmp/a.lock"}
    lock.run["lock_path"] = "/tmp/a.lock"
    assert lockfile.relocated(lockfile.dumps(lock), lock, "/data/b.lock") == lockfile.dumps(lock)
    assert lock.checkpoints["x"]["lock_path"] == "/tmp/a.lock"


def test_a_lock_read_without_the_schema_is_still_checked_for_version_and_shape():
    text = lockfile.dumps(sample_lock())
    assert lockfile.loads(text, schema_check=False) == sample_lock()
    raw = json.loads(text)
    raw["cells"] = [1, 2]
    with pytest.raises(LockfileError, match="not shaped like a reprotrack lock"):
        lockfile.loads(json.dumps(raw), schema_check=False)
    raw["lockfile_version"] = "99.0"
    with pytest.raises(LockfileError, match="lockfile_version 99.0"):
        lockfile.loads(json.dumps(raw), schema_check=False)


@pytest.mark.parametrize("bad", ["x", True, None, 1.5, [1], {"a": 1}, 2.0, float(2**60)])
def test_the_numeric_items_shortcut_judges_as_jsonschema_does(bad):
    import jsonschema
    import numpy as np
    import pandas as pd

    from reprotrack.core.fingerprint import fingerprint

    lock = sample_lock()
    frame = pd.DataFrame({"a": np.arange(50.0), "n": np.arange(50)})
    lock.cells[0].data["frame"] = fingerprint(frame)
    raw = json.loads(lockfile.dumps(lock))
    stats = raw["cells"][0]["data"]["frame"]["stats"]
    stats[0]["cdf_grid"][0] = bad  # items of type number
    stats[1]["histogram"]["counts"][0] = bad  # items of type integer
    plain = jsonschema.validators.validator_for(lockfile.schema())(lockfile.schema())

    def verdict(validator):
        error = jsonschema.exceptions.best_match(validator.iter_errors(raw))
        return error and (error.message, list(error.absolute_path))

    assert verdict(lockfile._validator()) == verdict(plain)
    accepted = (2.0, float(2**60))  # integral floats are integers to JSON Schema; 1.5 is no integer count
    assert (verdict(plain) is None) == (type(bad) is float and bad in accepted)
