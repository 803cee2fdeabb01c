"""Environment capture: imported distributions, thread pools, the variable allowlist."""

from __future__ import annotations

import importlib.metadata as md

from reprotrack.kernel.capture import environment


def test_imported_distributions_have_installed_versions():
    import numpy  # noqa: F401
    import pandas  # noqa: F401
    import sklearn  # noqa: F401

    found = environment.imported_distributions()
    assert found["numpy"] == md.version("numpy")
    assert found["pandas"] == md.version("pandas")
    assert found["scikit-learn"] == md.version("scikit-learn")
    assert list(found) == sorted(found)


def test_only_imported_modules_count():
    found = environment.imported_distributions({"numpy": object(), "numpy.linalg": object()})
    assert set(found) == {"numpy"}


def test_only_allowlisted_variables_are_recorded():
    env = {
        "PYTHONHASHSEED": "0",
        "OMP_NUM_THREADS": "2",
        "AWS_SECRET_ACCESS_KEY": "canary-secret-123",
        "GITHUB_TOKEN": "ghp_canary",
        "HOME": "/root",
    }
    assert environment.result_variables(env) == {"PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "2"}


def test_facts_shape():
    import numpy  # noqa: F401 - loads a BLAS

    facts = environment.environment_facts()
    assert facts["python"].count(".") == 2
    assert facts["implementation"]
    assert {"system", "machine"} <= set(facts["platform"])
    assert any(p["internal_api"] in ("openblas", "mkl", "blis", "accelerate") for p in facts["threadpools"])


# -- environment.user_packages ---------------------------------------------------------------------
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import textwrap  # noqa: E402

from conftest import ROOT, run  # noqa: E402

from reprotrack.kernel.capture import userpackages  # noqa: E402

_RECORD = textwrap.dedent("""
    import json, sys
    from IPython.core.interactiveshell import InteractiveShell
    if sys.argv[1] == "pre":
        import sklearn.model_selection, pandas, ipywidgets  # what a start-up file or the panel imports
    shell = InteractiveShell.instance()
    for cell in ["%load_ext reprotrack", "%reprotrack start --lock " + sys.argv[2],
                 "from sklearn.model_selection import train_test_split\\nimport numpy as np\\n"
                 "X_train, X_test = train_test_split(np.arange(20), random_state=0)",
                 "total = np.sum(X_train)", "%reprotrack save"]:
        shell.run_cell(cell, store_history=True)
""")


def test_user_packages_do_not_depend_on_what_was_imported_before_start(tmp_path):
    envs = {}
    for mode in ("fresh", "pre"):
        target = tmp_path / f"{mode}.lock"
        subprocess.run([sys.executable, "-c", _RECORD, mode, str(target)], check=True, cwd=tmp_path, timeout=120,
                       env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
        envs[mode] = json.loads(target.read_text())["environment"]
    fresh, pre = envs["fresh"], envs["pre"]
    assert fresh["user_packages"] == pre["user_packages"]
    assert {"scikit-learn", "numpy", "scipy", "joblib"} <= set(fresh["user_packages"])
    assert not {"pandas", "ipywidgets", "ipykernel", "reprotrack", "ipython"} & set(pre["user_packages"])
    assert "ipywidgets" in pre["packages"] and "ipywidgets" not in fresh["packages"]
    from reprotrack.core.diff import environment_differences

    assert environment_differences(pre, fresh) == [] and environment_differences(fresh, pre) == []


def test_names_a_cell_uses_from_earlier_imports_count(ip, tmp_path):
    import numpy as np

    ip.user_ns["np"] = np  # bound by a start-up file, never imported in a cell
    run(ip, "%reprotrack start")
    run(ip, "m = np.mean([1, 2])")
    run(ip, "import importlib\nmod = importlib.import_module('scipy.stats')")
    run(ip, "%reprotrack save")
    user = json.loads((tmp_path / "reprotrack.lock").read_text())["environment"]["user_packages"]
    assert {"numpy", "scipy"} <= set(user) and "ipython" not in user


def test_the_users_own_modules_are_read_for_their_imports(ip, tmp_path, monkeypatch):
    (tmp_path / "features.py").write_text("import joblib\n\ndef build():\n    from sklearn import preprocessing\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    run(ip, "%reprotrack start")
    run(ip, "import features")
    run(ip, "%reprotrack save")
    user = json.loads((tmp_path / "reprotrack.lock").read_text())["environment"]["user_packages"]
    assert {"joblib", "scikit-learn"} <= set(user)


def test_imported_names_cover_every_import_form():
    import ast

    tree = ast.parse("import sklearn.model_selection as ms\nfrom pandas import DataFrame\nfrom . import local\n"
                     "def f():\n    import scipy\n__import__('joblib')\n")
    assert userpackages.imported_names(tree) == {"sklearn", "pandas", "scipy", "joblib"}
