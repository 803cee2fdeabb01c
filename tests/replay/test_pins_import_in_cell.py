"""``--pin-seeds`` when the cell that draws is the one that imports numpy: reprotrack no longer imports
numpy.random for the user, so the pinned replay must set the global state before that import."""

from __future__ import annotations

import pytest
from conftest import write_notebook

from reprotrack.verify import record_notebook, verify_notebook

pytestmark = pytest.mark.kernel


def test_a_pinned_replay_of_a_cell_that_imports_numpy_and_draws_reproduces(tmp_path):
    nb = write_notebook(tmp_path / "draws.ipynb", ["import numpy as np\nx = np.random.rand(3)\nprint(x)",
                                                   "y = np.random.rand(2)"])
    assert record_notebook(nb).exit_code == 0
    pinned = verify_notebook(nb, pin_seeds=True).report
    assert (pinned.status, pinned.findings) == ("reproduced", [])
    honest = verify_notebook(nb).report
    assert [(f.cause, f.cell_index) for f in honest.roots()] == [("unseeded-randomness", 0), ("unseeded-randomness", 1)]
