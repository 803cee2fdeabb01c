"""Output noise normalisation: each rule on text copied from real kernel output (scikit-learn 1.9, IPython 9,
ipykernel 7), the rules' idempotence, and that real differences survive normalisation."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reprotrack.core.noise.rules import (
    EXCERPT_CHARS,
    MAX_NUMBERS,
    collapse_carriage_returns,
    compact_tail,
    mask_numbers,
    normalise_text,
    numbers,
    summarise_text,
)

CONVERGENCE_RESEARCH = (
    "/home/alice/.venv/lib/python3.11/site-packages/sklearn/linear_model/_logistic.py:599: ConvergenceWarning: "
    "lbfgs failed to converge after 5 iteration(s) (status=1):\nSTOP: TOTAL NO. OF ITERATIONS REACHED LIMIT\n\n"
    "Increase the number of iterations to improve the convergence (max_iter=5).\n"
    "  n_iter_i = _check_optimize_result(\n"
)
CONVERGENCE_STAGING = CONVERGENCE_RESEARCH.replace(
    "/home/alice/.venv/lib/python3.11/site-packages/", "/opt/conda/envs/prod/lib/python3.12/site-packages/"
).replace("_logistic.py:599:", "_logistic.py:612:")


def test_sklearn_convergence_warning_from_two_installs_is_the_same_text():
    a, b = normalise_text(CONVERGENCE_RESEARCH), normalise_text(CONVERGENCE_STAGING)
    assert a == b
    assert a.startswith("<site-packages>/sklearn/linear_model/_logistic.py:<line>: ConvergenceWarning: lbfgs")
    assert "(max_iter=5)" in a  # the message itself is kept


def test_kernel_temporary_cell_files_become_cell():
    research = "/tmp/ipykernel_9220/2608338407.py:2: UserWarning: careful\n  warnings.warn('careful')\n"
    staging = "/tmp/ipykernel_31/99120.py:2: UserWarning: careful\n  warnings.warn('careful')\n"
    windows = "C:\\Users\\bob\\AppData\\Local\\Temp\\ipykernel_4242\\1234.py:2: UserWarning: careful\n  warnings.warn('careful')"
    terminal = "<ipython-input-5-a451affa21b8>:2: UserWarning: careful\n  warnings.warn('careful')"
    expected = "<cell>:2: UserWarning: careful\n  warnings.warn('careful')"
    assert {normalise_text(t) for t in (research, staging, windows, terminal)} == {expected}
    # the line in the user's cell is the user's code: it stays
    assert normalise_text(research.replace(":2:", ":3:")) != expected


def test_ipython_time_and_timeit_output():
    time_a = "CPU times: user 18 μs, sys: 3 μs, total: 21 μs\nWall time: 24.3 μs\n"
    time_b = "CPU times: user 1.2 ms, sys: 0 ns, total: 1.2 ms\nWall time: 1.31 ms\n"
    assert normalise_text(time_a) == normalise_text(time_b) == "CPU times: <duration>\nWall time: <duration>"
    timeit_a = "1.13 μs ± 128 ns per loop (mean ± std. dev. of 2 runs, 10 loops each)\n"
    timeit_b = "98.7 ns ± 3.01 ns per loop (mean ± std. dev. of 7 runs, 10,000,000 loops each)\n"
    assert normalise_text(timeit_a) == normalise_text(timeit_b) == "<timeit>"
    cached = "The slowest run took 5.12 times longer than the fastest. This could mean that an intermediate result is being cached.\n"
    assert normalise_text(cached + timeit_a) == "<timeit>"


def test_tracebacks_printed_by_user_code():
    research = (
        'Traceback (most recent call last):\n  File "/tmp/ipykernel_4411/3021.py", line 3, in <module>\n    model.fit(X)\n'
        '  File "/home/a/.venv/lib/python3.11/site-packages/sklearn/base.py", line 1389, in wrapper\n'
        "ValueError: Input X contains NaN."
    )
    staging = research.replace("/tmp/ipykernel_4411/3021.py", "/tmp/ipykernel_8/77.py").replace(
        "/home/a/.venv/lib/python3.11/site-packages", "/opt/conda/lib/python3.12/site-packages"
    ).replace("line 1389", "line 1402")
    assert normalise_text(research) == normalise_text(staging)
    assert '  File "<cell>", line 3, in <module>' in normalise_text(research)
    assert '  File "<site-packages>/sklearn/base.py", line <line>, in wrapper' in normalise_text(research)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("fit in 1.23 s", "fit in 0.98 s"),
        ("Training took 3.2s", "Training took 12s"),
        ("Elapsed: 12.53", "Elapsed: 9.1"),
        ("elapsed time 0:00:01.234567", "elapsed time 0:00:02.5"),
        ("done after 15 ms", "done after 1.5 minutes"),
        ("[Parallel(n_jobs=2)]: Done  10 out of  10 | elapsed:    0.3s finished",
         "[Parallel(n_jobs=2)]: Done  10 out of  10 | elapsed:   10.4s finished"),
        ("[CV] END ....C=1; total time=   0.0s", "[CV] END ....C=1; total time=  12.1s"),
        ("2026-11-22 22:41:42,123 INFO fitting", "2026-11-23 09:01:07,999 INFO fitting"),
        ("throughput 35.2it/s", "throughput 1,002.1it/s".replace(",", "")),
    ],
)
def test_durations_timestamps_and_rates_are_noise(a, b):
    assert normalise_text(a) == normalise_text(b)


def test_a_duration_rule_does_not_eat_real_numbers():
    assert normalise_text("accuracy 0.95, n_samples 569, max_iter=5") == "accuracy 0.95, n_samples 569, max_iter=5"
    assert numbers(normalise_text("fit in 1.2 s: accuracy 0.95")) == [0.95]


def test_tqdm_bars_are_dropped_and_carriage_returns_keep_the_final_state():
    bar = (
        "\r  0%|    | 0/4 [00:00<?, ?it/s]\r 25%|#   | 1/4 [00:01<00:03, 1.00it/s]"
        "\r100%|####| 4/4 [00:04<00:00, 1.00it/s]\n"
    )
    unicode_bar = "Epochs: 100%|██████████| 10/10 [00:02<00:00,  4.01it/s]\n"
    assert normalise_text(bar + "loss 0.31\n") == "loss 0.31"
    assert normalise_text(unicode_bar + "done") == "done"
    assert normalise_text("epoch 1/3\repoch 2/3\repoch 3/3 loss=0.25\n") == "epoch 3/3 loss=0.25"
    assert normalise_text("50%\r\n100%\r\n") == "50%\n100%"  # CRLF is a newline, not an overwrite
    assert normalise_text("\x1b[31mred\x1b[0m text") == "red text"


def test_compacting_a_stream_while_it_is_written_does_not_change_its_final_state():
    chunks = ["step 1", "\r", "step 2", "\rstep 3", "\r", "\n", "next", "\r", "half", "\rfin", "al\n"]
    whole = "".join(chunks)
    text = ""
    for chunk in chunks:
        text = compact_tail(text + chunk)
    assert collapse_carriage_returns(text) == collapse_carriage_returns(whole) == "step 3\nfinal\n"


def test_memory_addresses_and_ids():
    a = "<object object at 0x7ff90a122b50>\n<__main__.Model object at 0x7f3a1b2c3d40>"
    b = "<object object at 0x10c4a2f90>\n<__main__.Model object at 0x55d0c0ffee00>"
    assert normalise_text(a) == normalise_text(b) == "<object object at <address>>\n<__main__.Model object at <address>>"
    assert normalise_text("[<matplotlib.lines.Line2D at 0x7f0e4c5d6a90>]") == "[<matplotlib.lines.Line2D at <address>>]"
    assert normalise_text("widget 6c3a3c0e-38b5-4a33-a07c-8c5e07dfe1d1 model 0123456789abcdef0123456789abcdef") == (
        "widget <uuid> model <id>"
    )
    assert normalise_text("id=140234567890123") == "id=<id>"
    # a short hex literal is data, not an address
    assert normalise_text("flags 0xff") == "flags 0xff"


def test_estimator_html_ids_and_figure_reprs():
    html_a = '<div class="sk-top-container"><div id="sk-container-id-1" class="sk-container"><input id="sk-estimator-id-1">'
    html_b = '<div class="sk-top-container"><div id="sk-container-id-7" class="sk-container"><input id="sk-estimator-id-12">'
    assert normalise_text(html_a) == normalise_text(html_b)
    assert normalise_text("<Figure size 640x480 with 1 Axes>") == normalise_text("<Figure size 432x288 with 1 Axes>")
    assert normalise_text("<Figure size 640x480 with 1 Axes>") == "<Figure with 1 Axes>"
    assert normalise_text("<Figure size 640x480 with 2 Axes>") != normalise_text("<Figure size 640x480 with 1 Axes>")


def test_home_temporary_and_known_folders():
    assert normalise_text("saved /home/alice/models/m.pkl") == normalise_text("saved /Users/bob/models/m.pkl") == "saved ~/models/m.pkl"
    assert normalise_text("wrote /tmp/tmpab12_x9z/part.csv") == "wrote <tmp>/tmp<random>/part.csv"
    assert normalise_text("wrote /var/folders/x1/k3j2/T/tmpq0w9e8r7/part.csv") == "wrote <tmp>/tmp<random>/part.csv"
    paths = [("/srv/ci/build/project", "<notebook-dir>")]
    assert normalise_text("read /srv/ci/build/project/data.csv", paths=paths) == "read <notebook-dir>/data.csv"
    stdlib = "/usr/lib/python3.11/warnings.py:109: DeprecationWarning: x"
    assert normalise_text(stdlib) == "<stdlib>/warnings.py:<line>: DeprecationWarning: x"


def test_prompts_tracker_lines_trailing_blanks():
    assert normalise_text("Out[12]: 6") == normalise_text("Out[3]: 6") == "Out[<n>]: 6"
    assert normalise_text("Cell In[8], line 1\n----> 1 1/0") == "Cell In[<n>], line 1\n----> 1 1/0"
    assert normalise_text("reprotrack: internal error in data after cell\nkept  \n\n") == "kept"


def test_user_rules_apply_last():
    rules = [[r"run-id: \w+", "run-id: <run>"]]
    assert normalise_text("run-id: a8f3 score 1", rules) == normalise_text("run-id: zz01 score 1", rules) == "run-id: <run> score 1"
    with pytest.raises(re.error):
        normalise_text("x", [["(", "y"]])
    with pytest.raises(ValueError):
        normalise_text("x", [["only one"]])


def test_numbers_and_masks():
    text = "accuracy: 0.9561, version 1.2.3, float64, loss nan, best -inf, lr 1e-3."
    assert [str(v) for v in numbers(text)] == ["0.9561", "nan", "-inf", "0.001"]
    assert mask_numbers(text) == "accuracy: <num>, version 1.2.3, float64, loss <num>, best <num>, lr <num>."


def test_summary_is_bounded_and_json_safe():
    import json

    raw = "".join(f"value {i}.5\n" for i in range(5000)) + "loss nan\n"
    summary = summarise_text(raw, truncated=True)
    assert len(summary["text"]) == EXCERPT_CHARS
    assert len(summary["numbers"]) == MAX_NUMBERS and summary["numbers_total"] == 5001
    assert summary["nan_or_inf"] is True and summary["truncated"] is True
    json.dumps(summary, allow_nan=False)
    assert summarise_text("reprotrack: only the tracker\n 40%|####  | 4/10 [00:01<00:01]\n") is None


REALISTIC = [CONVERGENCE_RESEARCH, "CPU times: user 18 μs\nWall time: 24.3 μs", "<object at 0x7ff90a122b50>",
             "\r 25%|#   | 1/4 [00:01<00:03, 1.00it/s]\nok", "/tmp/ipykernel_9/1.py:2: UserWarning", "took 3.2s"]


@given(st.lists(st.sampled_from(REALISTIC) | st.text(max_size=40), max_size=6))
def test_rules_are_idempotent(parts):
    once = normalise_text("\n".join(parts))
    assert normalise_text(once) == once
