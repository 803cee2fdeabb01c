"""The user's own code as a cell's input, in real IPython shells: a module beside the notebook (or in a folder put
on ``sys.path``) imported by a tracked cell, a module reloaded after an edit, a script run with ``%run``;
never the libraries, the standard library, the tracker itself, or what was imported before ``start``."""

from __future__ import annotations

import importlib
import sys

import pytest
import xxhash
from conftest import run

from reprotrack.kernel import session


@pytest.fixture(autouse=True)
def _forget_test_modules(tmp_path, monkeypatch):
    """The notebook folder is importable, as in a kernel; the modules these tests write are imported by name:
    none may leak into another test."""
    monkeypatch.syspath_prepend(str(tmp_path))
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        if name.split(".")[0] in ("helpers", "features", "prep_lib", "early", "utils"):
            del sys.modules[name]
    importlib.invalidate_caches()


def ok(ip, source):
    result = run(ip, source)
    assert result.success, result.error_in_exec or result.error_before_exec
    return result


def code_inputs(cell=-1):
    return [i for i in session.active().cells[cell].inputs if i["reader"] in ("import", "run")]


def entry(path, relative, reader, module=None):
    raw = path.read_bytes()
    out = {"path": relative, "bytes": len(raw), "content": "xxh3-128:" + xxhash.xxh3_128_hexdigest(raw),
           "reader": reader}
    if module is not None:
        out["module"] = module
    return out


def test_a_module_beside_the_notebook_is_an_input_of_the_cell_that_imports_it(ip, tmp_path):
    helpers = tmp_path / "helpers.py"
    helpers.write_text("def double(x):\n    return 2 * x\n")
    run(ip, "%reprotrack start")
    ok(ip, "import json, collections\nimport sklearn.utils\nfrom helpers import double\ny = double(2)")
    assert code_inputs() == [entry(helpers, "helpers.py", "import", "helpers")]
    ok(ip, "import helpers\nz = helpers.double(3)")  # already imported: nothing ran, nothing new
    assert code_inputs() == []


def test_a_package_in_a_src_folder_records_every_module_that_ran(ip, tmp_path):
    pkg = tmp_path / "src" / "features"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("from .scaling import scale\n")
    (pkg / "scaling.py").write_text("def scale(x):\n    return x / 10\n")
    run(ip, "%reprotrack start")
    ok(ip, "import sys\nsys.path.insert(0, 'src')\nfrom features import scale\nv = scale(5)")
    assert code_inputs() == [entry(pkg / "__init__.py", "src/features/__init__.py", "import", "features"),
                             entry(pkg / "scaling.py", "src/features/scaling.py", "import", "features.scaling")]


def test_a_reload_after_an_edit_records_the_new_code(ip, tmp_path):
    helpers = tmp_path / "helpers.py"
    helpers.write_text("FACTOR = 2\n")
    run(ip, "%reprotrack start")
    ok(ip, "import importlib\nimport helpers\nf = helpers.FACTOR")
    first = code_inputs()
    helpers.write_text("FACTOR = 3  # changed\n")
    ok(ip, "g = helpers.FACTOR")  # edited on disk, not run: the kernel still has the old code
    assert code_inputs() == []
    ok(ip, "importlib.reload(helpers)\nh = helpers.FACTOR")
    assert code_inputs() == [entry(helpers, "helpers.py", "import", "helpers")]
    assert code_inputs()[0]["content"] != first[0]["content"]


def test_a_script_run_with_percent_run_is_code_and_its_imports_too(ip, tmp_path):
    (tmp_path / "prep_lib.py").write_text("ROWS = 5\n")
    prep = tmp_path / "prep.py"
    prep.write_text("import prep_lib\nrows = list(range(prep_lib.ROWS))\n")
    run(ip, "%reprotrack start")
    ok(ip, "%run prep.py")
    assert code_inputs() == [entry(prep, "prep.py", "run"), entry(tmp_path / "prep_lib.py", "prep_lib.py", "import",
                                                                    "prep_lib")]
    assert ip.user_ns["rows"] == [0, 1, 2, 3, 4]


def test_modules_imported_before_start_and_the_tracker_s_own_are_not_inputs(ip, tmp_path):
    (tmp_path / "early.py").write_text("X = 1\n")
    ok(ip, "import sys\nsys.path.insert(0, '.')\nimport early")
    run(ip, "%reprotrack start")
    ok(ip, "import early\nimport reprotrack.core.fingerprint\nx = early.X")
    assert code_inputs() == []


def test_stop_restores_the_shell_s_run_methods(ip):
    from IPython.core.interactiveshell import InteractiveShell

    originals = (InteractiveShell.safe_execfile, InteractiveShell.safe_execfile_ipy)
    run(ip, "%reprotrack start")
    assert InteractiveShell.safe_execfile is not originals[0]
    run(ip, "%reprotrack stop")
    assert (InteractiveShell.safe_execfile, InteractiveShell.safe_execfile_ipy) == originals


def test_code_near_the_notebook_folder_is_named_relative_to_it(ip, tmp_path, monkeypatch):
    """A notebook in notebooks/ importing the project's shared/ code: the path reads the same in every checkout."""
    (tmp_path / "notebooks").mkdir()
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "utils.py").write_text("K = 3\n")
    monkeypatch.chdir(tmp_path / "notebooks")
    monkeypatch.syspath_prepend(str(shared))
    run(ip, "%reprotrack start")
    ok(ip, "import utils\nk = utils.K")
    assert [i["path"] for i in code_inputs()] == ["../shared/utils.py"]


def test_a_hostile_object_in_sys_modules_costs_nothing(ip, tmp_path):
    """A lazy-module proxy whose attributes raise: the cell's other inputs are still recorded."""
    (tmp_path / "helpers.py").write_text("X = 1\n")
    (tmp_path / "t.csv").write_text("a\n1\n")
    run(ip, "%reprotrack start")
    ok(ip, "import sys\nclass Proxy:\n    def __getattr__(self, name):\n        raise RuntimeError('lazy')\n"
           "sys.modules['hostile_proxy'] = Proxy()\nimport helpers\ntext = open('t.csv').read()")
    try:
        paths = [(i["path"], i["reader"]) for i in session.active().cells[-1].inputs]
        assert paths == [("t.csv", "open"), ("helpers.py", "import")]
    finally:
        sys.modules.pop("hostile_proxy", None)
