"""``reprotrack verify NB1 NB2 … --jobs N``: several notebooks in parallel, one kernel each, one summary.

Three real notebooks are recorded once (real kernels); one is then changed so that it differs, and a fourth
path has no lock (bad input): the batch reports each, does not abort on the bad one, and exits with the worst
code. The exit-code rule and the usage errors are checked without kernels."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import write_notebook

from reprotrack import cli
from reprotrack.batch import BatchResult, NotebookOutcome
from reprotrack.report.batch import render_batch


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("batch")
    for name, n in (("one", 5), ("two", 6), ("three", 7)):
        nb = write_notebook(folder / f"{name}.ipynb", ["import numpy as np", f"a = np.arange({n}) * 2"], ids=["imp", "make"])
        assert cli.main(["record", str(nb)]) == 0
    import nbformat

    changed = nbformat.read(str(folder / "three.ipynb"), as_version=4)
    changed.cells[1].source = "a = np.arange(7) * 3"
    nbformat.write(changed, str(folder / "three.ipynb"))
    write_notebook(folder / "nolock.ipynb", ["b = 1"])
    return folder


@pytest.mark.kernel
def test_several_notebooks_in_parallel_one_summary_and_a_combined_junit(folder, capsys):
    nbs = [str(folder / f"{n}.ipynb") for n in ("one", "two", "three", "nolock")]
    out = folder / "verify.xml"
    capsys.readouterr()
    code = cli.main(["verify", *nbs, "--jobs", "2", "--format", "junit", "--output", str(out)])
    captured = capsys.readouterr()
    assert code == 2, captured  # worst of 0, 0, 1 (differs) and 2 (no lock)
    lines = captured.out.splitlines()
    assert [line.split()[0] for line in lines[:4]] == ["REPRODUCED", "REPRODUCED", "DIFFERS", "ERROR"]
    assert "first divergence at cell 2" in lines[2] and "no lock" in lines[3]
    assert lines[-1].startswith("reprotrack: 4 notebook(s)") and lines[-1].endswith("exit 2")
    suites = ET.parse(out).getroot()
    assert suites.tag == "testsuites" and len(suites) == 4
    assert [s.get("file") for s in suites] == nbs
    assert int(suites.get("failures")) >= 1 and int(suites.get("errors")) == 1
    three = suites[2]
    assert three.find("testcase/failure") is not None and int(three.get("failures")) >= 1


@pytest.mark.kernel
def test_json_for_the_reproducing_and_differing_notebooks_exits_1(folder, capsys):
    nbs = [str(folder / f"{n}.ipynb") for n in ("one", "three")]
    capsys.readouterr()
    code = cli.main(["verify", *nbs, "--jobs", "2", "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 1 and doc["exit_code"] == 1 and doc["status"] == "differs"
    assert [(r["notebook"], r["status"]) for r in doc["notebooks"]] == [(nbs[0], "reproduced"), (nbs[1], "differs")]
    assert doc["notebooks"][1]["report"]["first_divergence"]["cell_index"] == 1


def test_the_overall_exit_code_is_the_worst_notebook_code():
    def result(*codes):
        return BatchResult([NotebookOutcome(f"nb{i}.ipynb", c, error="x" if c in (2, 3) else None) for i, c in enumerate(codes)])

    assert result().exit_code == 0
    assert result(0, 0).exit_code == 0
    assert result(0, 1, 0).exit_code == 1
    assert result(1, 2).exit_code == 2
    assert result(2, 3, 1).exit_code == 3
    doc = json.loads(render_batch(result(0, 2), "json"))
    assert doc["status"] == "error" and [r["status"] for r in doc["notebooks"]] == ["reproduced", "error"]


@pytest.mark.parametrize("extra, message", [
    (["--lock", "x.lock"], "--lock applies to one notebook"),
    (["--save-replay", "r.lock"], "--save-replay applies to one notebook"),
    (["--format", "html"], "--format html applies to one notebook"),
    (["--jobs", "0"], "must be >= 1"),
    (["--jobs", "two"], "not a whole number"),
])
def test_usage_errors_with_several_notebooks_are_exit_2_before_anything_runs(tmp_path, capsys, extra, message):
    a, b = write_notebook(tmp_path / "a.ipynb", ["x = 1"]), write_notebook(tmp_path / "b.ipynb", ["y = 1"])
    assert cli.main(["verify", str(a), str(b), *extra]) == 2
    assert message in capsys.readouterr().err


def test_bad_input_for_every_notebook_is_reported_per_notebook_without_a_kernel(tmp_path, capsys):
    a = write_notebook(tmp_path / "a.ipynb", ["x = 1"])
    code = cli.main(["verify", str(a), str(tmp_path / "missing.ipynb"), "--jobs", "2"])
    out = capsys.readouterr().out
    assert code == 2
    assert "no lock" in out and "no notebook at" in out


SCRATCH = ["import time\nfrom pathlib import Path\nPath('scratch.txt').write_text(NAME * 1000)\ntime.sleep(1.5)",
           "text = open('scratch.txt').read()\nassert text == NAME * 1000, 'another notebook wrote scratch.txt'"]


def test_notebooks_of_one_folder_never_run_at_once_and_other_folders_do():
    from reprotrack.batch import by_folder

    assert by_folder(["a/x.ipynb", "b/y.ipynb", "a/z.ipynb", "./a/w.ipynb"]) == [
        ["a/x.ipynb", "a/z.ipynb", "./a/w.ipynb"], ["b/y.ipynb"]]


@pytest.mark.kernel
def test_parallel_verification_of_notebooks_sharing_a_scratch_file_gives_the_serial_answers(tmp_path, capsys):
    from reprotrack.batch import verify_many

    nbs = []
    for name in ("a", "b", "c"):
        nbs.append(str(write_notebook(tmp_path / f"{name}.ipynb", [f"NAME = {name!r}", *SCRATCH],
                                      ids=["name", "write", "read"])))
        assert cli.main(["record", nbs[-1]]) == 0
    serial = verify_many(nbs, jobs=1)
    parallel = verify_many(nbs, jobs=3)

    def answers(result):
        return [(o.notebook, o.exit_code, o.report.to_dict()) for o in result.outcomes]

    assert [o.status for o in serial.outcomes] == ["reproduced"] * 3
    assert answers(parallel) == answers(serial)
