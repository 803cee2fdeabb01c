"""The rules behind the corpus's zero false alarms, one by one and without a kernel: durations inside results
(printed and as values), clock readings in variables, the shell's own packages, and the unexplained root's
account of what was checked."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from reprotrack.core.diff import compare
from reprotrack.core.fingerprint import fingerprint
from reprotrack.core.lockfile import CellRecord, Lock, sha256_text
from reprotrack.core.noise import durations
from reprotrack.core.noise.rules import normalise_text, summarise_text
from reprotrack.kernel.capture.environment import SHELL_TOOLING, imported_distributions
from reprotrack.kernel.capture.names import names_of_source
from reprotrack.kernel.capture.outputs import summarise_result


def _cv_results(fit_times) -> dict:
    return {"mean_fit_time": np.array(fit_times), "std_fit_time": np.array(fit_times) / 10,
            "mean_score_time": np.array(fit_times) / 3, "std_score_time": np.array(fit_times) / 30,
            "param_C": np.array([0.1, 1.0, 10.0]), "mean_test_score": np.array([0.91, 0.93, 0.95]),
            "rank_test_score": np.array([3, 2, 1])}


# -- printed text -------------------------------------------------------------------------------------
def test_printed_cross_validate_dicts_keep_their_scores_and_lose_their_timings():
    a = {"fit_time": np.array([0.0057888, 0.00503063]), "score_time": np.array([0.001, 0.002]),
         "test_score": np.array([0.95, 0.96])}
    b = {**a, "fit_time": np.array([0.5, 12.25]), "score_time": np.array([0.3, 0.0001])}
    assert normalise_text(str(a)) == normalise_text(str(b))
    assert "'test_score': array([0.95, 0.96])" in normalise_text(str(a))
    changed = {**a, "test_score": np.array([0.95, 0.97])}
    assert normalise_text(str(a)) != normalise_text(str(changed))


def test_printed_cv_results_tables_mask_the_timing_columns_only():
    fast = pd.DataFrame(_cv_results([0.0057, 0.0123, 0.00001]))
    slow = pd.DataFrame(_cv_results([1.5, 0.123, 12.0]))
    assert normalise_text(fast.to_string()) == normalise_text(slow.to_string())
    text = normalise_text(fast.to_string())
    assert "<duration>" in text and "0.95" in text and "0.0057" not in text
    other_score = pd.DataFrame({**_cv_results([0.0057, 0.0123, 0.00001]),
                                "mean_test_score": np.array([0.91, 0.93, 0.96])})
    assert normalise_text(other_score.to_string()) != text
    assert normalise_text(text) == text  # idempotent


def test_a_data_column_merely_ending_in_time_is_data():
    a = pd.DataFrame({"delivery_time": [1.5, 2.5]})
    b = pd.DataFrame({"delivery_time": [1.5, 2.75]})
    assert normalise_text(a.to_string()) != normalise_text(b.to_string())
    assert durations.without_durations(a) == (a, [])


# -- values ------------------------------------------------------------------------------------------
def test_timing_columns_and_keys_are_left_out_of_recorded_values():
    fast, slow = pd.DataFrame(_cv_results([0.1, 0.2, 0.3])), pd.DataFrame(_cv_results([0.4, 0.5, 0.6]))
    a, b = summarise_result(fast), summarise_result(slow)
    assert a["fingerprint"]["content"] == b["fingerprint"]["content"]
    assert a["run"]["durations_left_out"] == ["mean_fit_time", "mean_score_time", "std_fit_time", "std_score_time"]
    scores = {"fit_time": np.array([0.1]), "score_time": np.array([0.2]), "test_score": np.array([0.9])}
    other = {**scores, "fit_time": np.array([0.3])}
    assert summarise_result(scores)["fingerprint"] == summarise_result(other)["fingerprint"]
    assert summarise_result(scores)["fingerprint"] != summarise_result({**scores, "test_score": np.array([0.8])})[
        "fingerprint"]


def test_a_refitted_search_has_the_same_fingerprint_whatever_its_timings():
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV

    X, y = load_iris(return_X_y=True)
    search = GridSearchCV(LogisticRegression(max_iter=200), {"C": [0.1, 1.0]}, cv=3).fit(X, y)
    before = fingerprint(search)
    slower = copy.deepcopy(search)
    slower.refit_time_ += 1.0
    slower.cv_results_["mean_fit_time"] = slower.cv_results_["mean_fit_time"] + 1.0
    assert fingerprint(slower)["content"] == before["content"]
    slower.cv_results_["mean_test_score"] = slower.cv_results_["mean_test_score"] + 0.01
    assert fingerprint(slower)["content"] != before["content"]


# -- clock readings ----------------------------------------------------------------------------------
@pytest.mark.parametrize("source, clocks", [
    ("start = time.perf_counter()", {"start"}),
    ("deadline = time.perf_counter() + 0.3\nsteps = 0", {"deadline"}),
    ("t0 = perf_counter()\nfit(X)\nelapsed = round(perf_counter() - t0, 2)\nrate = len(X) / elapsed",
     {"t0", "elapsed", "rate"}),
    ("stamp = datetime.datetime.now()", {"stamp"}),
    ("total = 0.0\nfor b in batches:\n    t = time.time()\n    total += time.time() - t", {"t", "total"}),
    ("score = train(deadline - time.time())", set()),
    ("w = w - lr * grad(w)\nsteps += 1", set()),
    ("def f():\n    inner = time.time()\n", set()),
])
def test_names_bound_to_clock_readings_are_not_data(source, clocks):
    assert set(names_of_source(source).clocks) == clocks


# -- environment -------------------------------------------------------------------------------------
def test_the_shells_own_traceback_and_completion_helpers_are_not_packages_of_the_run():
    import stack_data  # noqa: F401 - imported by IPython at the first traceback it shows

    assert not set(imported_distributions()) & SHELL_TOOLING


# -- the unexplained root ----------------------------------------------------------------------------
def test_unexplained_names_the_seeds_files_and_versions_it_found_equal():
    env = {"python": "3.11.4", "packages": {"numpy": "1.26.4", "scikit-learn": "1.4.2", "tqdm": "4.66.0"},
           "threadpools": [{"internal_api": "openblas", "num_threads": 4}], "variables": {}}

    def study(score: float) -> Lock:
        return Lock(environment=copy.deepcopy(env), notebook="study.ipynb", cells=[
            CellRecord(id="c0", index=0, order=0, source_sha256=sha256_text("seed"),
                       seeds=[{"api": "numpy.random.seed", "value": 0}],
                       inputs=[{"path": "data.csv", "bytes": 10, "content": "xxh3-128:aa"}]),
            CellRecord(id="c1", index=1, order=1, source_sha256=sha256_text("fit"),
                       randomness=[{"source": "numpy.random (global generator)", "seeded": True, "calls": 1}],
                       outputs={"stdout": summarise_text(f"score {score}\n")}),
        ])

    report = compare(study(0.91), study(0.88))
    root = report.findings[0]
    assert (root.kind, root.cause, root.cell_index, root.upstream_of) == ("output", "unexplained", 1, None)
    for said in ("numpy.random.seed=0", "1 read before it", "all 3 package versions", "numpy 1.26.4",
                 "scikit-learn 1.4.2", "openblas: 4", "it drew seeded: numpy.random (global generator)",
                 "PYTHONHASHSEED"):
        assert said in root.message, (said, root.message)
