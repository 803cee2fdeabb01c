"""The magics in a real kernel (nbclient), as a researcher's notebook uses them."""

from __future__ import annotations

import importlib.metadata as md

import pytest
from conftest import execute_notebook, write_notebook

from reprotrack import store

pytestmark = pytest.mark.kernel


def test_a_notebook_with_the_magics_writes_its_lock(tmp_path):
    nb = write_notebook(
        tmp_path / "research.ipynb",
        [
            "%load_ext reprotrack\n%reprotrack start",
            "import numpy as np\nimport pandas as pd\nimport sklearn",
            "df = pd.DataFrame({'a': [1, 2, 3]})",
            "total = int(df['a'].sum())\ntotal",
            "%reprotrack save",
        ],
        ids=["setup", "imports", "frame", "total", "save"],
    )
    out = execute_notebook(nb, env={"JPY_SESSION_NAME": str(nb)})
    lock = store.read_lock(tmp_path / "research.reprotrack.lock")
    assert lock.notebook == "research.ipynb"
    # plain nbclient sends no cell ids (JupyterLab does): ids derive from the source, positions from the notebook
    assert [(c.index, c.order) for c in lock.cells] == [(1, 1), (2, 2), (3, 3)]
    assert all(c.id.startswith("src-") for c in lock.cells)
    for dist in ("numpy", "pandas", "scikit-learn"):
        assert lock.environment["packages"][dist] == md.version(dist)
    # the tracker's own outputs are one line each, no traceback anywhere
    texts = [o.get("text", "") for c in out.cells for o in c.outputs]
    assert not any("Traceback" in t for t in texts)
    assert out.cells[3].outputs[0]["data"]["text/plain"] == "6"
