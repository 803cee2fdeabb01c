"""compare_outputs: two recordings of one cell's outputs in, causes and readable sentences out.

Text summaries are made by the same function the capture uses (``summarise_text``) from realistic raw
output; result summaries by the capture's ``summarise_result`` on real numpy/pandas values,
fingerprinted with the real ``reprotrack.core.fingerprint``."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd

from reprotrack.core.diff.outputs import OutputDifference, close, compare_outputs
from reprotrack.core.noise.rules import summarise_text
from reprotrack.kernel.capture.outputs import summarise_result

TOL = {"rtol": 1e-6, "atol": 1e-12}


def printed(text: str, stream: str = "stdout") -> dict:
    return {stream: summarise_text(text)}


def causes(found: list[OutputDifference]) -> list[tuple[str, str]]:
    return [(d.cause, d.subject) for d in found]


def test_equal_outputs_give_no_difference():
    research = {**printed("Fitting 5 folds\naccuracy: 0.9561\n"), "result": summarise_result(0.9561)}
    replay = {**printed("Fitting 5 folds\naccuracy: 0.9561\n"), "result": summarise_result(0.9561)}
    assert compare_outputs(research, replay, **TOL) == []
    assert compare_outputs({}, {}, **TOL) == []
    assert compare_outputs(None, None, **TOL) == []


def test_noise_only_differences_are_not_differences():
    research = (
        "/home/alice/.venv/lib/python3.11/site-packages/sklearn/linear_model/_logistic.py:599: ConvergenceWarning: "
        "lbfgs failed to converge\n/tmp/ipykernel_9220/2608338407.py:2: UserWarning: careful\n"
    )
    staging = (
        "/opt/conda/lib/python3.12/site-packages/sklearn/linear_model/_logistic.py:612: ConvergenceWarning: "
        "lbfgs failed to converge\n/tmp/ipykernel_77/55.py:2: UserWarning: careful\n"
    )
    out_a = "CPU times: user 18 μs, sys: 3 μs, total: 21 μs\nWall time: 24.3 μs\n<Model object at 0x7ff90a122b50>\n"
    out_b = "CPU times: user 1.2 ms, sys: 0 ns, total: 1.2 ms\nWall time: 1.31 ms\n<Model object at 0x55d0c0ffee00>\n"
    bar = "\r 50%|#####     | 5/10 [00:01<00:01, 4.1it/s]\r100%|##########| 10/10 [00:02<00:00, 4.0it/s]\n"
    a = {**printed(research, "stderr"), **printed(out_a)}
    b = {**printed(staging + bar, "stderr"), **printed(out_b)}
    assert compare_outputs(a, b, **TOL) == []


def test_a_changed_printed_metric_is_metric_changed_with_its_name():
    a = printed("Fitting 5 folds for each of 4 candidates\nfit in 1.2 s\naccuracy: 0.9561\nf1 = 0.90\n")
    b = printed("Fitting 5 folds for each of 4 candidates\nfit in 3.4 s\naccuracy: 0.9386\nf1 = 0.90\n")
    [found] = compare_outputs(a, b, **TOL)
    assert (found.cause, found.subject) == ("metric-changed", "stdout")
    assert found.message == "printed accuracy 0.9561 in research, 0.9386 now"


def test_numbers_within_tolerance_are_equal_and_beyond_are_not():
    a, b = printed("loss 0.123456789\n"), printed("loss 0.1234567891\n")
    assert compare_outputs(a, b, **TOL) == []
    assert causes(compare_outputs(a, b, rtol=0, atol=0)) == [("metric-changed", "stdout")]
    assert compare_outputs(printed("score 0.95"), printed("score 0.94"), rtol=0.05, atol=0) == []


def test_many_changed_numbers_are_named_then_counted():
    a = printed("\n".join(f"fold {i}: {0.9 + i / 100:.4f}" for i in range(6)))
    b = printed("\n".join(f"fold {i}: {0.8 + i / 100:.4f}" for i in range(6)))
    [found] = compare_outputs(a, b, **TOL)
    assert found.cause == "metric-changed"
    assert found.message.startswith("printed fold 0 0.9000 in research, 0.8000 now; fold 1 0.9100 in research")
    assert found.message.endswith("(and 3 more numbers)")


def test_changed_text_is_output_changed_quoting_the_first_differing_line():
    a = printed("best params:\n{'C': 1, 'kernel': 'rbf'}\n")
    b = printed("best params:\n{'C': 1, 'kernel': 'linear'}\n")
    [found] = compare_outputs(a, b, **TOL)
    assert (found.cause, found.subject) == ("output-changed", "stdout")
    assert found.message == (
        "the text the cell printed differs at line 2: \"{'C': 1, 'kernel': 'rbf'}\" in research, "
        "\"{'C': 1, 'kernel': 'linear'}\" now"
    )
    [gone] = compare_outputs(a, {}, **TOL)
    assert gone.cause == "output-changed" and gone.message == "the cell printed 'best params:' in research, nothing now"
    [warned] = compare_outputs({}, printed("x.py:3: UserWarning: careful", "stderr"), **TOL)
    assert (warned.cause, warned.subject) == ("output-changed", "stderr")
    assert "printed to stderr" in warned.message


def test_nan_or_inf_appearing_or_present_in_research():
    [appeared] = compare_outputs(printed("loss: 0.31"), printed("loss: nan"), **TOL)
    assert appeared.cause == "nan-or-inf" and appeared.message == "printed loss 0.31 in research, nan now"
    [gone] = compare_outputs(printed("loss: inf"), printed("loss: 0.31"), **TOL)
    assert gone.cause == "nan-or-inf" and "inf in research" in gone.message
    [text] = compare_outputs(printed("val 1"), printed("diverged, loss nan after epoch 3"), **TOL)
    assert text.cause == "nan-or-inf" and "contains nan or inf now; the research run had none" in text.message
    # the same nan in both runs is the same output
    assert compare_outputs(printed("loss: nan"), printed("loss: nan"), **TOL) == []


def test_result_scalars_and_short_arrays_compare_with_tolerance():
    assert compare_outputs({"result": summarise_result(0.95)}, {"result": summarise_result(np.float64(0.95))}, **TOL) == []
    [metric] = compare_outputs({"result": summarise_result(0.9561)}, {"result": summarise_result(0.9386)}, **TOL)
    assert (metric.cause, metric.subject) == ("metric-changed", "result")
    assert metric.message == "the cell's result was 0.9561 in research, 0.9386 now"
    [nan] = compare_outputs({"result": summarise_result(0.9561)}, {"result": summarise_result(float("nan"))}, **TOL)
    assert nan.cause == "nan-or-inf" and nan.message.endswith("NaN now")
    scores_a = summarise_result(np.array([0.93, 0.95, 0.94, 0.96, 0.92]))
    scores_b = summarise_result(np.array([0.93, 0.95, 0.91, 0.96, 0.92]))
    assert compare_outputs({"result": scores_a}, {"result": dict(scores_a)}, **TOL) == []
    [folds] = compare_outputs({"result": scores_a}, {"result": scores_b}, **TOL)
    assert folds.cause == "metric-changed"
    assert folds.message == "the cell's result differs at 1 of 5 positions: [2] 0.94 in research, 0.91 now"


def result(value) -> dict:
    return {"result": summarise_result(value)}


def test_result_fingerprints_go_through_the_data_comparison():
    frame = pd.DataFrame({"x": np.linspace(0, 1, 10), "y": list("abcdefghij")})
    assert compare_outputs(result(frame), result(frame.copy()), **TOL) == []
    [rows] = compare_outputs(result(frame), result(frame.iloc[:8]), **TOL)
    assert rows.cause == "output-changed"
    assert rows.message == "the cell's result (DataFrame) differs: 2 row(s) removed (10 → 8)"
    # a change far below the tolerance is precision, not an output change; the same change with no tolerance is
    nudged = frame.assign(x=frame["x"] * (1 + 1e-12))
    assert compare_outputs(result(frame), result(nudged), **TOL) == []
    [exact] = compare_outputs(result(frame), result(nudged), rtol=0, atol=0)
    assert exact.cause == "output-changed" and "'x'" in exact.message
    [array] = compare_outputs(result(np.arange(100.0)), result(np.arange(100.0) + 1), **TOL)
    assert array.message == "the cell's result (ndarray) differs: values changed"
    [kind] = compare_outputs(result(frame), result("a string"), **TOL)
    assert kind.message == "the cell's result was a DataFrame in research, a str now"
    [appeared] = compare_outputs({}, result(frame.iloc[:2]), **TOL)
    assert appeared.message == "the cell now shows a DataFrame of shape (2, 2); in research it showed nothing"


def test_objects_the_fingerprint_does_not_know_compare_by_type():
    class Opaque:
        pass

    assert compare_outputs(result(Opaque()), result(Opaque()), **TOL) == []


def test_nan_in_a_result_frame_is_nan_or_inf():
    clean = pd.DataFrame({"x": [1.0, 2.0], "y": ["a", "b"]})
    broken = pd.DataFrame({"x": [1.0, np.nan], "y": ["a", "b"]})
    [found] = compare_outputs(result(clean), result(broken), **TOL)
    assert found.cause == "nan-or-inf"
    assert found.message == "the cell's result contains NaN now; the research run had none"


def test_user_rules_added_after_recording_apply_to_stored_excerpts():
    a, b = printed("run id: a8f3e1 accuracy 0.95"), printed("run id: zz0199 accuracy 0.95")
    assert causes(compare_outputs(a, b, **TOL)) == [("output-changed", "stdout")]
    assert compare_outputs(a, b, **TOL, rules=[[r"run id: \w+", "run id: <run>"]]) == []


def test_numbers_beyond_the_recorded_ones_are_reported_honestly():
    a = printed(" ".join(str(i) for i in range(300)))
    b = printed(" ".join(str(i) for i in range(299)) + " 1000")
    [found] = compare_outputs(a, b, **TOL)
    assert found.cause == "metric-changed" and "after the first 200" in found.message


def test_close_is_symmetric_and_treats_equal_nan_and_inf_as_equal():
    assert close(1.0, 1.0 + 1e-9, rtol=1e-6, atol=0) and close(1.0 + 1e-9, 1.0, rtol=1e-6, atol=0)
    assert close(float("nan"), float("nan"), rtol=0, atol=0)
    assert not close(float("nan"), 1.0, rtol=1, atol=1)
    assert close(float("inf"), float("inf"), rtol=0, atol=0) and not close(float("inf"), float("-inf"), rtol=1, atol=1)


def test_the_comparison_is_pure():
    code = "import sys, reprotrack.core.diff.outputs, reprotrack.core.noise.rules; print(sorted(m for m in sys.modules if m.split('.')[0] in ('IPython', 'ipykernel', 'numpy', 'pandas')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
