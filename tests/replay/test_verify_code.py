"""The user's own code outside the notebook, end to end with real kernels: a module beside the notebook and a
script run with ``%run`` are recorded where they ran; a replay with the same code reproduces, and an edit to
either is the root cause (``execution/source-changed``) of what it changed downstream."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import write_notebook

from reprotrack.verify import record_notebook, verify_notebook

pytestmark = pytest.mark.kernel

HELPERS = "def bucket(age):\n    return 'young' if age < 35 else 'old'\n"
PREP = "import numpy as np\nrng = np.random.default_rng(0)\nages = rng.integers(18, 80, 200)\n"
CELLS = [
    "from helpers import bucket",
    "%run prep.py",
    "import collections\ncounts = collections.Counter(bucket(int(a)) for a in ages)\nprint(sorted(counts.items()))",
]


@pytest.fixture(scope="module")
def research(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("code")
    (folder / "helpers.py").write_text(HELPERS)
    (folder / "prep.py").write_text(PREP)
    nb = write_notebook(folder / "study.ipynb", CELLS, ids=["imports", "prep", "count"])
    assert record_notebook(nb).exit_code == 0
    return folder


@pytest.fixture
def study(research, tmp_path) -> Path:
    folder = tmp_path / "study"
    shutil.copytree(research, folder)
    return folder / "study.ipynb"


def _described(report):
    return [(f.id, f.cell_index, f.kind, f.cause, f.subject, f.upstream_of, f.message) for f in report.findings]


def test_the_same_code_reproduces(study):
    report = verify_notebook(study).report
    assert report.status == "reproduced", _described(report)


@pytest.mark.parametrize("path, edit, cell, verb", [
    ("helpers.py", lambda s: s.replace("age < 35", "age < 40"), 0, "imported by cell 1"),
    ("prep.py", lambda s: s.replace("integers(18, 80", "integers(18, 60"), 1, "run by cell 2"),
])
def test_an_edit_to_the_code_is_the_root_of_what_it_changed(study, path, edit, cell, verb):
    file = study.parent / path
    file.write_text(edit(file.read_text()))
    report = verify_notebook(study).report
    described = _described(report)
    assert report.status == "differs", described
    assert report.first_divergence["cell_index"] == cell, described
    roots = [f for f in report.findings if not f.upstream_of]
    assert [(f.cell_index, f.kind, f.cause, f.subject) for f in roots] == [(cell, "execution", "source-changed", path)]
    assert verb in roots[0].message, described
    # the printed counts in the last cell changed, and are folded under the edit
    assert any(f.cell_index == 2 and f.upstream_of == roots[0].id for f in report.findings), described
