"""The reprotrack command: exit codes, one-line errors, report formats, and one real subprocess run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import write_notebook

from reprotrack import cli, store

REPORT_KEYS = {"status", "first_divergence", "findings"}
FINDING_KEYS = {"cell_index", "cell_id", "kind", "cause", "subject", "message", "upstream_of"}


def _missing(*modules: str) -> list[str]:
    import importlib.util

    return [m for m in modules if importlib.util.find_spec(m) is None]


#: The diff, its report and options are built by a sibling task; these tests run as soon as they exist.
needs_diff = pytest.mark.skipif(
    bool(_missing("reprotrack.core.diff", "reprotrack.report", "reprotrack.config")),
    reason="not built yet: " + ", ".join(_missing("reprotrack.core.diff", "reprotrack.report", "reprotrack.config")),
)


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert "Traceback" not in err[0]
    return err[0]


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["verify", "missing.ipynb"], "no notebook at"),
        (["record", "missing.ipynb"], "no notebook at"),
        (["verify", "nb.ipynb"], "no lock file"),
        (["verify", "nb.ipynb", "--lock", "bad.lock"], "not valid JSON"),
        (["verify", "nb.ipynb", "--lock", "bad.lock", "--rtol", "-1"], "must be a finite number"),
        (["verify", "nb.ipynb", "--order", "sideways"], "invalid choice"),
        (["diff", "bad.lock", "bad.lock"], "not valid JSON"),
        (["env", "check", "missing.lock"], "no lock file"),
        (["verify", "data.txt"], "not a .ipynb notebook"),
    ],
)
def test_bad_input_is_exit_2_with_one_line(tmp_path, monkeypatch, capsys, argv, fragment):
    monkeypatch.chdir(tmp_path)
    write_notebook(tmp_path / "nb.ipynb", ["x = 1"])
    (tmp_path / "bad.lock").write_text('{"lockfile_version": "1.0", "cells": [')
    (tmp_path / "data.txt").write_text("hello")
    assert cli.main(argv) == 2
    assert fragment in _one_error_line(capsys)


def test_a_notebook_that_is_not_json_is_exit_2(tmp_path, capsys):
    (tmp_path / "broken.ipynb").write_text("{not json")
    assert cli.main(["record", str(tmp_path / "broken.ipynb")]) == 2
    assert "not a Jupyter notebook" in _one_error_line(capsys)


def _lock_with(tmp_path: Path, name: str, numpy_version: str) -> Path:
    from reprotrack.core.lockfile import CellRecord, Lock

    lock = Lock(environment={"python": sys.version.split()[0], "packages": {"numpy": numpy_version}},
                cells=[CellRecord(id="a", order=1, source_sha256="0" * 64, index=0)])
    return store.write_lock(tmp_path / name, lock)


@needs_diff
def test_diff_of_two_locks_runs_nothing_and_reports_json(tmp_path, capsys):
    import numpy

    a = _lock_with(tmp_path, "a.lock", numpy.__version__)
    assert cli.main(["diff", str(a), str(a), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"status": "reproduced", "first_divergence": None, "findings": []}
    b = _lock_with(tmp_path, "b.lock", "1.0.0")
    assert cli.main(["diff", str(a), str(b), "--format", "json", "--output", str(tmp_path / "r.json")]) == 1
    report = json.loads((tmp_path / "r.json").read_text())
    assert set(report) >= REPORT_KEYS and report["status"] == "differs"
    assert all(set(f) >= FINDING_KEYS for f in report["findings"])
    assert "package-version" in [f["cause"] for f in report["findings"]]


@needs_diff
def test_env_check_compares_installed_versions_of_the_locks_packages(tmp_path, capsys):
    import numpy

    assert cli.main(["env", "check", str(_lock_with(tmp_path, "same.lock", numpy.__version__))]) == 0
    capsys.readouterr()
    assert cli.main(["env", "check", str(_lock_with(tmp_path, "old.lock", "1.0.0")), "--format", "json"]) == 1
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert [(f["cause"], f["subject"]) for f in findings if f["cause"] == "package-version"] == [("package-version", "numpy")]
    # a patch-level drift under --env-policy patch is a warning: shown, exit 0
    major, minor, *_ = numpy.__version__.split(".")
    drift = _lock_with(tmp_path, "drift.lock", f"{major}.{minor}.999")
    assert cli.main(["env", "check", str(drift), "--env-policy", "patch"]) == 0
    assert "warning: package-version" in capsys.readouterr().out
    assert cli.main(["env", "check", str(drift)]) == 1
    capsys.readouterr()
    assert cli.main(["diff", str(drift), str(drift), "--env-policy", "minor"]) == 0
    assert cli.main(["env", "check", str(drift), "--env-policy", "sloppy"]) == 2


@needs_diff
@pytest.mark.kernel
def test_a_kernel_that_dies_is_exit_3_with_a_partial_failed_report(tmp_path, capsys, no_orphans):
    nb = write_notebook(tmp_path / "nb.ipynb", ["import numpy as np\nnp.random.seed(0)", "y = 2", "z = 3"], ids=["a", "b", "c"])
    assert cli.main(["record", str(nb)]) == 0
    capsys.readouterr()
    import nbformat

    notebook = nbformat.read(str(nb), as_version=4)
    notebook.cells[1].source = "import os\nos._exit(1)"
    nbformat.write(notebook, str(nb))
    replay_lock = tmp_path / "replay.lock"
    code = cli.main(["verify", str(nb), "--format", "json", "--save-replay", str(replay_lock)])
    captured = capsys.readouterr()
    assert code == 3
    report = json.loads(captured.out)
    assert report["status"] == "failed" and set(report) >= REPORT_KEYS
    assert "died while running cell 2" in captured.err and "Traceback" not in captured.err
    assert report["findings"]  # the partial replay is still diffed: cell a ran, the rest is accounted for
    assert [c.id for c in store.read_lock(replay_lock).cells] == ["a"]


@needs_diff
@pytest.mark.kernel
def test_verify_through_the_installed_command_with_a_timeout(tmp_path):
    """The one subprocess run: the console script, stdout/stderr split, exit 3 on a per-cell timeout."""
    nb = write_notebook(tmp_path / "nb.ipynb", ["a = 1", "import time\ntime.sleep(0.1)"], ids=["a", "b"])
    exe = Path(sys.executable).with_name("reprotrack")
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "reprotrack"]
    env = dict(os.environ, NO_COLOR="1")
    done = subprocess.run([*command, "record", str(nb)], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "recorded 2 cell run(s)" in done.stdout
    import nbformat

    notebook = nbformat.read(str(nb), as_version=4)
    notebook.cells[1].source = "import time\ntime.sleep(60)"
    nbformat.write(notebook, str(nb))
    done = subprocess.run([*command, "verify", str(nb), "--timeout", "1", "--format", "json"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 3, done.stderr
    assert json.loads(done.stdout)["status"] == "failed"
    assert "timed out" in done.stderr and "Traceback" not in done.stderr
    assert "[1/" not in done.stderr  # no progress lines when stderr is not a terminal


@pytest.mark.kernel
def test_a_kernel_that_will_not_start_is_exit_3_and_an_unknown_kernel_is_exit_2(tmp_path, monkeypatch, capsys):
    spec = tmp_path / "jupyter" / "kernels" / "broken"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-c", "import sys; print('no kernel here', file=sys.stderr); sys.exit(3)",
                 "{connection_file}"],
        "display_name": "broken", "language": "python",
    }))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    nb = write_notebook(tmp_path / "nb.ipynb", ["x = 1"])
    assert cli.main(["record", str(nb), "--kernel", "broken"]) == 3
    err = capsys.readouterr().err
    assert "could not be executed" in err and "no kernel here" in err and "Traceback" not in err
    assert not (tmp_path / "nb.reprotrack.lock").exists()
    assert cli.main(["record", str(nb), "--kernel", "no-such-kernel"]) == 2
    assert "no kernel named 'no-such-kernel'" in _one_error_line(capsys)


def test_the_command_does_not_pay_for_iri_grammars_it_never_checks(tmp_path):
    """nbformat imports jsonschema, which imports ``rfc3987_syntax`` when installed (JupyterLab installs it):
    2-3 s of Earley grammars per command. The command's own process leaves it out; jsonschema still works and
    a notebook is still read and validated."""
    import importlib.util

    if importlib.util.find_spec("rfc3987_syntax") is None:
        pytest.skip("rfc3987_syntax is not installed here: nothing to leave out")
    nb = write_notebook(tmp_path / "nb.ipynb", ["x = 1"])
    probe = ("import sys; from reprotrack import cli; code = cli.main(['env', 'check', sys.argv[1]]); "
             "import nbformat, jsonschema; nbformat.validate(nbformat.read(sys.argv[2], as_version=4)); "
             "print(code, sys.modules.get('rfc3987_syntax', 'absent'))")
    lock = tmp_path / "nb.reprotrack.lock"
    from lockbuilders import frame, pipeline

    store.write_lock(lock, pipeline(frame()))
    done = subprocess.run([sys.executable, "-c", probe, str(lock), str(nb)], capture_output=True, text=True,
                          timeout=120, check=False, env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-1] == "None", done.stdout  # marked absent: never imported
    # a ``verify --jobs`` worker (a spawned process) leaves it out from its start too
    worker = ("import sys, multiprocessing; from reprotrack import batch; "
              "batch._worker_start(multiprocessing.Array('i', 1)); print(sys.modules.get('rfc3987_syntax', 'absent'))")
    done = subprocess.run([sys.executable, "-c", worker], capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])})
    assert done.returncode == 0 and done.stdout.split()[-1] == "None", done.stdout + done.stderr
