"""Hardening: the exit-code contract under interruption for `record` and for `verify --jobs N` (issue 14, item 3):
130 for SIGINT, 143 for SIGTERM, the report of what ran, and no worker or kernel process left behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from conftest import write_notebook

NAP = [
    "import os, pathlib, time\nx = 1",
    "pathlib.Path(os.environ['MARKERS'], f'{os.getpid()}.pid').write_text(str(os.getpid()))\n"
    "time.sleep(float(os.environ.get('NAP', '0')))",
]


def _command() -> list[str]:
    exe = Path(sys.executable).with_name("reprotrack")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "reprotrack"]


def _wait_for_markers(folder: Path, count: int, proc: subprocess.Popen, seconds: float = 60) -> list[int]:
    deadline = time.monotonic() + seconds
    while len(list(folder.glob("*.pid"))) < count and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    pids = [int(p.read_text()) for p in folder.glob("*.pid")]
    assert len(pids) == count, proc.stderr.read() if proc.poll() is not None else "kernels did not start in time"
    time.sleep(0.5)  # the cell is now in its sleep
    return pids


def _gone(pids: list[int], seconds: float = 10) -> list[int]:
    deadline = time.monotonic() + seconds
    while any(psutil.pid_exists(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return [p for p in pids if psutil.pid_exists(p)]


@pytest.mark.kernel
def test_ctrl_c_during_record_exits_130_shuts_the_kernel_down_and_keeps_the_previous_lock(tmp_path, no_orphans):
    nb = write_notebook(tmp_path / "nb.ipynb", NAP, ids=["setup", "nap"])
    markers = tmp_path / "markers"
    markers.mkdir()
    env = dict(os.environ, MARKERS=str(markers))
    done = subprocess.run([*_command(), "record", str(nb)], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lock = tmp_path / "nb.reprotrack.lock"
    previous = lock.read_bytes()
    for p in markers.glob("*.pid"):
        p.unlink()

    record = subprocess.Popen([*_command(), "record", str(nb)], env=dict(env, NAP="600"), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        (kernel,) = _wait_for_markers(markers, 1, record)
        record.send_signal(signal.SIGINT)
        out, err = record.communicate(timeout=60)
    finally:
        if record.poll() is None:
            record.kill()
    assert record.returncode == 130, err
    assert "Traceback" not in err and "interrupted by SIGINT" in err and "no lock written" in err
    assert _gone([kernel]) == []
    # record writes no lock when interrupted: the previous one is untouched, and no backup was rotated in
    assert lock.read_bytes() == previous
    assert not (tmp_path / "nb.reprotrack.lock.1").exists()


@pytest.mark.kernel
def test_sigterm_to_verify_jobs_2_reaches_the_workers_and_kernels_and_reports_both_interrupted(tmp_path, no_orphans):
    markers = tmp_path / "markers"
    markers.mkdir()
    env = dict(os.environ, MARKERS=str(markers))
    notebooks = []
    for name in ("a", "b"):  # different folders: --jobs runs only different folders at once
        (tmp_path / name).mkdir()
        notebooks.append(write_notebook(tmp_path / name / f"{name}.ipynb", NAP, ids=["setup", "nap"]))
    records = [subprocess.Popen([*_command(), "record", str(nb)], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for nb in notebooks]
    for record in records:
        assert record.wait(timeout=120) == 0, record.stderr.read()
    for p in markers.glob("*.pid"):
        p.unlink()

    report = tmp_path / "report.json"
    junit = tmp_path / "report.xml"
    for fmt, output, sig, code in (("json", report, signal.SIGTERM, 143), ("junit", junit, signal.SIGINT, 130)):
        for p in markers.glob("*.pid"):
            p.unlink()
        verify = subprocess.Popen([*_command(), "verify", *map(str, notebooks), "--jobs", "2", "--format", fmt,
                                   "-o", str(output)], env=dict(env, NAP="600"), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        try:
            kernels = _wait_for_markers(markers, 2, verify)
            workers = [c.pid for c in psutil.Process(verify.pid).children(recursive=True) if c.pid not in kernels]
            assert len(workers) >= 2  # the pool's worker processes (and its resource tracker)
            verify.send_signal(sig)
            out, err = verify.communicate(timeout=60)
        finally:
            if verify.poll() is None:
                verify.kill()
        assert verify.returncode == code, err
        assert "Traceback" not in err
        assert _gone(kernels + workers) == [], "a worker or kernel of the run was left running"
        for nb in notebooks:  # the text summary on stdout names both
            assert str(nb) in out

    doc = json.loads(report.read_text())
    assert doc["interrupted"] == "SIGTERM"
    rows = {Path(r["notebook"]).name: r for r in doc["notebooks"]}
    assert set(rows) == {"a.ipynb", "b.ipynb"}
    for row in rows.values():
        assert row["interrupted"] == "SIGTERM"
        assert row["status"] == "failed" and row["exit_code"] == 3  # its report covers the cells that ran
    xml = junit.read_text()
    assert xml.count("<testsuite ") == 2 and "a.ipynb" in xml and "b.ipynb" in xml
    assert xml.count("interrupted by SIGINT") >= 2
