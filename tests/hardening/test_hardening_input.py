"""Hardening: bad input is refused cleanly by every command that reads a lock.

``BAD_LOCKS`` (truncated at many points, corrupt bytes, non-UTF-8, wrong types, future versions, huge and
sparse files, deep nesting, not-a-regular-file paths) × ``LOCK_COMMANDS`` (show, show --format json, diff in
both positions, verify --lock, env check, export in both formats): exit 2, exactly one line on stderr,
no traceback, nothing on stdout. ``HOSTILE_LOCKS`` are *valid* locks whose strings are built to break
terminals (ANSI, OSC 8, C1 CSI, bidi overrides, NUL) and browsers (HTML/script), with path traversal in
input paths and absurd sizes: every command still works, nothing from them is executed or opened, and no
control character reaches stdout in any format. Then hypothesis fuzzes the loader and the diff with
mutated real locks: a ``LockfileError`` or a clean result, never another exception.
"""

from __future__ import annotations

import copy
import json
import os
import re
import sys
from pathlib import Path

import pytest
from conftest import write_notebook
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lockbuilders import frame, pipeline  # noqa: E402  (realistic locks: data, splits, inputs, outputs)

from reprotrack import cli, store
from reprotrack.core import lockfile
from reprotrack.errors import LockfileError

#: Characters that must never reach a terminal raw: C0/C1 controls (but newline), DEL, bidi controls.
RAW_CONTROLS = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
HOSTILE = "\x1b[2J\x1b]8;;http://evil.invalid\x07click\x1b]8;;\x07\x9b31m\u202egnp.exe\u2066\x00\x07\r" \
          "<script>alert(1)</script><img src=x onerror=alert(2)>&amp;\"'"


def good_lock() -> dict:
    return json.loads(lockfile.dumps(pipeline(frame())))


def _bad_locks() -> dict[str, bytes]:
    text = lockfile.dumps(pipeline(frame())).encode()
    bad: dict[str, bytes] = {}
    for fraction in (0.0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99):
        bad[f"truncated-{fraction}"] = text[: int(len(text) * fraction)] if fraction else b""
    bad["truncated-one-byte-short"] = text.rstrip()[:-1]
    for i, at in enumerate((1, len(text) // 3, len(text) // 2, len(text) - 3)):
        corrupt = bytearray(text)
        corrupt[at: at + 4] = b"\x00\xff{]"
        bad[f"corrupt-{i}"] = bytes(corrupt)
    bad["not-utf8-latin1"] = text.replace(b'"python"', '"pyth\xf6n"'.encode("latin-1"), 1)
    bad["not-utf8-utf16"] = text.decode().encode("utf-16")
    bad["binary-garbage"] = bytes(range(256)) * 8
    bad["zip-file"] = b"PK\x03\x04" + b"\x00" * 100
    bad["whitespace"] = b"  \n\t\n"
    bad["bom-then-json"] = b"\xef\xbb\xbf" + text
    bad["nan-constant"] = text.replace(b'"lockfile_version"', b'"x": NaN, "lockfile_version"', 1)
    bad["infinity-constant"] = text.replace(b'"lockfile_version"', b'"x": -Infinity, "lockfile_version"', 1)
    bad["deep-arrays"] = b"[" * 200_000 + b"]" * 200_000
    bad["deep-objects"] = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
    bad["deep-inside-a-lock"] = text.replace(b'"notes": []', b'"notes": [' + b"[" * 100_000 + b"]" * 100_000 + b"]", 1)
    for kind, value in (("list", []), ("string", "lock"), ("number", 1), ("null", None), ("true", True)):
        bad[f"top-level-{kind}"] = json.dumps(value).encode()
    wrong = {
        "version-number": ("lockfile_version", 1.0), "version-future": ("lockfile_version", "2.0"),
        "version-far-future": ("lockfile_version", "99.1"), "version-old": ("lockfile_version", "0.9"),
        "version-garbage": ("lockfile_version", "one.two"), "version-huge": ("lockfile_version", "9" * 5000 + ".0"),
        "version-missing": ("lockfile_version", KeyError), "cells-object": ("cells", {"0": {}}),
        "cells-string": ("cells", "cells"), "cells-of-numbers": ("cells", [1, 2]),
        "environment-list": ("environment", []), "packages-list": ("environment", {"packages": ["numpy"]}),
        "package-version-number": ("environment", {"packages": {"numpy": 2}}),
        "git-string": ("git", "main"), "checkpoints-list": ("checkpoints", []),
        "generator-missing": ("generator", KeyError), "generator-string": ("generator", "reprotrack"),
        "mode-unknown": ("mode", "exec"), "notes-objects": ("notes", [{"a": 1}]),
    }
    for name, (key, value) in wrong.items():
        raw = good_lock()
        if value is KeyError:
            raw.pop(key)
        else:
            raw[key] = value
        bad[f"wrong-{name}"] = json.dumps(raw).encode()
    cell_wrong = {
        "order-string": ("order", "first"), "order-negative": ("order", -1), "index-float": ("index", 1.5),
        "sha-traversal": ("source_sha256", "../../etc/passwd"), "status-unknown": ("status", "rm -rf"),
        "seeds-object": ("seeds", {"api": "x"}), "inputs-no-path": ("inputs", [{"bytes": 1, "content": None}]),
        "inputs-negative-bytes": ("inputs", [{"path": "a", "bytes": -5, "content": None}]),
        "data-list": ("data", [1]), "data-fp-string": ("data", {"df": "xxh3"}),
        "shape-negative": ("data", {"df": {"type": "t", "shape": [-1]}}),
        "randomness-seeded-string": ("randomness", [{"source": "numpy", "seeded": "no"}]),
        "splits-no-api": ("splits", [{"shuffle": True}]), "id-huge": ("id", "x" * 5000),
        "path-huge": ("inputs", [{"path": "a" * 10_000, "bytes": 1, "content": None}]),
    }
    for name, (key, value) in cell_wrong.items():
        raw = good_lock()
        raw["cells"][0][key] = value
        bad[f"cell-{name}"] = json.dumps(raw).encode()
    return bad


BAD_LOCKS = _bad_locks()


def _hostile_locks() -> dict[str, dict]:
    out = {}
    raw = good_lock()
    raw["notebook"] = HOSTILE
    raw["generator"]["version"] = HOSTILE
    raw["environment"]["python"] = HOSTILE
    raw["environment"]["packages"][HOSTILE[:150]] = "1.0" + HOSTILE[:100]
    raw["environment"]["packages"]["numpy"] = "1.0\n--index-url http://evil.invalid/simple"
    raw["environment"]["platform"] = {"system": HOSTILE, "machine": HOSTILE}
    raw["git"] = {"commit": "a" * 40, "branch": HOSTILE, "dirty": True, "untracked": 0, "root": "../" * 50,
                  "remotes": {HOSTILE: HOSTILE}}
    raw["notes"] = [HOSTILE]
    raw["checkpoints"][HOSTILE] = {"type": HOSTILE, "shape": None, "content": "xxh3-128:" + HOSTILE[:50]}
    for cell in raw["cells"]:
        cell["id"] = HOSTILE[:200]
        cell["status"] = "error"
        cell["error"] = {"type": HOSTILE, "message": HOSTILE}
        cell["notes"] = [HOSTILE]
        cell["seeds"] = [{"api": HOSTILE, "value": HOSTILE}]
        cell["randomness"] = [{"source": HOSTILE, "seeded": False}]
        cell["inputs"] = [{"path": p, "bytes": 10**30, "content": "sha256:" + HOSTILE[:40]} for p in
                          ("../../../../../../etc/shadow", "/etc/passwd", "~/.ssh/id_rsa", "\\\\evil\\share\\x",
                           "file:///etc/hosts", "$(touch /tmp/reprotrack-pwned)", "`id`", HOSTILE)]
        cell["outputs"] = {"stdout": {"text": HOSTILE * 3, "sha256": "0" * 64, "numbers": [1e308, -1e308]}}
        for name, fp in list(cell["data"].items()):
            fp = dict(fp, shape=[10**18, 10**18], type=HOSTILE)
            cell["data"][HOSTILE + name] = fp
    out["hostile-strings"] = raw
    absurd = good_lock()
    absurd["cells"] = absurd["cells"] * 100  # a long lock: hundreds of cell runs
    for i, cell in enumerate(absurd["cells"]):
        cell["order"] = i + 1
        cell["index"] = 10**15 + i
        cell["execution_count"] = -(10**18)
    out["absurd-sizes"] = absurd
    return out


HOSTILE_LOCKS = _hostile_locks()


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_notebook(tmp_path / "nb.ipynb", ["x = 1"])
    store.write_lock(tmp_path / "good.lock", pipeline(frame()))
    return tmp_path


def _commands(lock: str, good: str) -> list[list[str]]:
    """Every command that reads a lock, with the lock under test in each position it can take."""
    return [
        ["show", lock], ["show", lock, "--format", "json"], ["diff", lock, good], ["diff", good, lock, "--format", "html"],
        ["verify", "nb.ipynb", "--lock", lock], ["env", "check", lock], ["env", "check", lock, "--format", "json"],
        ["export", lock], ["export", lock, "--format", "pylock"],
    ]


LOCK_COMMANDS = len(_commands("a", "b"))


def _exit_2_one_line(capsys, argv) -> str:
    code = cli.main(argv)
    out = capsys.readouterr()
    assert code == 2, (argv, code, out.err)
    lines = out.err.strip().splitlines()
    assert len(lines) == 1, (argv, out.err)
    assert "Traceback" not in out.err and out.out == ""
    assert not RAW_CONTROLS.search(lines[0]), lines[0]
    assert len(lines[0]) < 600
    return lines[0]


@pytest.mark.parametrize("name", sorted(BAD_LOCKS))
def test_a_bad_lock_is_exit_2_with_one_line_for_every_command(workspace, capsys, name):
    (workspace / "bad.lock").write_bytes(BAD_LOCKS[name])
    for argv in _commands("bad.lock", "good.lock"):
        line = _exit_2_one_line(capsys, argv)
        assert line.startswith("reprotrack: error: ")


@pytest.mark.parametrize("kind", ["missing", "folder", "huge-sparse", "fifo", "dev-zero", "dev-null", "symlink-loop"])
def test_paths_that_are_not_lock_files_are_refused_without_reading_them(workspace, capsys, kind, monkeypatch):
    target = workspace / "x.lock"
    if kind == "folder":
        target.mkdir()
    elif kind == "huge-sparse":
        with open(target, "wb") as fh:
            fh.truncate(store.MAX_LOCK_BYTES + 1)  # sparse: costs no disk, must never be read
    elif kind == "fifo":
        os.mkfifo(target)  # reading it would block forever
    elif kind == "dev-zero":
        target = Path("/dev/zero")  # reading it would never end
    elif kind == "dev-null":
        target = Path("/dev/null")
    elif kind == "symlink-loop":
        os.symlink(workspace / "y.lock", target)
        os.symlink(target, workspace / "y.lock")
    for argv in _commands(str(target), "good.lock"):
        _exit_2_one_line(capsys, argv)


@pytest.mark.parametrize("name", sorted(HOSTILE_LOCKS))
def test_hostile_but_valid_locks_never_drive_a_terminal_or_run_anything(workspace, capsys, name, tmp_path):
    path = workspace / "hostile.lock"
    path.write_text(json.dumps(HOSTILE_LOCKS[name]), "utf-8")
    store.read_lock(path)  # valid: the commands must cope with it
    opened: list[str] = []
    _audit_paths.append(opened)
    try:
        argvs = [a for a in _commands("hostile.lock", "good.lock") if a[0] != "verify"]
        argvs += [["diff", "good.lock", "hostile.lock", "--format", fmt] for fmt in ("text", "json", "junit")]
        argvs += [["diff", "hostile.lock", "hostile.lock", "--format", "html", "--output", "report.html"]]
        for argv in argvs:
            code = cli.main(argv)
            out = capsys.readouterr()
            assert code in (0, 1) or "pylock" in argv and code == 2, (argv, code, out.err)  # pylock needs archives
            assert "Traceback" not in out.err
            assert not RAW_CONTROLS.search(out.out), (argv, RAW_CONTROLS.search(out.out))
            assert not RAW_CONTROLS.search(out.err), (argv, out.err)
            if "html" in argv and "--output" not in argv:
                assert not re.search(r"<(script|img)", out.out)  # only ever as escaped text
            if argv[0] == "export":  # a crafted version never becomes an installer option or a new line
                lines = [ln for ln in out.out.splitlines() if not ln.startswith("#")]
                assert not [ln for ln in lines if "--index-url" in ln or "evil.invalid" in ln or ln.startswith("-")]
    finally:
        _audit_paths.remove(opened)
    html = (workspace / "report.html").read_text("utf-8")
    assert not re.search(r"<(script|img)", html) and not RAW_CONTROLS.search(html)
    forbidden = ("/etc/shadow", "/etc/passwd", "id_rsa", "/etc/hosts", "evil", "reprotrack-pwned")
    assert not [p for p in opened if any(f in p for f in forbidden)], opened
    assert not Path("/tmp/reprotrack-pwned").exists()


_audit_paths: list[list[str]] = []


def _audit(event: str, args: tuple) -> None:
    if _audit_paths and event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
        _audit_paths[-1].append(os.fsdecode(args[0]))
    elif _audit_paths and event in ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn"):
        _audit_paths[-1].append(f"{event}:{args[:2]}")


sys.addaudithook(_audit)  # cannot be removed: it only records while a test above is listening


# -- fuzzing ----------------------------------------------------------------------------------------------
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.floats(allow_nan=False)
    | st.text(max_size=20) | st.sampled_from([HOSTILE, "", "1.0", "../../x", "xxh3-128:0"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def _paths(value, prefix=()):
    """Every (path) into a JSON value, so a mutation can hit any leaf or branch."""
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value[:3]):
            yield from _paths(v, prefix + (i,))


_BASE = good_lock()
_ALL_PATHS = [p for p in _paths(_BASE) if p]


def _set(raw, path, value):
    target = raw
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value


_DELETE = object()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(_ALL_PATHS), _JSON | st.just(_DELETE)), min_size=1, max_size=4))
def test_fuzzed_locks_load_or_fail_with_a_lockfile_error_and_never_crash_the_diff(mutations):
    """Mutate a real lock anywhere (wrong types, hostile values, deleted keys): the loader either refuses it
    with a ``LockfileError`` or what it accepts can be diffed against the original and rendered in every
    format, both ways round."""
    from reprotrack.core.diff import compare
    from reprotrack.report import render
    from reprotrack.report.lockview import render_lock_text

    raw = copy.deepcopy(_BASE)
    for path, value in mutations:
        try:
            _set(raw, path, value)
        except (KeyError, IndexError, TypeError):
            continue
    try:
        text = json.dumps(raw)
    except (ValueError, TypeError):
        return
    try:
        mutated = lockfile.loads(text)
    except LockfileError as exc:
        assert "\n" not in str(exc) and len(str(exc)) < 600
        return
    original = lockfile.loads(json.dumps(_BASE))
    render_lock_text(mutated)
    for a, b in ((original, mutated), (mutated, original)):
        report = compare(a, b)
        for fmt in ("text", "json", "junit", "html"):
            render(report, fmt)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_fuzzed_bytes_never_escape_the_loader(data):
    try:
        lockfile.loads(data)
    except LockfileError as exc:
        assert "\n" not in str(exc)
