"""Libraries imported inside the cell that uses them (``reprotrack.kernel.capture.imports``).

The import forms run in fresh Python processes (a real ``InteractiveShell`` each), because the test
process has imported scikit-learn and pandas long before: one process imports nothing before
``%reprotrack start``, the other imports scikit-learn, pandas and numpy.random first (as a kernel's start-up
file would), and both must record the same lock up to the keys the diff ignores.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
from conftest import ROOT, run

from reprotrack import store
from reprotrack.core.diff.causality import compare
from reprotrack.kernel import session
from reprotrack.kernel.capture.imports import WATCHER

CELLS = [
    # the cell: imports, a generator and a split in one cell
    "from sklearn.datasets import make_classification\n"
    "from sklearn.model_selection import train_test_split\n"
    "X, y = make_classification(n_samples=300, random_state=42)\n"
    "X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=42)",
    # an estimator imported in the cell that fits it
    "from sklearn.ensemble import RandomForestClassifier\n"
    "clf = RandomForestClassifier(n_estimators=3, random_state=0).fit(X_train, y_train)",
    "import sklearn.model_selection as ms\nA, B = ms.train_test_split(X, random_state=1)",
    "from sklearn import model_selection\nA2, B2 = model_selection.train_test_split(X, random_state=2)",
    # a submodule scikit-learn imports lazily itself (its module ``__getattr__``)
    "import sklearn\ncv = sklearn.cross_decomposition.PLSRegression(n_components=1)\n"
    "C, D = sklearn.model_selection.train_test_split(y, random_state=3)",
    "from sklearn.model_selection import KFold\nfolds = [t for t, _ in KFold(3, shuffle=True, random_state=4).split(X)]",
    # unseeded: the cell's own draws are named
    "import numpy as np\nnoise = np.random.rand(5)",
    "import pandas as pd\nsampled = pd.DataFrame({'a': range(50)}).sample(5)",
    "from sklearn.model_selection import ShuffleSplit\nshuffled = [t for t, _ in ShuffleSplit(2).split(X)]",
    "from sklearn.linear_model import SGDClassifier\nsgd = SGDClassifier(max_iter=5, tol=None).fit(X_train, y_train)",
]

RUNNER = textwrap.dedent(
    """
    import json, sys
    for name in sys.argv[3:]:
        __import__(name)
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    ip = InteractiveShell.instance(config=config)
    ip.run_line_magic("load_ext", "reprotrack")
    ip.run_cell("%reprotrack start --lock " + sys.argv[2], store_history=True)
    for source in json.loads(sys.argv[1]):
        result = ip.run_cell(source, store_history=True)
        if not result.success:
            sys.exit(f"cell failed: {source!r}")
    ip.run_cell("%reprotrack save", store_history=True)
    """
)


def record_fresh(tmp_path, name: str, preimport: tuple[str, ...] = ()):
    lock = tmp_path / f"{name}.lock"
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", RUNNER, json.dumps(CELLS), str(lock), *preimport],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return store.read_lock(lock)


@pytest.fixture(scope="module")
def locks(tmp_path_factory):
    folder = tmp_path_factory.mktemp("imports")
    plain = record_fresh(folder, "plain")
    early = record_fresh(folder, "early", ("sklearn.ensemble", "sklearn.linear_model", "pandas", "numpy.random"))
    return plain, early


def facts(cell) -> dict:
    return {
        "seeds": sorted((s["api"], json.dumps(s["value"])) for s in cell.seeds),
        "randomness": sorted((r["source"], r["seeded"]) for r in cell.randomness),
        "splits": [(s["api"], s.get("random_state"), s.get("fold")) for s in cell.splits],
    }


def test_every_import_form_is_captured_in_the_importing_cell(locks):
    cells = [facts(c) for c in locks[0].cells]
    assert ("sklearn.datasets.make_classification(random_state=)", "42") in cells[0]["seeds"]
    assert cells[0]["splits"] == [("train_test_split", 42, None)]
    assert cells[1]["seeds"] == [("sklearn.ensemble.RandomForestClassifier(random_state=)", "0")]
    assert cells[2]["splits"] == [("train_test_split", 1, None)]
    assert cells[3]["splits"] == [("train_test_split", 2, None)]
    assert cells[4]["splits"] == [("train_test_split", 3, None)]
    assert [s[0] for s in cells[5]["splits"]] == ["KFold.split"] * 3 and cells[5]["randomness"] == []
    assert cells[6]["randomness"] == [("numpy.random (global generator)", False)]
    assert ("pandas.DataFrame.sample", False) in cells[7]["randomness"]
    assert ("sklearn.model_selection.ShuffleSplit.split", False) in cells[8]["randomness"]
    assert ("sklearn.linear_model.SGDClassifier.fit", False) in cells[9]["randomness"]
    for seeded in cells[:6]:  # seeded cells draw nothing unseeded, whatever the import did
        assert all(entry[1] for entry in seeded["randomness"]), seeded


def test_what_was_imported_before_start_changes_nothing(locks):
    plain, early = locks
    assert [facts(c) for c in plain.cells] == [facts(c) for c in early.cells]
    report = compare(plain, early)
    unseeded = {i for i, c in enumerate(plain.cells) if any(not r["seeded"] for r in c.randomness)}
    roots = [f for f in report.findings if not f.upstream_of]
    assert {f.cause for f in roots} <= {"unseeded-randomness"}, [f.to_dict() for f in roots]
    assert {f.cell_index for f in report.findings} <= unseeded | {None}, [f.to_dict() for f in report.findings]


def test_an_import_that_fails_stays_the_users_error(ip, tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "broken_at_import.py").write_text("x = 1\nraise ValueError('broken on purpose')\n")
    run(ip, "%reprotrack start")
    assert WATCHER in sys.meta_path
    missing = run(ip, "import reprotrack_no_such_module_here")
    assert type(missing.error_in_exec) is ModuleNotFoundError
    assert str(missing.error_in_exec) == "No module named 'reprotrack_no_such_module_here'"
    assert missing.error_in_exec.name == "reprotrack_no_such_module_here"
    broken = run(ip, "import broken_at_import")
    assert type(broken.error_in_exec) is ValueError and str(broken.error_in_exec) == "broken on purpose"
    assert "broken_at_import" not in sys.modules
    tb = broken.error_in_exec.__traceback__
    while tb.tb_next is not None:
        tb = tb.tb_next
    assert tb.tb_frame.f_code.co_filename.endswith("broken_at_import.py") and tb.tb_lineno == 2
    assert run(ip, "y = 2").success  # tracking goes on


def test_stop_removes_the_finder_and_imports_run_unwrapped(ip, tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "imported_after_stop.py").write_text("VALUE = 3\n")
    run(ip, "%reprotrack start")
    assert sys.meta_path[0] is WATCHER
    run(ip, "%reprotrack stop")
    assert WATCHER not in sys.meta_path and WATCHER.listeners == []
    assert session.active() is None
    assert run(ip, "import imported_after_stop\nv = imported_after_stop.VALUE").success
    spec = sys.modules["imported_after_stop"].__spec__
    assert "exec_module" not in vars(spec.loader)  # the loader's own method, never wrapped
