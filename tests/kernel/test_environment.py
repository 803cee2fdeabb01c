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
