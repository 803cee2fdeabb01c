"""Hardening: the research lock is sacred, outputs never overwrite inputs or special files, and the exit-code
contract holds under interruption and malformed input (issue 14, items 1-3).

Real kernels (nbclient) for the runs; every refusal happens before any kernel starts, so those cost nothing.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import write_notebook
from lockbuilders import cell, lock

from reprotrack import cli, store

STUDY = [
    "import os\nimport reprotrack\nreprotrack.start(lock='x.lock')",
    "value = int(os.environ.get('STUDY_VALUE', '1'))\nif os.environ.get('STUDY_FAIL'):\n    raise RuntimeError('boom')\n"
    "print('value', value)",
    "reprotrack.save('x.lock')",
    "%reprotrack save --lock x.lock",
]


def _study(tmp_path: Path) -> Path:
    return write_notebook(tmp_path / "study.ipynb", STUDY, ids=["start", "value", "api-save", "magic-save"])


@pytest.mark.kernel
def test_nothing_in_a_replay_or_a_failed_record_replaces_the_research_lock(tmp_path, capsys, monkeypatch, no_orphans):
    nb = _study(tmp_path)
    lock = tmp_path / "x.lock"
    assert cli.main(["record", str(nb), "--lock", str(lock)]) == 0
    research = lock.read_bytes()
    assert store.read_lock(lock).mode == "record"

    # --save-replay onto the research lock (or the notebook) is refused before anything runs
    for target in (lock, nb):
        assert cli.main(["verify", str(nb), "--lock", str(lock), "--save-replay", str(target)]) == 2
        assert "input of this command" in capsys.readouterr().err
    # a replay whose notebook saves through the API and the magic, to the research lock's own path
    monkeypatch.setenv("STUDY_VALUE", "2")
    report = tmp_path / "report.xml"
    replay = tmp_path / "replay.lock"
    code = cli.main(["verify", str(nb), "--lock", str(lock), "--save-replay", str(replay), "--format", "junit",
                     "-o", str(report)])
    assert code == 1 and "value" in report.read_text()
    assert lock.read_bytes() == research
    assert store.read_lock(replay).mode == "replay"
    capsys.readouterr()
    # a replay lock is not a research lock; nor can a later --save-replay overwrite one
    assert cli.main(["verify", str(nb), "--lock", str(replay)]) == 2
    assert "is a replay lock" in capsys.readouterr().err
    other = tmp_path / "other.lock"
    other.write_bytes(research)
    assert cli.main(["verify", str(nb), "--lock", str(lock), "--save-replay", str(other)]) == 2
    assert "is a research lock" in capsys.readouterr().err

    # record: a cell that raised keeps the existing lock (exit 3) unless --allow-errors, which backs it up
    monkeypatch.setenv("STUDY_FAIL", "1")
    assert cli.main(["record", str(nb), "--lock", str(lock)]) == 3
    assert "the existing lock is kept" in capsys.readouterr().err
    assert lock.read_bytes() == research and not Path(f"{lock}.1").exists()
    assert cli.main(["record", str(nb), "--lock", str(lock), "--allow-errors"]) == 0
    assert Path(f"{lock}.1").read_bytes() == research
    assert [c.status for c in store.read_lock(lock).cells][1] == "error"


def test_an_output_that_is_an_input_a_folder_or_in_a_missing_folder_is_refused_before_any_work(tmp_path, capsys):
    nb = _study(tmp_path)
    lock = tmp_path / "x.lock"
    lock.write_text("not even read")
    link = tmp_path / "link.lock"
    link.symlink_to(lock)
    cases = [
        ["verify", str(nb), "--lock", str(lock), "-o", str(nb)],
        ["verify", str(nb), "--lock", str(lock), "-o", str(link)],  # the same file through a symlink
        ["verify", str(nb), "--lock", str(lock), "-o", str(tmp_path)],
        ["verify", str(nb), "--lock", str(lock), "-o", str(tmp_path / "missing" / "r.txt")],
        ["diff", str(lock), str(lock), "-o", str(lock)],
        ["export", str(lock), "-o", str(link)],
        ["record", str(nb), "--lock", str(nb)],
        ["record", str(nb), "--lock", str(tmp_path)],
    ]
    for argv in cases:
        assert cli.main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("reprotrack: error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    assert lock.read_text() == "not even read" and json.loads(nb.read_text())["cells"]


def test_outputs_to_special_files_are_written_through_never_replaced(tmp_path, capfd):
    a, b = tmp_path / "a.lock", tmp_path / "b.lock"
    for path in (a, b):
        store.write_lock(path, lock(cell(0, "x = 1")))
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    try:
        assert cli.main(["diff", str(a), str(b), "--format", "json", "-o", str(fifo)]) == 0
        assert json.loads(reader.communicate(timeout=30)[0])["status"] == "reproduced"
    finally:
        reader.kill()  # a FIFO replaced by a regular file would leave the reader waiting forever
        reader.wait()
    assert stat.S_ISFIFO(fifo.lstat().st_mode)  # still a FIFO, not a regular file
    # a symlinked lock is written through, atomically at its target: the link stays a link
    target = tmp_path / "real.lock"
    target.write_text("old")
    link = tmp_path / "link.lock"
    link.symlink_to(target)
    store.write_text_atomic(link, "new")
    assert link.is_symlink() and target.read_text() == "new"
    # -o - is standard output; so is /dev/stdout, or a symlink to /proc/self/fd/1, which stays a symlink
    assert cli.main(["diff", str(a), str(b), "--format", "json", "-o", "-"]) == 0
    assert json.loads(capfd.readouterr().out)["status"] == "reproduced"
    assert not (Path.cwd() / "-").exists()
    fd_link = tmp_path / "out"
    fd_link.symlink_to("/proc/self/fd/1")
    for target in ("/dev/stdout", str(fd_link)):
        assert cli.main(["diff", str(a), str(b), "--format", "json", "-o", target]) == 0
        assert json.loads(capfd.readouterr().out)["status"] == "reproduced"
    assert fd_link.is_symlink() and os.readlink(fd_link) == "/proc/self/fd/1"


@pytest.mark.parametrize("change, says", [
    (lambda nb: nb["cells"][0].update(source=123), '"source" that is neither text nor a list of lines'),
    (lambda nb: nb["cells"][0].update(source=None), '"source" that is neither text nor a list of lines'),
    (lambda nb: nb["metadata"].update(kernelspec="python3"), '"metadata.kernelspec" is a str'),
    (lambda nb: nb["metadata"].update(kernelspec={"name": 5}), '"metadata.kernelspec.name" is not text'),
])
def test_a_malformed_notebook_is_one_line_and_exit_2(tmp_path, capsys, change, says):
    nb = write_notebook(tmp_path / "bad.ipynb", ["a = 1"])
    raw = json.loads(nb.read_text())
    change(raw)
    nb.write_text(json.dumps(raw))
    (tmp_path / "bad.reprotrack.lock").write_text(store.lockfile.dumps(store.lockfile.Lock()))
    for command in ("record", "verify"):
        assert cli.main([command, str(nb)]) == 2
        err = capsys.readouterr().err
        assert says in err and err.count("\n") == 1 and "Traceback" not in err


BACKGROUND = [
    "import os, subprocess, time\n"
    "child = subprocess.Popen(['sleep', '600'], start_new_session=True)\n"
    "open('child.pid', 'w').write(str(child.pid))",
    "time.sleep(float(os.environ.get('NAP', '0')))",
]


@pytest.mark.kernel
def test_sigterm_or_ctrl_c_during_verify_exits_143_or_130_with_a_partial_report_and_nothing_left_running(tmp_path, no_orphans):
    import psutil

    nb = write_notebook(tmp_path / "nb.ipynb", BACKGROUND, ids=["spawn", "nap"])
    exe = Path(sys.executable).with_name("reprotrack")
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "reprotrack"]
    done = subprocess.run([*command, "record", str(nb)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "ended 1 background process(es)" in done.stderr and "sleep 600" in done.stderr
    assert not psutil.pid_exists(int((tmp_path / "child.pid").read_text()))
    (tmp_path / "child.pid").unlink()

    for sig, code in ((signal.SIGTERM, 143), (signal.SIGINT, 130)):
        report = tmp_path / f"junit-{code}.xml"
        verify = subprocess.Popen([*command, "verify", str(nb), "--format", "junit", "-o", str(report)],
                                  env=dict(os.environ, NAP="120"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True)
        deadline = time.monotonic() + 60
        while not (tmp_path / "child.pid").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.0)  # the nap cell has started
        verify.send_signal(sig)
        out, err = verify.communicate(timeout=90)
        assert verify.returncode == code, err
        assert "Traceback" not in err and f"interrupted by {sig.name}" in err
        assert "<testsuite" in report.read_text()  # the partial report was written where asked
        assert not psutil.pid_exists(int((tmp_path / "child.pid").read_text()))
        (tmp_path / "child.pid").unlink()


def test_a_notebook_is_never_a_lock_target_of_the_magic(ip, tmp_path, capsys):
    from conftest import run

    nb = write_notebook(tmp_path / "self.ipynb", ["x = 1"])
    before = nb.read_bytes()
    run(ip, "%reprotrack start")
    run(ip, "x = 1")
    capsys.readouterr()
    assert run(ip, f"%reprotrack save --lock {nb}").success
    assert "it is a notebook, not a lock path" in capsys.readouterr().err
    assert nb.read_bytes() == before
