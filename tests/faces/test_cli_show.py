"""`reprotrack show` and the CLI's handling of bad input: one line on stderr, exit 2, no traceback."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from reprotrack import cli, store
from reprotrack.core import lockfile
from reprotrack.core.lockfile import CellRecord, Lock


@pytest.fixture
def lock_path(tmp_path):
    cell = CellRecord(id="c1", order=1, index=0, source_sha256=lockfile.sha256_text("x"))
    cell.seeds.append({"api": "numpy.random.seed", "value": 7})
    lock = Lock(environment={"python": "3.11.7", "implementation": "CPython", "packages": {"numpy": "2.0.0"}}, cells=[cell], notebook="nb.ipynb")
    return store.write_lock(tmp_path / "nb.reprotrack.lock", lock)


def test_show_text(lock_path, capsys):
    assert cli.main(["show", str(lock_path)]) == 0
    out = capsys.readouterr().out
    assert "nb.ipynb" in out and "numpy==2.0.0" in out and "numpy.random.seed=7" in out and "1 run(s)" in out


def test_show_json_is_the_lock(lock_path, capsys):
    assert cli.main(["show", str(lock_path), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["cells"][0]["id"] == "c1"


BAD = {
    "missing": None,
    "empty": b"",
    "truncated": b'{"lockfile_version": "1.0", "cells": [',
    "binary": b"\x00\xff\xfe\x89PNG",
    "future": json.dumps({"lockfile_version": "7.0"}).encode(),
    "wrong-type": json.dumps({"lockfile_version": "1.0", "generator": {"name": "r", "version": "1"}, "environment": [], "git": None, "cells": [], "checkpoints": {}}).encode(),
    "terminal-escape": json.dumps({"lockfile_version": "\x1b[2J\x1b]0;pwned\x07"}).encode(),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_locks_exit_2_with_one_line(case, tmp_path):
    path = tmp_path / f"{case}.lock"
    if BAD[case] is not None:
        path.write_bytes(BAD[case])
    proc = subprocess.run([sys.executable, "-m", "reprotrack", "show", str(path)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("reprotrack: error:")
    assert "Traceback" not in proc.stderr and "\x1b" not in proc.stderr


def test_usage_errors_exit_2(capsys):
    assert cli.main([]) == 2
    assert cli.main(["show"]) == 2
    assert cli.main(["nonsense"]) == 2
    err = capsys.readouterr().err
    assert err.count("reprotrack: error:") == 3
