"""Randomness capture in real IPython shells with real scikit-learn, pandas and numpy: every unseeded pattern
is caught in the cell where it happens with one warning naming the call; fully seeded code gets none;
default_rng entropy can be pinned on replay; results are bit-identical with and without tracking."""

from __future__ import annotations

import dataclasses
import sys
import time

import numpy as np
import pytest
from conftest import run

from reprotrack.kernel import session
from reprotrack.kernel.capture import randomness

SETUP = """
import random
import numpy as np, pandas as pd
import sklearn.utils
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split, KFold, ShuffleSplit, GroupShuffleSplit, cross_val_score
X, y = make_classification(n_samples=80, n_features=5, random_state=0)
df = pd.DataFrame(X, columns=list("abcde"))
"""


def ok(ip, source):
    result = run(ip, source)
    assert result.success, result.error_in_exec or result.error_before_exec
    return result


def cells():
    return session.active().cells


def warnings_in(text):
    return [line for line in text.splitlines() if "drew unseeded randomness" in line]


SEEDED = """
np.random.seed(0)
random.seed(0)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)
model = RandomForestClassifier(n_estimators=20, random_state=0).fit(X_train, y_train)
proba = model.predict_proba(X_test)
scores = cross_val_score(RandomForestClassifier(n_estimators=5, random_state=1), X, y, cv=KFold(4, shuffle=True, random_state=2))
sampled = df.sample(frac=0.5, random_state=1)
noise = np.random.default_rng(42).normal(size=5)
legacy = np.random.rand(3)
coin = random.random()
shuffled = sklearn.utils.shuffle(X, random_state=3)
logit = LogisticRegression().fit(X, y).coef_
"""


def test_fully_seeded_code_gives_no_warning_at_all(ip, capsys):
    ok(ip, SETUP)
    run(ip, "%reprotrack start")
    for line in SEEDED.strip().splitlines():  # one statement per cell, as notebooks often are
        ok(ip, line)
    ok(ip, SEEDED)  # and all in one cell
    out = capsys.readouterr()
    assert warnings_in(out.out + out.err) == []
    assert all(not c.notes for c in cells())
    draws = [r for c in cells() for r in c.randomness]
    assert draws and all(r["seeded"] for r in draws)  # the seeded global draws are still recorded, as seeded
    assert {r["source"] for r in draws} == {"numpy.random (global generator)", "random (Python global generator)"}


UNSEEDED = [
    ("Xa, Xb = train_test_split(X)", "sklearn.model_selection.train_test_split", "random_state"),
    ("f = list(KFold(3, shuffle=True).split(X))", "sklearn.model_selection.KFold.split", "random_state"),
    ("f = list(ShuffleSplit(2).split(X))", "sklearn.model_selection.ShuffleSplit.split", "random_state"),
    ("f = list(GroupShuffleSplit(2).split(X, groups=np.arange(80) % 8))", "sklearn.model_selection.GroupShuffleSplit.split", "random_state"),
    ("m = RandomForestClassifier(n_estimators=3).fit(X, y)", "sklearn.ensemble.RandomForestClassifier.fit", "random_state"),
    ("s = cross_val_score(RandomForestClassifier(n_estimators=3), X, y, cv=3)", "sklearn.ensemble.RandomForestClassifier.fit", "random_state"),
    ("s = df.sample(5)", "pandas.DataFrame.sample", "random_state"),
    ("s = df['a'].sample(frac=0.1)", "pandas.Series.sample", "random_state"),
    ("s = df.groupby(df['a'] > 0).sample(2)", "pandas.DataFrameGroupBy.sample", "random_state"),
    ("s = sklearn.utils.shuffle(X)", "sklearn.utils.shuffle", "random_state"),
    ("s = sklearn.utils.resample(X, n_samples=5)", "sklearn.utils.resample", "random_state"),
    ("v = np.random.default_rng().normal()", "numpy.random.default_rng", "default_rng(<int>)"),
    ("v = np.random.rand(3)", "numpy.random (global generator)", "np.random.seed"),
    ("v = np.random.permutation(10)", "numpy.random (global generator)", "np.random.seed"),
    ("v = random.random()", "random (Python global generator)", "random.seed"),
    ("v = np.random.RandomState().rand()", "numpy.random.RandomState()", "RandomState(<int>)"),
]


@pytest.mark.parametrize("src, source, fix", UNSEEDED, ids=[u[1] + ":" + u[0][:25] for u in UNSEEDED])
def test_each_unseeded_pattern_is_caught_in_its_cell(ip, capsys, src, source, fix):
    ok(ip, SETUP)
    run(ip, "%reprotrack start")
    ok(ip, "before = 1")
    ok(ip, src)
    ok(ip, "after = 1")
    before, cell, after = cells()
    assert not before.randomness and not after.randomness
    unseeded = [r for r in cell.randomness if not r["seeded"]]
    assert source in [r["source"] for r in unseeded]
    out = capsys.readouterr()
    lines = warnings_in(out.out + out.err)
    assert lines == [f"reprotrack: In [{cell.execution_count}] drew unseeded randomness from {source}; " + lines[0].split("; ", 1)[1]]
    assert fix in lines[0]
    assert len(cell.notes) == 1 and source in cell.notes[0]


def test_seeding_the_global_generator_makes_its_draws_seeded(ip, capsys):
    ok(ip, SETUP)
    run(ip, "%reprotrack start")
    ok(ip, "np.random.seed(5)")
    assert cells()[-1].randomness == []  # seeding is not drawing
    ok(ip, "Xa, Xb = train_test_split(X)\nm = RandomForestClassifier(n_estimators=3).fit(X, y)\ns = df.sample(3)")
    draws = cells()[-1].randomness
    assert {r["source"] for r in draws} >= {
        "sklearn.model_selection.train_test_split",
        "sklearn.ensemble.RandomForestClassifier.fit",
        "pandas.DataFrame.sample",
        "numpy.random (global generator)",
    }
    assert all(r["seeded"] for r in draws)
    ok(ip, "np.random.seed(None)")  # re-seeding from OS entropy is not a seed
    ok(ip, "v = np.random.rand()")
    assert [r["seeded"] for r in cells()[-1].randomness] == [False]
    assert cells()[-1].randomness[0]["fix"].startswith("call np.random.seed(<int>)")  # the report's advice
    out = capsys.readouterr()
    assert len(warnings_in(out.out + out.err)) == 1


def test_a_draw_before_the_seed_in_the_same_cell_is_still_seen_as_seeded_only_after(ip):
    ok(ip, SETUP)
    run(ip, "%reprotrack start")
    ok(ip, "np.random.seed(1)\nv = np.random.rand()")
    assert cells()[-1].randomness == [{"source": "numpy.random (global generator)", "seeded": True, "calls": 1}]


def test_import_time_default_rng_is_not_the_users_draw(ip, tmp_path):
    (tmp_path / "modwithrng.py").write_text("import numpy as np\nRNG = np.random.default_rng()\nR2 = np.random.default_rng(5)\n")
    ok(ip, f"import sys\nsys.path.insert(0, {str(tmp_path)!r})\nimport numpy as np")
    run(ip, "%reprotrack start")
    ok(ip, "import modwithrng")
    assert cells()[-1].randomness == [] and cells()[-1].seeds == []


def test_unseeded_default_rng_records_its_entropy_and_pins_replay(ip):
    ok(ip, "import numpy as np")
    run(ip, "%reprotrack start")
    src = "a = np.random.default_rng().random(3)\nb = np.random.default_rng().integers(0, 1000, 5)"
    ok(ip, src)
    first = (ip.user_ns["a"], ip.user_ns["b"])
    ok(ip, src)  # the same cell run again: other entropy
    second = (ip.user_ns["a"], ip.user_ns["b"])
    research = [dataclasses.asdict(c) for c in cells()]
    entropies = [[r["entropy"] for r in c["randomness"]] for c in research]
    assert all(len(e) == 2 for e in entropies) and entropies[0] != entropies[1]
    run(ip, "%reprotrack stop")

    # a replay: a new session, pins installed, the cell run twice as in the research run
    run(ip, "%reprotrack start")
    randomness.install_pins(research)
    try:
        ok(ip, src)
        assert np.array_equal(ip.user_ns["a"], first[0]) and np.array_equal(ip.user_ns["b"], first[1])
        ok(ip, src)
        assert np.array_equal(ip.user_ns["a"], second[0]) and np.array_equal(ip.user_ns["b"], second[1])
        replay = [dataclasses.asdict(c) for c in cells()]
        assert [[r["entropy"] for r in c["randomness"]] for c in replay] == entropies
        assert all(r["run"] == {"pinned": True} for c in replay for r in c["randomness"])
        ok(ip, "c = np.random.default_rng(3).random()")  # seeded calls are never pinned
        assert ip.user_ns["c"] == np.random.default_rng(3).random()
    finally:
        randomness.install_pins([])
    ok(ip, src)
    assert not np.array_equal(ip.user_ns["a"], first[0])


def test_global_generators_drawn_unseeded_are_pinned_on_replay(ip):
    ok(ip, SETUP)
    run(ip, "%reprotrack start")
    ok(ip, "warm = np.random.rand(7)")  # global state moves on between cells
    src = "Xa, Xb = train_test_split(X)\nm = RandomForestClassifier(n_estimators=3).fit(Xa, y[:60]).predict_proba(Xb)\nc = random.random()"
    ok(ip, src)
    research = [dataclasses.asdict(c) for c in cells()]
    first = {k: ip.user_ns[k] for k in ("Xa", "m", "c")}
    states = {r["source"]: r["run"]["state"] for r in research[-1]["randomness"] if "run" in r}
    assert set(states) == {"numpy.random (global generator)", "random (Python global generator)"}
    run(ip, "%reprotrack stop")

    run(ip, "%reprotrack start")
    randomness.install_pins(research)
    try:
        ok(ip, "warm = np.random.rand(2)")  # a different warm-up: the pin restores the recorded state anyway
        ok(ip, src)
        for name, value in first.items():
            assert np.asarray(ip.user_ns[name]).tobytes() == np.asarray(value).tobytes(), name
        replayed = dataclasses.asdict(cells()[-1])["randomness"]
        assert {r["source"]: r["run"]["state"] for r in replayed if "run" in r} == states
        assert all(not r["seeded"] for r in replayed)  # pinning is not seeding: the finding stays
        assert all(r["run"].get("pinned") for r in replayed if "state" in r.get("run", {}))
    finally:
        randomness.install_pins([])


def test_tracking_does_not_change_results(ip):
    """The same seeded scikit-learn code, untracked then tracked, gives bit-identical outputs."""
    ok(ip, SETUP)
    names = ["X_train", "X_test", "y_train", "proba", "scores", "sampled", "noise", "legacy", "coin", "shuffled", "logit"]
    ok(ip, SEEDED)
    plain = {n: ip.user_ns[n] for n in names}
    run(ip, "%reprotrack start")
    ok(ip, SEEDED)
    assert len(cells()[-1].splits) == 5
    for name in names:
        a, b = plain[name], ip.user_ns[name]
        if hasattr(a, "equals"):
            assert a.equals(b) and a.index.equals(b.index), name
        else:
            assert np.asarray(a).tobytes() == np.asarray(b).tobytes(), name


def test_global_fingerprints_are_cheap():
    import random as _random

    _random.random()
    n = 2000
    t0 = time.perf_counter()
    for _ in range(n):
        randomness.python_fingerprint()
        randomness.numpy_fingerprint()
    per_call = (time.perf_counter() - t0) / n
    assert per_call < 100e-6, per_call  # measured ~9 µs for both together
    before = randomness.numpy_fingerprint()
    np.random.random()
    assert randomness.numpy_fingerprint() != before
    before = randomness.python_fingerprint()
    _random.random()
    assert randomness.python_fingerprint() != before


def test_stop_restores_every_patched_method(ip):
    import pandas as pd
    import sklearn.ensemble  # noqa: F401 - its classes exist before the snapshot, whatever ran before in this process
    import sklearn.utils
    from sklearn.base import BaseEstimator

    def estimator_classes():
        seen, stack = set(), [BaseEstimator]
        while stack:
            for sub in type.__subclasses__(stack.pop()):
                if sub not in seen:
                    seen.add(sub)
                    stack.append(sub)
        return seen

    classes = estimator_classes()
    before = {c: dict(vars(c)) for c in classes}
    others = (pd.core.generic.NDFrame.sample, np.random.default_rng, sklearn.utils.shuffle, sklearn.utils.resample)
    run(ip, "%reprotrack start")
    ok(ip, "x = 1")
    from sklearn.ensemble._forest import BaseForest as forest

    assert vars(forest)["fit"] is not before[forest]["fit"]
    assert np.random.default_rng is not others[1]
    run(ip, "%reprotrack stop")
    for cls in classes:
        assert dict(vars(cls)) == before[cls], cls
    after = (pd.core.generic.NDFrame.sample, np.random.default_rng, sklearn.utils.shuffle, sklearn.utils.resample)
    assert all(a is b for a, b in zip(after, others))
    assert "sklearn" in sys.modules


def test_notebook_estimators_still_run_in_joblib_workers(ip, tmp_path):
    """Classes defined in the notebook travel to loky workers by value: tracking must keep them picklable."""
    ok(ip, SETUP)
    run(ip, "%reprotrack start")
    ok(
        ip,
        "from sklearn.base import BaseEstimator, ClassifierMixin\n"
        "class Majority(ClassifierMixin, BaseEstimator):\n"
        "    def __init__(self, random_state=None):\n        self.random_state = random_state\n"
        "    def fit(self, X, y):\n        self.classes_ = np.unique(y); self.value_ = np.bincount(y).argmax(); return self\n"
        "    def predict(self, X):\n        return np.full(len(X), self.value_)\n",
    )
    (tmp_path / "freshmodule.py").write_text("VALUE = 1\n")  # a new module: the capture rescans classes
    ok(ip, f"import sys\nsys.path.insert(0, {str(tmp_path)!r})\nimport freshmodule")
    ok(ip, "scores = cross_val_score(Majority(), X, y, cv=KFold(4), n_jobs=2)")
    assert len(ip.user_ns["scores"]) == 4
    assert [e["api"] for e in cells()[-1].splits] == ["KFold.split"] * 4
