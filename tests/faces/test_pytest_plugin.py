"""The pytest plugin (``pytest --reprotrack PATH``) in real pytest runs (pytester, a subprocess so the
``pytest11`` entry point loads as it does for users) with real kernels.

One folder holds three locked notebooks recorded once for the module (seeded: reproduces; an unseeded draw:
differs; a cell that kills its kernel in the replay: cannot be executed) and one notebook without a lock;
a single ``pytest --reprotrack`` run verifies them all, and the JUnit XML of that run is checked too.
"""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import write_notebook

pytest_plugins = ["pytester"]

SEEDED = ["import numpy as np\nnp.random.seed(0)", "x = np.random.normal(size=5)\nprint(round(float(x.sum()), 6))"]
UNSEEDED = ["import numpy as np", "x = np.random.normal(size=5)\nprint(round(float(x.sum()), 6))"]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> Path:
    """``good``, ``drift`` and ``dies`` with their research locks, and ``draft`` with none."""
    from reprotrack.verify import record_notebook

    folder = tmp_path_factory.mktemp("locked")
    for name, cells in (("good", SEEDED), ("drift", UNSEEDED)):
        nb = write_notebook(folder / f"{name}.ipynb", cells, ids=["imports", "draw"])
        result = record_notebook(nb)
        assert result.exit_code == 0, result.replay.execution_error
    # research ran the seeded notebook; in the replay its second cell kills the kernel (exit 3)
    shutil.copyfile(folder / "good.reprotrack.lock", folder / "dies.reprotrack.lock")
    write_notebook(folder / "dies.ipynb", [SEEDED[0], "import os\nos._exit(1)"], ids=["imports", "draw"])
    write_notebook(folder / "draft.ipynb", ["y = 1"])
    return folder


@pytest.fixture
def project(recorded, pytester) -> Path:
    target = pytester.path / "notebooks"
    shutil.copytree(recorded, target)
    return target


@pytest.mark.kernel
def test_locked_notebooks_are_tests_with_readable_failures_and_junit(project, pytester):
    xml_path = pytester.path / "junit.xml"
    result = pytester.runpytest_subprocess("--reprotrack", "-p", "no:cacheprovider", "--reprotrack-timeout", "60",
                                           f"--junitxml={xml_path}", "-rA", str(project))
    out = result.stdout.str()
    result.assert_outcomes(passed=1, failed=2)
    assert result.ret == 1
    assert "draft.ipynb" not in out  # no lock, found by walking a folder: not a test
    assert "\x1b[" not in out  # no colour in logs

    drift = _section(out, "drift.ipynb")
    assert "reprotrack: DIFFERS — first divergence at cell 2 (draw)" in drift
    assert "randomness/unseeded-randomness" in drift and "Fix: Seed it" in drift
    assert "Traceback" not in drift and "runtest" not in drift

    dies = _section(out, "dies.ipynb")
    assert "reprotrack: the notebook could not be executed:" in dies and "died while running cell 2" in dies
    assert "reprotrack: FAILED" in dies

    cases = {case.get("name"): case for case in ET.parse(xml_path).getroot().iter("testcase")}
    assert set(cases) == {"good.ipynb", "drift.ipynb", "dies.ipynb"}
    assert cases["good.ipynb"].find("failure") is None
    failure = cases["drift.ipynb"].find("failure")
    assert failure.get("message").startswith("reprotrack: DIFFERS")
    assert "unseeded-randomness" in failure.text
    assert "died while running cell 2" in cases["dies.ipynb"].find("failure").get("message")
    properties = {p.get("name"): p.get("value") for p in cases["drift.ipynb"].iter("property")}
    assert properties["reprotrack_status"] == "differs"
    assert properties["reprotrack_first_divergence"] == "cell 2"
    assert properties["reprotrack_lock"] == "notebooks/drift.reprotrack.lock"  # relative to the rootdir


def test_an_explicit_notebook_without_a_lock_is_skipped_with_the_way_to_record_one(project, pytester):
    result = pytester.runpytest_subprocess("--reprotrack", "-p", "no:cacheprovider", "-rs", str(project / "draft.ipynb"))
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*draft.ipynb has no reprotrack lock; record one with `reprotrack record draft.ipynb`*"])


def test_bad_input_fails_with_one_line_and_no_kernel(project, pytester):
    (project / "drift.reprotrack.lock").write_text("{not json")
    result = pytester.runpytest_subprocess("--reprotrack", "-p", "no:cacheprovider", "--reprotrack-kernel", "no-such-kernel",
                                           str(project / "good.ipynb"), str(project / "drift.ipynb"))
    result.assert_outcomes(failed=2)
    out = result.stdout.str()
    good, drift = _section(out, "good.ipynb"), _section(out, "drift.ipynb")
    # (jupyter_client logs its own traceback for the unknown kernel: pytest shows it as a captured log)
    assert good.splitlines()[1] == "reprotrack: error: no kernel named 'no-such-kernel'; see `jupyter kernelspec list`"
    assert "is not valid JSON" in drift and "Traceback" not in drift


def test_bad_option_is_a_usage_error(pytester):
    result = pytester.runpytest_subprocess("--reprotrack", "--reprotrack-timeout", "-1")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "must be a finite number > 0" in result.stderr.str()


def test_without_the_option_notebooks_are_ignored_and_nothing_heavy_is_imported(project, pytester):
    pytester.makepyfile(test_modules="""
        import sys

        def test_modules():
            heavy = {"nbclient", "nbformat", "numpy", "pandas", "IPython", "jsonschema", "jupyter_client"}
            assert not heavy & {m.split(".")[0] for m in sys.modules}
            assert "reprotrack.pytest_plugin" in sys.modules  # loaded through the pytest11 entry point
            assert "reprotrack.verify" not in sys.modules
        """)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", str(pytester.path))
    result.assert_outcomes(passed=1)


def _section(out: str, name: str) -> str:
    """The failure section pytest prints for the notebook ``name``."""
    start = out.index(f"_ reprotrack verify {name} _")
    ends = (out.find("\n___", start + 1), out.find("\n===", start + 1), out.find("\n---", start + 1))
    following = [i for i in ends if i != -1]
    return out[start:min(following)] if following else out[start:]
