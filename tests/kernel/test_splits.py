"""Split capture with real scikit-learn in real IPython shells: every splitter, recorded indices equal the
rows returned, outputs bit-identical with and without tracking, nested CV, bounds and reversibility."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import run

from reprotrack.core import split_indices as indices
from reprotrack.kernel import session
from reprotrack.kernel.capture import splits as split_capture

SETUP = """
import numpy as np, pandas as pd
from sklearn import model_selection as ms
rng0 = np.random.RandomState(12345)
X = rng0.normal(size=(30, 3))
y = np.array([0, 1, 2] * 10)
groups = np.repeat(np.arange(6), 5)
test_fold = np.array([0, 1, 2, -1, 1] * 6)
"""


def cells():
    return session.active().cells


def ok(ip, source):
    result = run(ip, source)
    assert result.success, result.error_in_exec or result.error_before_exec
    return result


def decoded(part):
    return indices.decode(part["indices"])


SPLITTERS = [
    ("KFold(4)", False, False, False),
    ("KFold(4, shuffle=True, random_state=0)", True, False, False),
    ("StratifiedKFold(3, shuffle=True, random_state=0)", True, True, False),
    ("GroupKFold(3)", False, False, True),
    ("StratifiedGroupKFold(3, shuffle=True, random_state=0)", True, True, True),
    ("ShuffleSplit(3, test_size=0.3, random_state=0)", True, False, False),
    ("StratifiedShuffleSplit(3, test_size=0.3, random_state=0)", True, True, False),
    ("GroupShuffleSplit(3, test_size=0.3, random_state=0)", True, False, True),
    ("RepeatedKFold(n_splits=3, n_repeats=2, random_state=0)", True, False, False),
    ("RepeatedStratifiedKFold(n_splits=3, n_repeats=2, random_state=0)", True, True, False),
    ("TimeSeriesSplit(3)", False, False, False),
    ("LeaveOneGroupOut()", False, False, True),
    ("LeavePGroupsOut(2)", False, False, True),
    ("LeaveOneOut()", False, False, False),
    ("PredefinedSplit(test_fold)", False, False, False),
]


@pytest.mark.parametrize("expr, shuffles, stratified, grouped", SPLITTERS)
def test_every_splitter_records_each_fold_exactly(ip, expr, shuffles, stratified, grouped):
    ok(ip, SETUP)
    run(ip, "%reprotrack start")
    groups_arg = ", groups=groups" if grouped else ""
    ok(ip, f"cv = ms.{expr}\nfolds = list(cv.split(X, y{groups_arg}))")
    folds = ip.user_ns["folds"]
    record = cells()[-1]
    assert len(record.splits) == len(folds) > 1
    name = expr.split("(")[0]
    for i, (entry, (train, test)) in enumerate(zip(record.splits, folds)):
        assert entry["api"] == f"{name}.split"
        assert entry["fold"] == i
        assert entry["n_samples"] == 30
        assert entry["shuffle"] is shuffles
        assert entry["stratify"] is stratified
        assert entry["groups"] is grouped
        assert entry["random_state"] == (0 if shuffles else None)
        np.testing.assert_array_equal(decoded(entry["parts"]["train"]), train)
        np.testing.assert_array_equal(decoded(entry["parts"]["test"]), test)
        assert entry["parts"]["train"]["size"] == len(train)
        assert entry["parts"]["test"]["sha256"] == indices.digest(test)
    # the folds themselves are what scikit-learn gives without tracking
    run(ip, "%reprotrack stop")
    ok(ip, f"plain = list(ms.{expr}.split(X, y{groups_arg}))")
    for (a, b), (c, d) in zip(folds, ip.user_ns["plain"]):
        assert a.dtype == c.dtype and np.array_equal(a, c) and np.array_equal(b, d)
    assert not record.notes


@pytest.mark.parametrize("kind", ["frame", "list"])
def test_splitters_accept_frames_and_lists(ip, kind):
    ok(ip, SETUP)
    ok(ip, "frame = pd.DataFrame(X, index=[f'r{i}' for i in range(30)])\nrows = X.tolist()")
    run(ip, "%reprotrack start")
    data = "frame" if kind == "frame" else "rows"
    ok(ip, f"folds = list(ms.StratifiedKFold(5).split({data}, y))")
    record = cells()[-1]
    assert [e["n_samples"] for e in record.splits] == [30] * 5
    for entry, (train, test) in zip(record.splits, ip.user_ns["folds"]):
        np.testing.assert_array_equal(decoded(entry["parts"]["test"]), test)


# -- train_test_split -------------------------------------------------------------------------------
TTS_INPUTS = {
    "ndarray": "A = np.arange(60).reshape(20, 3) * 1.5",
    "list": "A = [[i, i * 2] for i in range(20)]",
    "frame-str-index": "A = pd.DataFrame({'a': np.arange(20), 'b': list('abcdefghijklmnopqrst')}, index=[f'id{i}' for i in range(20)])",
    "frame-shuffled-int-index": "A = pd.DataFrame({'a': np.arange(20.0)}, index=np.random.RandomState(1).permutation(20) * 7)",
    "frame-duplicate-index": "A = pd.DataFrame({'a': np.arange(20)}, index=[1, 2] * 10)",
    "series": "A = pd.Series(np.arange(20) ** 2, index=pd.date_range('2024-01-01', periods=20))",
    "frame-multiindex": "A = pd.DataFrame({'a': np.arange(20)}, index=pd.MultiIndex.from_product([list('abcd'), range(5)]))",
    "frame-categorical": "A = pd.DataFrame({'c': pd.Categorical(list('xyz') * 6 + ['x', 'y'])}, index=np.arange(20)[::-1])",
    "sparse": "import scipy.sparse as sp\nA = sp.csr_matrix(np.eye(20))",
}


def _rows(obj, idx):
    if isinstance(obj, (pd.DataFrame, pd.Series)):
        return obj.iloc[idx]
    if isinstance(obj, list):
        return [obj[i] for i in idx]
    return obj[idx]


def _same(a, b):
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    elif isinstance(a, pd.Series):
        pd.testing.assert_series_equal(a, b, check_exact=True)
    elif isinstance(a, list):
        assert a == b
    elif hasattr(a, "toarray"):
        assert type(a) is type(b) and (a != b).nnz == 0
    else:
        assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)


@pytest.mark.parametrize("kind", sorted(TTS_INPUTS))
@pytest.mark.parametrize(
    "options",
    ["test_size=0.3, random_state=4", "shuffle=False", "test_size=5, random_state=0, stratify=yy"],
)
def test_train_test_split_indices_are_the_rows_returned(ip, kind, options):
    ok(ip, "import numpy as np, pandas as pd\nfrom sklearn.model_selection import train_test_split\nyy = np.array([0, 1] * 10)")
    ok(ip, TTS_INPUTS[kind])
    run(ip, "%reprotrack start")
    call = f"train_test_split(A, yy, {options})"
    ok(ip, f"out = {call}")
    tracked = ip.user_ns["out"]
    [entry] = cells()[-1].splits
    assert entry["api"] == "train_test_split" and entry["fold"] is None and entry["n_samples"] == 20
    assert entry["shuffle"] is ("shuffle=False" not in options)
    assert entry["stratify"] is ("stratify" in options)
    train = decoded(entry["parts"]["train"])
    test = decoded(entry["parts"]["test"])
    assert len(tracked) == 4
    _same(tracked[0], _rows(ip.user_ns["A"], train))
    _same(tracked[1], _rows(ip.user_ns["A"], test))
    np.testing.assert_array_equal(tracked[2], ip.user_ns["yy"][train])
    np.testing.assert_array_equal(tracked[3], ip.user_ns["yy"][test])
    # bit-identical to an untracked call
    run(ip, "%reprotrack stop")
    ok(ip, f"plain = {call}")
    for a, b in zip(tracked, ip.user_ns["plain"]):
        _same(a, b)


def test_unseeded_split_draws_the_same_global_numbers_as_untracked(ip):
    """The index probe must not change how many draws the global generator serves."""
    ok(ip, "import numpy as np\nfrom sklearn.model_selection import train_test_split, KFold\nX = np.arange(100).reshape(50, 2)")
    src = "np.random.seed(7)\nout = train_test_split(X, X[:, 0])\nfolds = list(KFold(5, shuffle=True).split(X))\nafter = np.random.rand(3)"
    run(ip, "%reprotrack start")
    ok(ip, src)
    tracked = {k: ip.user_ns[k] for k in ("out", "folds", "after")}
    assert len(cells()[-1].splits) == 6
    run(ip, "%reprotrack stop")
    ok(ip, src)
    for a, b in zip(tracked["out"], ip.user_ns["out"]):
        assert np.array_equal(a, b)
    for (a, b), (c, d) in zip(tracked["folds"], ip.user_ns["folds"]):
        assert np.array_equal(a, c) and np.array_equal(b, d)
    assert np.array_equal(tracked["after"], ip.user_ns["after"])


@pytest.mark.parametrize(
    "call",
    [
        "train_test_split(X, X[:-1])",
        "train_test_split()",
        "train_test_split(X, test_size=2.5)",
        "train_test_split(X, shuffle=False, stratify=X[:, 0])",
        "list(KFold(60).split(X))",
        "list(StratifiedKFold(3).split(X, None))",
        "KFold(5, random_state=1)",
    ],
)
def test_errors_are_the_librarys_own(ip, call):
    ok(ip, "import numpy as np\nfrom sklearn.model_selection import train_test_split, KFold, StratifiedKFold\nX = np.arange(100).reshape(50, 2)")
    plain = run(ip, call).error_in_exec
    run(ip, "%reprotrack start")
    tracked = run(ip, call).error_in_exec
    assert plain is not None and type(tracked) is type(plain) and str(tracked) == str(plain)
    assert not any("internal error" in n for n in cells()[-1].notes)


# -- splits made inside model selection helpers ---------------------------------------------------------
NESTED = """
import numpy as np
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV, KFold, StratifiedKFold, cross_val_score, cross_validate
X, y = load_iris(return_X_y=True)
"""


def test_nested_cv_inside_grid_search_records_outer_and_inner_folds(ip):
    ok(ip, NESTED)
    run(ip, "%reprotrack start")
    ok(
        ip,
        "inner = GridSearchCV(LogisticRegression(max_iter=500), {'C': [0.1, 1.0]}, cv=KFold(3, shuffle=True, random_state=1))\n"
        "outer = StratifiedKFold(4, shuffle=True, random_state=2)\n"
        "scores = cross_val_score(inner, X, y, cv=outer)",
    )
    record = cells()[-1]
    outer = [e for e in record.splits if e["api"] == "StratifiedKFold.split"]
    inner = [e for e in record.splits if e["api"] == "KFold.split"]
    assert [e["fold"] for e in outer] == [0, 1, 2, 3]
    assert all(e["n_samples"] == 150 for e in outer)
    # each outer training part (112, 112, 113, 113 rows) is split again (3 folds) by the search: 4 x 3 inner
    # folds, of which those over equally many rows are the same positions: recorded once, with a count
    assert len(inner) == 6 and sum(e["calls"] for e in inner) == 12
    assert sorted({e["n_samples"] for e in inner}) == sorted({e["parts"]["train"]["size"] for e in outer})
    from sklearn.model_selection import StratifiedKFold

    expected = list(StratifiedKFold(4, shuffle=True, random_state=2).split(ip.user_ns["X"], ip.user_ns["y"]))
    for entry, (train, test) in zip(outer, expected):
        np.testing.assert_array_equal(decoded(entry["parts"]["test"]), test)
    assert not [r for r in record.randomness if not r["seeded"]]


@pytest.mark.parametrize(
    "src, api, folds",
    [
        ("cross_validate(LogisticRegression(max_iter=500), X, y, cv=5)", "StratifiedKFold.split", 5),
        ("GridSearchCV(LogisticRegression(max_iter=500), {'C': [0.5, 1.0]}, cv=3).fit(X, y)", "StratifiedKFold.split", 3),
        (
            "RandomizedSearchCV(LogisticRegression(max_iter=500), {'C': [0.5, 1.0, 2.0]}, n_iter=2, random_state=0,"
            " cv=KFold(4, shuffle=True, random_state=3)).fit(X, y)",
            "KFold.split",
            4,
        ),
        ("cross_val_score(LogisticRegression(max_iter=500), X, y, cv=[(np.arange(100), np.arange(100, 150))])", "_CVIterableWrapper.split", 1),
    ],
)
def test_splits_inside_model_selection_helpers(ip, src, api, folds):
    ok(ip, NESTED)
    run(ip, "%reprotrack start")
    ok(ip, src)
    record = cells()[-1]
    assert [e["api"] for e in record.splits] == [api] * folds
    assert [e["fold"] for e in record.splits] == list(range(folds))


def test_identical_folds_in_one_cell_are_recorded_once_with_a_count(ip):
    ok(ip, NESTED)
    run(ip, "%reprotrack start")
    ok(ip, "for _ in range(3):\n    cross_val_score(LogisticRegression(max_iter=300), X, y, cv=KFold(5))")
    record = cells()[-1]
    assert len(record.splits) == 5 and all(e["calls"] == 3 for e in record.splits)


def test_many_folds_keep_digests_beyond_the_indexed_cap(ip, monkeypatch):
    monkeypatch.setattr(split_capture, "MAX_FOLDS", 150)
    ok(ip, "import numpy as np\nfrom sklearn.model_selection import LeavePOut\nX = np.zeros((30, 1))")
    run(ip, "%reprotrack start")
    ok(ip, "folds = list(LeavePOut(2).split(X))")  # 435 folds
    record = cells()[-1]
    folds = ip.user_ns["folds"]
    assert len(folds) == 435 and len(record.splits) == 150
    indexed = [e for e in record.splits if e["parts"]["test"]["indices"] is not None]
    assert len(indexed) == split_capture.MAX_INDEXED_FOLDS
    for entry, (train, test) in zip(record.splits, folds):
        assert entry["parts"]["test"]["sha256"] == indices.digest(test)
        assert entry["parts"]["train"]["size"] == 28
    assert any("285 more fold(s) not recorded" in n for n in record.notes)


def test_folds_are_recorded_lazily_as_drawn(ip):
    ok(ip, "import numpy as np\nfrom sklearn.model_selection import KFold\nX = np.zeros((10, 1))")
    run(ip, "%reprotrack start")
    ok(ip, "g = KFold(5).split(X)\nfirst = next(g)\nsecond = next(g)\ng.close()")
    assert [e["fold"] for e in cells()[-1].splits] == [0, 1]
    ok(ip, "import inspect\nkind = inspect.isgenerator(KFold(2).split(X))")
    assert ip.user_ns["kind"] is True


def test_nothing_is_recorded_outside_tracked_cells(ip):
    ok(ip, "import numpy as np\nfrom sklearn.model_selection import KFold, train_test_split\nX = np.zeros((10, 1))")
    run(ip, "%reprotrack start")
    from sklearn.model_selection import KFold, train_test_split

    list(KFold(2).split(np.zeros((4, 1))))
    train_test_split([1, 2, 3, 4], random_state=0)
    assert cells() == [] or all(not c.splits for c in cells())


def test_a_user_splitter_returning_a_list_keeps_it(ip):
    ok(ip, SETUP)
    ok(
        ip,
        "class Halves(ms.KFold):\n    def split(self, X, y=None, groups=None):\n"
        "        return list(super().split(X, y, groups))",
    )
    run(ip, "%reprotrack start")
    ok(ip, "folds = Halves(2).split(X)\nkind = type(folds).__name__")
    assert ip.user_ns["kind"] == "list"
    assert [e["api"] for e in cells()[-1].splits] == ["Halves.split"] * 2


def test_start_stop_start_tracks_again(ip):
    ok(ip, SETUP)
    for _ in range(2):
        run(ip, "%reprotrack start")
        ok(ip, "parts = ms.train_test_split(X, random_state=0)")
        assert len(cells()[-1].splits) == 1
        run(ip, "%reprotrack stop")


def test_stop_restores_every_original(ip):
    import sklearn.model_selection as ms
    from sklearn.model_selection import _split

    classes = [c for c in vars(_split).values() if isinstance(c, type)]
    before = {c: dict(vars(c)) for c in classes}
    tts = (ms.train_test_split, _split.train_test_split)
    ok(ip, "from sklearn.model_selection import train_test_split")
    run(ip, "%reprotrack start")
    ok(ip, "x = 1")
    assert vars(_split._BaseKFold)["split"] is not before[_split._BaseKFold]["split"]
    assert vars(_split.StratifiedKFold)["split"].__wrapped__ is before[_split.StratifiedKFold]["split"]
    assert ip.user_ns["train_test_split"] is not tts[0]
    assert ip.user_ns["train_test_split"].__wrapped__ is tts[0]
    run(ip, "%reprotrack stop")
    for cls in classes:
        assert dict(vars(cls)) == before[cls], cls
    assert (ms.train_test_split, _split.train_test_split) == tts
    assert ip.user_ns["train_test_split"] is tts[0]


# -- a real kernel -----------------------------------------------------------------------------------
KERNEL_CELLS = [
    "import numpy as np, pandas as pd\nfrom sklearn.datasets import load_iris\n"
    "from sklearn.model_selection import train_test_split, cross_val_score, StratifiedKFold\n"
    "from sklearn.ensemble import RandomForestClassifier",
    "np.random.seed(0)\nX, y = load_iris(return_X_y=True, as_frame=True)\nX = X.sample(frac=1.0, random_state=3)\ny = y.loc[X.index]\n"
    "X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=1, stratify=y)\n"
    "print([X.index.get_loc(i) for i in X_tr.index])",
    "m = RandomForestClassifier(n_estimators=10, random_state=0).fit(X_tr, y_tr)\nprint(m.predict_proba(X_te).tolist())\n"
    "print(cross_val_score(m, X, y, cv=StratifiedKFold(3, shuffle=True, random_state=0)).tolist())\nprint(np.random.rand(2).tolist())",
]


@pytest.mark.kernel
def test_in_a_real_kernel_libraries_imported_after_start_are_tracked_and_results_unchanged(tmp_path):
    from conftest import execute_notebook, write_notebook

    from reprotrack import store

    tracked = write_notebook(
        tmp_path / "tracked.ipynb",
        ["%load_ext reprotrack\n%reprotrack start", *KERNEL_CELLS, "v = np.random.default_rng().random()", "%reprotrack save"],
    )
    plain = write_notebook(tmp_path / "plain.ipynb", KERNEL_CELLS)
    out = execute_notebook(tracked, env={"JPY_SESSION_NAME": str(tracked)})
    ref = execute_notebook(plain)

    def stdout(cell):
        return "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stdout")

    for i in range(len(KERNEL_CELLS)):
        assert stdout(out.cells[i + 1]) == stdout(ref.cells[i]) != "" or i == 0
    lock = store.read_lock(tmp_path / "tracked.reprotrack.lock")
    imports, split_cell, model_cell, unseeded = lock.cells
    [tts] = split_cell.splits
    printed = eval(stdout(out.cells[2]))  # noqa: S307 - our own notebook's printed list of ints
    assert tts["api"] == "train_test_split" and tts["stratify"] is True and tts["random_state"] == 1
    assert indices.decode(tts["parts"]["train"]["indices"]).tolist() == printed
    assert {"api": "numpy.random.seed", "value": 0} in split_cell.seeds
    assert [e["api"] for e in model_cell.splits] == ["StratifiedKFold.split"] * 3
    assert {"api": "sklearn.ensemble.RandomForestClassifier(random_state=)", "value": 0} in model_cell.seeds
    assert all(r["seeded"] for c in (split_cell, model_cell) for r in c.randomness)
    assert unseeded.randomness[0]["source"] == "numpy.random.default_rng" and not unseeded.randomness[0]["seeded"]
    warnings = [o.get("text", "") for c in out.cells for o in c.outputs if "unseeded randomness" in o.get("text", "")]
    assert len(warnings) == 1 and "default_rng" in warnings[0]


def test_patched_functions_still_pickle(ip):
    import pickle

    cloudpickle = pytest.importorskip("cloudpickle")  # what joblib (loky) pickles with

    import sklearn.model_selection as ms

    run(ip, "%reprotrack start")
    ok(ip, "x = 1")
    for func in (ms.train_test_split, np.random.default_rng, np.random.seed, ms.KFold.split, pd.DataFrame.sample):
        assert getattr(func, "__wrapped__", None) is not None, func
        assert pickle.loads(pickle.dumps(func)) is func
        clone = cloudpickle.loads(cloudpickle.dumps(func))
        assert clone is func or clone.__wrapped__ is func.__wrapped__
    for func in (split_capture._REENTRY,):
        assert cloudpickle.loads(cloudpickle.dumps(func)).depth == 0


def test_a_failure_inside_the_capture_never_reaches_the_cell(ip, monkeypatch):
    ok(ip, SETUP)
    ok(
        ip,
        "class Odd(ms.KFold):\n    @property\n    def random_state(self):\n        raise RuntimeError('hostile')\n"
        "    @random_state.setter\n    def random_state(self, value):\n        pass",
    )
    run(ip, "%reprotrack start")

    def broken(*args, **kwargs):
        raise MemoryError("simulated failure inside reprotrack")

    monkeypatch.setattr(indices, "describe_part", broken)
    ok(ip, "folds = list(ms.KFold(3).split(X))\nparts = ms.train_test_split(X, y, random_state=0)\nodd = list(Odd(2).split(X))")
    assert len(ip.user_ns["folds"]) == 3 and len(ip.user_ns["parts"]) == 4 and len(ip.user_ns["odd"]) == 2
    assert cells()[-1].splits == []
    monkeypatch.undo()
    run(ip, "%reprotrack stop")
    ok(ip, "plain = ms.train_test_split(X, y, random_state=0)")
    for a, b in zip(ip.user_ns["parts"], ip.user_ns["plain"]):
        assert np.array_equal(a, b)
