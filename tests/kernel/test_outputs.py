"""The outputs capture in real shells and a real kernel: the stdout/stderr tee is invisible to the user and
to code that inspects or swaps the streams, records bounded normalised text, and the displayed result is
summarised with its numbers and nan/inf."""

from __future__ import annotations

import json
import sys
import time

import pytest
from conftest import execute_notebook, run, write_notebook

from reprotrack import store
from reprotrack.core.lockfile import CellRecord
from reprotrack.core.noise import rules as normalise
from reprotrack.kernel import session
from reprotrack.kernel.capture.outputs import MAX_CAPTURE_CHARS, OutputCapture, StreamTee
from reprotrack.kernel.session import CellContext


def start(ip):
    run(ip, "%reprotrack start")
    return session.active()


def last_outputs(ip) -> dict:
    return session.active().cells[-1].outputs


def test_printed_text_is_recorded_and_the_user_sees_it_unchanged(ip, capsys):
    start(ip)
    capsys.readouterr()
    run(ip, "print('accuracy:', 0.9561)\nprint('fit in 1.23 s')")
    assert capsys.readouterr().out == "accuracy: 0.9561\nfit in 1.23 s\n"
    out = last_outputs(ip)["stdout"]
    assert out["text"] == "accuracy: 0.9561\nfit in <duration>"
    assert out["numbers"] == [0.9561] and out["nan_or_inf"] is False
    assert out["sha256"] == normalise._sha256(out["text"])
    assert sys.stdout is not None and type(sys.stdout) is not StreamTee  # put back after the cell


def test_a_cell_that_prints_nothing_and_returns_none_records_nothing(ip):
    start(ip)
    run(ip, "x = 1")
    assert last_outputs(ip) == {}


def test_carriage_return_keeps_the_final_state(ip, capsys):
    start(ip)
    run(ip, "for i in range(3):\n    print(f'epoch {i}', end='\\r')\nprint('epoch 2 loss=0.25')")
    assert last_outputs(ip)["stdout"]["text"] == "epoch 2 loss=0.25"
    assert "epoch 0\r" in capsys.readouterr().out  # the user's stream got every write


def test_large_output_is_bounded_and_progress_output_is_compacted(ip, capsys):
    start(ip)
    run(ip, "for i in range(20000):\n    print(f'line {i} ' + 'x' * 20)")
    out = last_outputs(ip)["stdout"]
    assert out["truncated"] is True
    assert out["chars"] <= MAX_CAPTURE_CHARS and len(out["text"]) == normalise.EXCERPT_CHARS
    assert len(capsys.readouterr().out) > 20000 * 25  # the user still saw everything
    # a long-running progress line rewrites itself far beyond the bound; its final state survives
    run(ip, "import sys\nfor i in range(30000):\n    print(f'\\rbatch {i}/29999', end='', file=sys.stderr)\nprint(' done loss=0.5', file=sys.stderr)")
    err = last_outputs(ip)["stderr"]
    assert err["text"] == "batch 29999/29999 done loss=0.5" and err["truncated"] is False


def test_a_cell_that_swaps_sys_stdout_itself(ip, capsys):
    start(ip)
    before = sys.stdout
    run(ip, "import contextlib, io, sys\nbuf = io.StringIO()\nwith contextlib.redirect_stdout(buf):\n    print('hidden')\nprint('shown')")
    assert ip.user_ns["buf"].getvalue() == "hidden\n"
    assert last_outputs(ip)["stdout"]["text"] == "shown"
    assert sys.stdout is before
    # a cell that replaces sys.stdout for good keeps its choice; the proxy it replaced does not linger
    run(ip, "import io, sys\nkept = sys.stdout\nsys.stdout = io.StringIO()\nprint('into the StringIO')")
    try:
        assert isinstance(sys.stdout, __import__("io").StringIO)
        assert sys.stdout.getvalue() == "into the StringIO\n"
    finally:
        sys.stdout = before
    # a proxy kept by user code (a logging handler would) forwards, and records once into the running cell
    run(ip, "kept.write('late write\\n')")
    assert last_outputs(ip)["stdout"]["text"] == "late write"
    assert capsys.readouterr().out.count("late write") == 1


def test_a_proxy_put_back_in_a_later_cell_or_session_is_unwrapped(ip, capsys):
    before = sys.stdout
    start(ip)
    run(ip, "import sys\nkept = sys.stdout")
    run(ip, "sys.stdout = kept  # the proxy of an earlier cell, put back\nprint('one')")
    assert sys.stdout is before
    run(ip, "%reprotrack stop")
    run(ip, "sys.stdout = kept")
    start(ip)  # a new session, a new capture
    run(ip, "print('two')")
    assert last_outputs(ip)["stdout"]["text"] == "two"
    assert sys.stdout is before
    assert capsys.readouterr().out.count("two") == 1


def test_a_cell_that_raises_mid_print(ip, capsys):
    start(ip)
    before = sys.stdout
    result = run(ip, "print('partial result 0.5')\nraise ValueError('boom')\nprint('never')")
    assert result.error_in_exec is not None
    assert sys.stdout is before
    record = session.active().cells[-1]
    assert record.status == "error"
    assert record.outputs["stdout"]["text"].startswith("partial result 0.5")


def test_warnings_on_stderr_are_normalised_and_tracker_lines_left_out(ip):
    start(ip)
    # pytest records warnings itself: show this one the way Python does outside pytest
    run(
        ip,
        "import sys, warnings\nwith warnings.catch_warnings():\n    warnings.showwarning = lambda m, c, f, n, file=None, line=None: \\\n"
        "        sys.stderr.write(warnings.formatwarning(m, c, f, n, line))\n"
        "    warnings.simplefilter('always')\n    warnings.warn('careful')\nprint('reprotrack: not the user', file=sys.stderr)",
    )
    text = last_outputs(ip)["stderr"]["text"]
    assert text == "<cell>:6: UserWarning: careful\n<cell source line>"  # the quoted code: sources are never stored
    assert "reprotrack" not in text


def test_stream_attributes_are_forwarded(ip):
    start(ip)
    original = sys.stdout
    run(
        ip,
        "import sys, io\n"
        "facts = (sys.stdout.isatty(), sys.stdout.encoding, isinstance(sys.stdout, type(sys.__stdout__)),\n"
        "         isinstance(sys.stdout, io.TextIOBase) == isinstance(sys.__stdout__, io.TextIOBase),\n"
        "         sys.stdout.writable(), sys.stdout.flush())\n"
        "try:\n    fd = sys.stdout.fileno()\nexcept Exception as exc:\n    fd = type(exc).__name__",
    )
    isatty, encoding, same_class, same_base, writable, flushed = ip.user_ns["facts"]
    assert isatty == original.isatty() and encoding == original.encoding
    assert same_class is (isinstance(original, type(sys.__stdout__)))
    assert same_base and writable and flushed is None


def test_the_result_is_fingerprinted_and_numbers_kept(ip):
    start(ip)
    run(ip, "0.9561")
    result = last_outputs(ip)["result"]
    assert result["value"] == 0.9561 and result["fingerprint"]["type"].endswith("float")
    assert "stdout" not in last_outputs(ip)  # a terminal's Out[n] echo is the result, not printed text
    run(ip, "import numpy as np\nnp.array([0.91, 0.93, np.nan])")
    result = last_outputs(ip)["result"]
    assert result["values"] == [0.91, 0.93, "nan"] and result["nan_or_inf"] == ["nan"]
    run(ip, "import pandas as pd\npd.DataFrame({'a': [1.0, float('inf')], 'b': ['x', 'y']})")
    result = last_outputs(ip)["result"]
    assert result["nan_or_inf"] == ["inf"] and "values" not in result
    run(ip, "(0.5, 2)")
    assert last_outputs(ip)["result"]["values"] == [0.5, 2]
    run(ip, "1.0;")  # not displayed: no result
    assert "result" not in last_outputs(ip)
    s = session.active()
    s.save()
    json.dumps(store.read_lock(s.lock_path).to_dict(), allow_nan=False)


def test_a_hostile_result_never_breaks_the_cell(ip, capsys):
    start(ip)
    run(ip, "class Hostile:\n    def __repr__(self):\n        return 'hostile'\n    def __getattr__(self, name):\n        raise RuntimeError(name)\n    def __eq__(self, other):\n        raise RuntimeError('eq')\n    __hash__ = None\nHostile()")
    result = last_outputs(ip)["result"]
    assert result["fingerprint"]["type"].endswith("Hostile")
    assert "Traceback" not in capsys.readouterr().err


def test_user_rules_from_pyproject_reach_the_capture_and_a_bad_one_is_reported(ip, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no notebook: the session's folder is the working folder
    (tmp_path / "pyproject.toml").write_text('[tool.reprotrack]\nnormalise = [["run id: \\\\w+", "run id: <run>"]]\n')
    s = session.Session(ip)
    s.start()
    run(ip, "import os\nprint('run id: a8f3 saved', os.path.join(os.getcwd(), 'model.pkl'))")
    assert last_outputs(ip)["stdout"]["text"] == "run id: <run> saved <notebook-dir>/model.pkl"
    s.stop()
    (tmp_path / "pyproject.toml").write_text('[tool.reprotrack]\nnormalise = [["(unclosed", "x"]]\n')
    bad = session.Session(ip)
    bad.start()
    assert any("normalise regex" in note and "default settings" in note for note in bad.notes), bad.notes
    run(ip, "print('still captured')")
    assert last_outputs(ip)["stdout"]["text"] == "still captured"


def test_stop_restores_streams_and_displayhook(ip):
    before_out, before_err = sys.stdout, sys.stderr
    start(ip)
    run(ip, "print('x')")
    run(ip, "%reprotrack stop")
    assert sys.stdout is before_out and sys.stderr is before_err
    assert "start_displayhook" not in vars(ip.displayhook)


def test_per_cell_cost_of_a_silent_cell_is_microseconds(ip, capsys):
    capture = OutputCapture()
    capture.install(session.Session(ip))
    ctx = CellContext(record=CellRecord(id="c", order=1, source_sha256="0"), source="x = 1", shell=ip)
    n = 2000
    t0 = time.perf_counter()
    for _ in range(n):
        capture.before_cell(ctx)
        capture.after_cell(ctx)
    per_cell = (time.perf_counter() - t0) / n
    assert ctx.record.outputs == {}
    assert per_cell < 50e-6, f"{per_cell * 1e6:.1f} µs per silent cell"
    # a cell printing a few metric lines: normalised, summarised and hashed well under a millisecond
    lines = "".join(f"fold {i}: accuracy 0.95{i}, fit in 0.0{i} s\n" for i in range(5))
    n = 200
    t0 = time.perf_counter()
    for _ in range(n):
        capture.before_cell(ctx)
        sys.stdout.write(lines)
        capture.after_cell(ctx)
    per_cell = (time.perf_counter() - t0) / n
    capture.uninstall()
    assert ctx.record.outputs["stdout"]["numbers"][:2] == [0, 0.95]
    assert per_cell < 1e-3, f"{per_cell * 1e6:.1f} µs per cell printing {len(lines)} characters"


NOTEBOOK_CELLS = [
    "import sys, io, warnings\nimport ipykernel.iostream",
    "print('accuracy:', 0.9561)\nprint('fit in 1.23 s')",
    "facts = [sys.stdout.isatty(), sys.stdout.encoding, isinstance(sys.stdout, ipykernel.iostream.OutStream),\n"
    "         isinstance(sys.stderr, io.TextIOBase), hasattr(sys.stdout, 'set_parent')]\n"
    "try:\n    facts.append(sys.stdout.fileno() >= 0)\nexcept Exception as exc:\n    facts.append(type(exc).__name__)\nprint(facts)",
    "for i in range(4):\n    print(f'\\r{i * 25:3d}%|{\"#\" * i:<4}| {i}/4', end='', file=sys.stderr)\nprint(file=sys.stderr)\nprint('trained')",
    "warnings.warn('careful')",
    "import numpy as np\nscores = np.array([0.9, 0.95])\nscores.mean()",
]


@pytest.mark.kernel
def test_the_tee_in_a_real_kernel_leaves_visible_outputs_unchanged(tmp_path):
    plain = write_notebook(tmp_path / "plain.ipynb", NOTEBOOK_CELLS)
    tracked = write_notebook(
        tmp_path / "tracked.ipynb", ["%load_ext reprotrack\n%reprotrack start", *NOTEBOOK_CELLS, "%reprotrack save"]
    )
    out_plain = execute_notebook(plain)
    out_tracked = execute_notebook(tracked, env={"JPY_SESSION_NAME": str(tracked)})

    def visible(nb, cells):
        shown = []
        for cell in cells:
            streams = {}
            for o in cell.outputs:
                if o["output_type"] == "stream":
                    streams[o["name"]] = streams.get(o["name"], "") + o["text"]
                elif o["output_type"] == "execute_result":
                    streams["result"] = o["data"]["text/plain"]
            shown.append({k: normalise.normalise_text(v) for k, v in streams.items()})
        return shown

    assert visible(out_tracked, out_tracked.cells[1:-1]) == visible(out_plain, out_plain.cells)
    assert "[False, 'UTF-8', True, True, True" in out_tracked.cells[3].outputs[0]["text"]

    lock = store.read_lock(tmp_path / "tracked.reprotrack.lock")
    by_source = {c.index: c.outputs for c in lock.cells}
    assert by_source[2]["stdout"]["text"] == "accuracy: 0.9561\nfit in <duration>"
    assert by_source[4]["stdout"]["text"] == "trained" and "stderr" not in by_source[4]  # bar dropped
    assert by_source[5]["stderr"]["text"].startswith("<cell>:1: UserWarning: careful")
    assert by_source[6]["result"]["value"] == 0.925


NOISY_CELLS = [
    "import logging, sys, tempfile, time, warnings\nimport numpy as np\nimport pandas as pd\n"
    "from sklearn.datasets import load_breast_cancer\nfrom sklearn.linear_model import LogisticRegression\n"
    "from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split\n"
    "from sklearn.ensemble import RandomForestClassifier\n"
    "X, y = load_breast_cancer(return_X_y=True)\nX = (X - X.mean(axis=0)) / X.std(axis=0)\n"
    "X_tr, X_te, y_tr, y_te = train_test_split(X, y, random_state=0)",
    # library warning with an install path and a line number; estimator result
    "LogisticRegression(max_iter=2).fit(X_tr, y_tr)",
    "%time s = sum(range(10000))",
    "%timeit -n 5 -r 2 sum(range(100))",
    "gs = GridSearchCV(LogisticRegression(), {'C': [0.1, 1]}, cv=3, verbose=2).fit(X_tr, y_tr)\n"
    "print(f'best C {gs.best_params_[\"C\"]}, score {gs.best_score_:.4f}')",
    "t0 = time.time()\nscores = cross_val_score(LogisticRegression(), X_tr, y_tr, cv=3)\n"
    "print(f'cross-validated in {time.time() - t0:.2f}s')\nscores",
    "print(object())\nprint(tempfile.mkdtemp())\nwarnings.warn('a user warning')",
    "for i in range(5):\n    print(f'\\r{i * 25:3d}%|{\"#\" * i:<4}| {i}/4 [00:0{i}<00:00, {np.random.default_rng(i).random():.2f}it/s]',"
    " end='', file=sys.stderr)\nprint(file=sys.stderr)",
    "logging.basicConfig(stream=sys.stdout, format='%(asctime)s %(levelname)s %(message)s', force=True)\n"
    "logging.getLogger().warning('data loaded: %d rows', len(X))",
    "pd.DataFrame(X[:5, :3], columns=['a', 'b', 'c']).describe()",
    # unseeded randomness: a real difference between two runs
    # shallow trees on one random feature each: leaf fractions, so two unseeded forests never print the same mean
    # (3 full-depth trees gave votes of k/3, and two runs could land on the same mean)
    "proba = RandomForestClassifier(n_estimators=5, max_depth=3, max_features=1).fit(X_tr, y_tr)"
    ".predict_proba(X_te)[:, 1].mean()\n"
    "print(f'mean probability {proba:.6f}')",
]


@pytest.mark.kernel
def test_a_realistic_notebook_run_twice_differs_only_where_it_really_does(tmp_path):
    """Two runs in fresh kernels: every noise kind above compares equal; the unseeded forest does not."""
    from reprotrack.core.diff.outputs import compare_outputs

    locks = []
    for run_name in ("research", "replay"):
        folder = tmp_path / run_name
        folder.mkdir()
        nb = write_notebook(folder / "nb.ipynb", ["%load_ext reprotrack\n%reprotrack start", *NOISY_CELLS, "%reprotrack save"])
        execute_notebook(nb, env={"JPY_SESSION_NAME": str(nb)})
        locks.append(store.read_lock(folder / "nb.reprotrack.lock"))
    research, replay = locks
    assert len(research.cells) == len(replay.cells) == len(NOISY_CELLS)
    found = {
        cell_a.index: compare_outputs(cell_a.outputs, cell_b.outputs, rtol=1e-9, atol=1e-12)
        for cell_a, cell_b in zip(research.cells, replay.cells)
    }
    last = len(NOISY_CELLS)
    assert {i: f for i, f in found.items() if f and i != last} == {}
    [forest] = found[last]
    assert forest.cause == "metric-changed" and forest.message.startswith("printed mean probability 0.")
    # the noise really was there to be removed
    outputs = {c.index: c.outputs for c in research.cells}
    assert outputs[2]["stderr"]["text"].startswith("<site-packages>/sklearn/linear_model/_logistic.py:<line>: ConvergenceWarning")
    assert outputs[2]["result"]["fingerprint"]["type"].endswith("LogisticRegression")
    assert outputs[3]["stdout"]["text"] == "CPU times: <duration>\nWall time: <duration>"
    assert outputs[4]["stdout"]["text"] == "<timeit>"
    assert "total time=<duration>" in outputs[5]["stdout"]["text"]
    assert len(outputs[6]["result"]["values"]) == 3
    assert outputs[7]["stdout"]["text"].startswith("<object object at <address>>\n<tmp>/tmp<random>")
    assert "stderr" not in outputs[8]
    assert outputs[9]["stdout"]["text"] == "<timestamp> WARNING data loaded: 569 rows"


def test_writefile_says_the_same_whether_or_not_the_file_was_there(ip, capsys):
    """A replay runs where the research run already wrote the file: "Overwriting" is not a change."""
    start(ip)
    cell = "%%writefile feats.py\nX = 1\n"
    run(ip, cell)
    first = last_outputs(ip)["stdout"]
    run(ip, cell)
    assert "Overwriting feats.py" in capsys.readouterr().out  # what the user sees is unchanged
    assert last_outputs(ip)["stdout"] == first
    run(ip, "print('Overwriting the defaults')")  # the words alone, printed by a cell, are kept
    assert "Overwriting the defaults" in last_outputs(ip)["stdout"]["text"]
