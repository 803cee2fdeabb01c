"""Hardening: replay faults in real kernels give a clear outcome, the right exit code and no orphaned kernel.

A cell that hangs past ``--timeout``, a cell printing megabytes, a notebook for a kernel that is not
installed (an R notebook), a data file that went missing between record and verify (a kernel that dies
mid-notebook, ``os._exit``, is tests/test_cli.py's). After each, no ipykernel process started by this test is
left running (conftest's ``no_orphans``: psutil, children of this process).
"""

from __future__ import annotations

import json
import os

import pytest
from conftest import write_notebook

from reprotrack import cli, store

pytestmark = pytest.mark.kernel


def _json(capsys) -> tuple[dict, str]:
    out = capsys.readouterr()
    return json.loads(out.out), out.err


def test_a_hanging_cell_is_interrupted_by_the_timeout(tmp_path, capsys, no_orphans):
    nb = write_notebook(tmp_path / "nb.ipynb", ["a = 1", "while True:\n    pass", "c = 3"], ids=["a", "spin", "c"])
    assert cli.main(["record", str(nb), "--timeout", "2"]) == 3
    err = capsys.readouterr().err
    assert "timed out" in err and "Traceback" not in err
    assert not (tmp_path / "nb.reprotrack.lock").exists()  # an incomplete run never becomes the research lock


def test_a_cell_printing_megabytes_keeps_the_lock_small(tmp_path, capsys, no_orphans):
    nb = write_notebook(tmp_path / "nb.ipynb", ["import sys\nfor i in range(20000):\n    print('x' * 250, i)",
                                                "sys.stderr.write('e' * (3 << 20))"], ids=["out", "err"])
    assert cli.main(["record", str(nb)]) == 0
    lock_path = tmp_path / "nb.reprotrack.lock"
    assert lock_path.stat().st_size < 200_000  # 8 MB printed, an excerpt and digests kept
    lock = store.read_lock(lock_path)
    assert lock.cells[0].outputs["stdout"]["truncated"] is True
    capsys.readouterr()
    assert cli.main(["verify", str(nb), "--format", "json"]) == 0
    assert _json(capsys)[0]["status"] == "reproduced"


def test_a_notebook_for_a_kernel_that_is_not_installed_is_one_clear_line(tmp_path, capsys, no_orphans):
    import nbformat

    nb = write_notebook(tmp_path / "nb.ipynb", ["x <- 1"])
    notebook = nbformat.read(str(nb), as_version=4)
    notebook.metadata["kernelspec"] = {"name": "ir", "display_name": "R", "language": "R"}
    notebook.metadata["language_info"] = {"name": "R"}
    nbformat.write(notebook, str(nb))
    assert cli.main(["record", str(nb)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no kernel named 'ir'" in err[0] and "Traceback" not in err[0]


def test_a_kernel_that_is_not_a_python_kernel_is_exit_3(tmp_path, capsys, monkeypatch, no_orphans):
    """A kernelspec for another language (here: a process that speaks no Jupyter protocol and exits)."""
    spec = tmp_path / "jupyter" / "kernels" / "notpython"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": ["/bin/sh", "-c", "echo 'this is not a python kernel' >&2; exit 1", "{connection_file}"],
        "display_name": "Other", "language": "other",
    }))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    nb = write_notebook(tmp_path / "nb.ipynb", ["x = 1"])
    assert cli.main(["record", str(nb), "--kernel", "notpython", "--timeout", "5"]) == 3
    err = capsys.readouterr().err
    assert "could not be executed" in err and "Traceback" not in err


def test_a_missing_data_file_is_a_finding_not_a_crash(tmp_path, capsys, no_orphans):
    (tmp_path / "data.csv").write_text("a,b\n1,2\n3,4\n")
    nb = write_notebook(tmp_path / "nb.ipynb", ["import pandas as pd\ndf = pd.read_csv('data.csv')", "total = int(df.a.sum())"],
                        ids=["load", "sum"])
    assert cli.main(["record", str(nb)]) == 0
    os.unlink(tmp_path / "data.csv")
    capsys.readouterr()
    assert cli.main(["verify", str(nb), "--format", "json"]) == 1
    report, err = _json(capsys)
    assert report["status"] == "differs" and "Traceback" not in err
    first = report["first_divergence"]
    assert first is not None and first["cell_index"] == 0
    causes = {f["cause"] for f in report["findings"]}
    assert causes & {"cell-error", "input-file-changed"}
