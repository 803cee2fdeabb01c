"""The diff: pairs of locks built by hand (with real fingerprints, real split indices and real output
summaries) for every cause of the diagnosis vocabulary, the causality chain, and the edge cases of pairing."""

from __future__ import annotations

import copy
import json

import numpy as np
import pandas as pd
import pytest
from lockbuilders import ENV, by_cause, causes, cell, frame, lock, pipeline  # noqa: E402

from reprotrack.core.diff import CAUSES, DiffOptions, compare, environment_differences
from reprotrack.core.fingerprint import fingerprint
from reprotrack.core.lockfile import dumps, loads, sha256_text
from reprotrack.core.noise.rules import summarise_text
from reprotrack.kernel.capture.outputs import summarise_result


def test_identical_locks_reproduce_with_zero_findings():
    a = pipeline(frame())
    report = compare(a, copy.deepcopy(a))
    assert (report.status, report.findings, report.first_divergence) == ("reproduced", [], None)
    assert report.to_dict() == {"status": "reproduced", "first_divergence": None, "findings": []}


def test_a_lock_through_its_own_serialisation_still_reproduces():
    a = pipeline(frame())
    assert compare(a, loads(dumps(a))).findings == []


def test_keys_named_run_are_ignored_everywhere():
    a, b = pipeline(frame()), pipeline(frame())
    a.run, b.run = {"host": "laptop", "started": 1}, {"host": "ci", "started": 2}
    for i, c in enumerate(b.cells):
        c.run = {"seconds": 10.0 + i, "cwd": "/somewhere/else"}
    b.cells[1].data["df"]["run"] = {"seconds": 3}
    b.cells[3].outputs["run"] = {"display_id": "abc"}
    b.cells[2].splits[0]["run"] = {"seconds": 1}
    assert compare(a, b).findings == []


# -- environment ------------------------------------------------------------------------------------
def test_package_version_is_an_error_under_the_exact_policy_and_a_warning_under_patch():
    other = copy.deepcopy(ENV)
    other["packages"]["numpy"] = "1.26.5"
    exact = compare(lock(cell(0), env=ENV), lock(cell(0), env=other))
    f = by_cause(exact, "package-version")
    assert (f.kind, f.subject, f.severity, exact.status) == ("environment", "numpy", "error", "differs")
    assert "1.26.4" in f.message and "1.26.5" in f.message and "numpy==1.26.4" in f.fix
    patch = compare(lock(cell(0), env=ENV), lock(cell(0), env=other), DiffOptions(env_policy="patch"))
    assert (by_cause(patch, "package-version").severity, patch.status) == ("warning", "reproduced")
    other["packages"]["numpy"] = "1.27.0"
    assert compare(lock(cell(0)), lock(cell(0), env=other), DiffOptions(env_policy="patch")).status == "differs"
    assert compare(lock(cell(0)), lock(cell(0), env=other), DiffOptions(env_policy="minor")).status == "reproduced"
    assert compare(lock(cell(0)), lock(cell(0), env=other), DiffOptions(ignore_packages=("NumPy",))).findings == []


def test_python_version_package_missing_platform_and_threads():
    other = copy.deepcopy(ENV)
    other["python"] = "3.12.1"
    del other["packages"]["pandas"]
    other["platform"]["machine"] = "arm64"
    other["platform"]["release"] = "7.0"  # a kernel release is not a difference
    other["threadpools"][0]["num_threads"] = 1
    other["variables"] = {"OMP_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}
    report = compare(lock(cell(0)), lock(cell(0), env=other))
    got = {(f.cause, f.subject, f.severity) for f in report.findings}
    assert got == {("python-version", "python", "error"), ("package-missing", "pandas", "error"),
                   ("platform", "machine", "warning"), ("blas-threads", "openblas", "warning"),
                   ("blas-threads", "OMP_NUM_THREADS", "warning"), ("platform", "PYTHONHASHSEED", "warning")}
    assert all(f.cell_index is None and f.kind == "environment" for f in report.findings)


def test_tooling_packages_only_warn_and_env_check_uses_the_same_rules():
    other = copy.deepcopy(ENV)
    other["packages"]["ipykernel"] = "7.0.0"
    found = environment_differences(ENV, other, DiffOptions())
    assert [(f.id, f.cause, f.severity) for f in found] == [("F1", "package-version", "warning")]
    assert environment_differences(ENV, copy.deepcopy(ENV)) == []


def test_a_replay_that_saved_no_environment_is_not_an_environment_difference():
    assert compare(lock(cell(0)), lock(cell(0), env={})).findings == []


# -- execution ---------------------------------------------------------------------------------------
def test_cell_missing_added_and_source_changed_with_what_it_did_downstream():
    a = pipeline(frame())
    b = pipeline(frame(), metric=0.5)
    b.cells[2].source_sha256 = sha256_text("X_train, X_test = train_test_split(df, test_size=0.5)")
    report = compare(a, b)
    src = by_cause(report, "source-changed")
    assert (src.kind, src.cell_index, src.upstream_of) == ("execution", 2, None)
    metric = by_cause(report, "metric-changed")
    assert metric.upstream_of == src.id and "metric-changed" in src.message
    assert report.first_divergence == {"cell_index": 2, "cell_id": "c2", "order": 2, "finding": src.id}

    gone = compare(lock(cell(0), cell(1), cell(2)), lock(cell(0), cell(2, order=1)))
    assert causes(gone) == [("cell-missing", 1)]
    added = compare(lock(cell(0)), lock(cell(0), cell(1)))
    assert causes(added) == [("cell-added", 1)]


def test_cells_pair_by_position_and_source_when_ids_changed_and_by_position_alone_otherwise():
    a = lock(cell(0, "x = 1", cid="old-0"), cell(1, "y = 2", cid="old-1"))
    b = lock(cell(0, "x = 1", cid="new-0"), cell(1, "y = 3", cid="new-1"))
    assert causes(compare(a, b)) == [("source-changed", 1)]


def test_a_cell_run_twice_pairs_run_by_run():
    a = lock(cell(0, data={"x": fingerprint(1)}), cell(1, order=1, data={"x": fingerprint(2)}),
             cell(1, order=2, data={"x": fingerprint(3)}))
    b = copy.deepcopy(a)
    b.cells[2].data["x"] = fingerprint(4)
    report = compare(a, b)
    assert [(f.cause, f.cell_index, f.subject) for f in report.findings if f.kind == "data"] == \
        [("values-changed", 1, "x")]
    assert report.first_divergence["order"] == 2
    fewer = compare(a, lock(cell(0, data={"x": fingerprint(1)}), cell(1, order=1, data={"x": fingerprint(2)})))
    assert causes(fewer)[-1] == ("cell-missing", 1) and "2 times" in fewer.findings[-1].message


def test_research_out_of_notebook_order_is_an_execution_order_warning_that_explains_a_top_down_replay():
    a = lock(cell(1, "x = 1", order=0), cell(0, "x = 10", order=1),
             cell(2, "print(x * 2)", order=2, outputs={"stdout": summarise_text("result: 20\n")}))
    same = compare(a, copy.deepcopy(a))
    order = by_cause(same, "execution-order")
    assert (order.severity, order.cell_index, same.status) == ("warning", 0, "reproduced")
    top_down = lock(cell(0, "x = 10", order=0), cell(1, "x = 1", order=1),
                    cell(2, "print(x * 2)", order=2, outputs={"stdout": summarise_text("result: 2\n")}))
    report = compare(a, top_down)
    order = by_cause(report, "execution-order")
    out = [f for f in report.findings if f.kind == "output"]
    assert [(f.cell_index, f.upstream_of) for f in out] == [(2, order.id)]
    assert report.status == "differs" and report.first_divergence["cell_index"] == 2


def test_a_cell_error_names_the_exception_and_later_errors_point_upstream():
    a = lock(cell(0, "df = load()", data={"df": fingerprint(frame())}), cell(1, "df['z'] = f(df)"),
             cell(2, "df['z'].mean()"))
    b = lock(cell(0, "df = load()", data={"df": fingerprint(frame())}),
             cell(1, "raise ValueError('feature store unavailable')", status="error",
                  error={"type": "ValueError", "message": "feature store unavailable"}),
             cell(2, "df['z'].mean()", status="error", error={"type": "KeyError", "message": "'z'"}))
    report = compare(a, b)
    errors = [f for f in report.findings if f.cause == "cell-error"]
    assert errors[0].cell_index == 1 and "ValueError" in errors[0].message and "feature store" in errors[0].message
    src = by_cause(report, "source-changed")
    assert errors[0].upstream_of == src.id and errors[1].upstream_of == src.id and "KeyError" in errors[1].message
    # the same error in both runs is not a difference
    same = copy.deepcopy(b)
    assert compare(b, same).findings == []


def test_an_error_nothing_explains_is_its_own_root():
    a = lock(cell(0), cell(1))
    b = lock(cell(0, status="error", error={"type": "MemoryError", "message": ""}), cell(1))
    [f] = compare(a, b).findings
    assert (f.cause, f.upstream_of, f.cell_index) == ("cell-error", None, 0)


def test_a_failed_execution_is_failed_with_the_unreached_cells_folded_under_it():
    a = pipeline(frame())
    b = lock(*copy.deepcopy(a.cells[:2]))
    report = compare(a, b, execution_error="the kernel died while running cell 2")
    assert report.status == "failed"
    root = by_cause(report, "cell-error")
    assert (root.cell_index, root.upstream_of) == (2, None) and "kernel died" in root.message
    assert [(f.cause, f.upstream_of) for f in report.findings if f.cell_index == 3] == [("cell-missing", root.id)]


# -- randomness ---------------------------------------------------------------------------------------
def test_a_changed_seed_is_the_root_of_what_follows():
    a = pipeline(frame())
    b = pipeline(frame(seed=1), seed=1)
    report = compare(a, b)
    seed = by_cause(report, "seed-changed")
    assert (seed.kind, seed.cell_index, seed.subject, seed.upstream_of) == ("randomness", 0, "numpy.random.seed", None)
    assert "0" in seed.message and "1" in seed.message
    downstream = [f for f in report.findings if f.cell_index and f.cell_index > 0]
    assert downstream and all(f.upstream_of == seed.id for f in downstream)
    assert report.first_divergence["cell_index"] == 0


def test_unseeded_randomness_is_reported_only_where_results_differ():
    draw = [{"source": "numpy.random.default_rng", "seeded": False, "calls": 1, "entropy": "123"}]
    a = lock(cell(0, randomness=draw, outputs={"stdout": summarise_text("draw: 0.1\n")}))
    b = lock(cell(0, randomness=[{**draw[0], "entropy": "456"}], outputs={"stdout": summarise_text("draw: 0.7\n")}))
    report = compare(a, b)
    root = by_cause(report, "unseeded-randomness")
    assert (root.kind, root.upstream_of, root.cell_index) == ("randomness", None, 0)
    assert [f.upstream_of for f in report.findings if f.kind == "output"] == [root.id]
    # pinned replay: same draw, same output → nothing to report
    pinned = lock(cell(0, randomness=draw, outputs={"stdout": summarise_text("draw: 0.1\n")}))
    assert compare(a, pinned).findings == []


def test_unseeded_randomness_in_an_earlier_cell_explains_a_later_difference():
    draw = [{"source": "numpy.random.default_rng", "seeded": False, "calls": 1}]
    a = lock(cell(0, randomness=draw), cell(1, data={"x": fingerprint(np.arange(5.0))}))
    b = lock(cell(0, randomness=draw), cell(1, data={"x": fingerprint(np.arange(5.0) + 3)}))
    report = compare(a, b)
    root = by_cause(report, "unseeded-randomness")
    assert root.cell_index == 0 and report.findings[0] is root
    assert all(f.upstream_of == root.id for f in report.findings[1:])
    assert "default_rng(<int>)" in root.fix  # a lock without the capture's own advice: the usual ways
    # the capture's advice for this very source, when the lock keeps it
    python = [{"source": "random (Python global generator)", "seeded": False, "calls": 1,
               "fix": "call random.seed(<int>) before drawing"}]
    a = lock(cell(0, randomness=python), cell(1, data={"x": fingerprint(np.arange(5.0))}))
    b = lock(cell(0, randomness=python), cell(1, data={"x": fingerprint(np.arange(5.0) + 3)}))
    assert by_cause(compare(a, b), "unseeded-randomness").fix == (
        "Seed it (call random.seed(<int>) before drawing) and record again, or replay with --pin-seeds.")


# -- data ---------------------------------------------------------------------------------------------
def _mutations():
    base = frame(200)
    shifted = base.copy()
    shifted["a"] = shifted["a"] + 5
    cats = base.copy()
    cats.loc[:30, "c"] = "w"
    precise = base.copy()
    precise["a"] = precise["a"] * (1 + 1e-12)
    retyped = base.copy()
    retyped["b"] = retyped["b"].astype("float64")
    changed = base.copy()
    changed.loc[3, "a"] = 1.5
    return base, {
        "rows-reordered": base.iloc[::-1],
        "rows-removed": base.iloc[:150],
        "rows-added": pd.concat([base, base.iloc[:10]]),
        "schema-changed": retyped,
        "values-changed": changed,
        "precision": precise,
        "new-categories": cats,
        "distribution-shift": shifted,
    }


@pytest.mark.parametrize("cause", list(_mutations()[1]))
def test_every_data_cause_is_classified_from_real_fingerprints(cause):
    base, mutations = _mutations()
    a = lock(cell(0, data={"df": fingerprint(base)}))
    b = lock(cell(0, data={"df": fingerprint(mutations[cause])}))
    report = compare(a, b, DiffOptions(rtol=1e-9))
    found = [f.cause for f in report.findings]
    assert cause in found, found
    first = report.findings[0]
    if found == ["precision"]:  # a warning: nothing to explain
        assert (first.kind, first.subject, first.cell_index, first.upstream_of) == ("data", "df", 0, None)
    else:  # nothing recorded explains the change: an unexplained root that says what was checked
        assert (first.kind, first.cause, first.cell_index, first.upstream_of) == ("output", "unexplained", 0, None)
        assert {f.subject for f in report.findings[1:]} == {"df"}
    assert all(f.upstream_of == first.id for f in report.findings[1:])
    assert report.status == ("reproduced" if found == ["precision"] else "differs")


def test_a_changed_input_file_explains_the_data_it_produced_and_everything_after():
    a = pipeline(frame())
    changed = frame()
    changed.loc[0, "a"] = 99.0
    b = pipeline(changed, inputs_content="sha256:bbb", metric=0.85)
    report = compare(a, b)
    root = by_cause(report, "input-file-changed")
    assert (root.kind, root.subject, root.cell_index, root.upstream_of) == ("data", "data.csv", 1, None)
    assert [f for f in report.roots() if f.severity == "error"] == [root]
    assert {f.cell_index for f in report.findings if f.upstream_of == root.id} >= {1, 3}
    assert report.first_divergence == {"cell_index": 1, "cell_id": "c1", "order": 1, "finding": root.id}


def test_data_nothing_recorded_explains_has_an_unexplained_root():
    a = lock(cell(0, data={"df": fingerprint(frame())}), cell(1, outputs={"result": summarise_result(1.0)}))
    b = lock(cell(0, data={"df": fingerprint(frame().iloc[::-1])}), cell(1, outputs={"result": summarise_result(2.0)}))
    report = compare(a, b)
    root = report.findings[0]
    assert (root.cause, root.cell_index, root.upstream_of) == ("unexplained", 0, None)
    assert by_cause(report, "rows-reordered").upstream_of == root.id
    assert by_cause(report, "metric-changed").upstream_of == root.id


# -- splits -------------------------------------------------------------------------------------------
def test_an_unseeded_split_is_explained_by_unseeded_randomness_and_counts_rows_moved():
    df = frame(40)
    a = pipeline(df, split_seed=None, split=(np.arange(30), np.arange(30, 40)))
    b = pipeline(df, split_seed=None, split=(np.r_[0:27, 30:33], np.r_[27:30, 33:40]))
    for lk in (a, b):
        lk.cells[2].randomness = [{"source": "sklearn.model_selection.train_test_split", "seeded": False}]
    report = compare(a, b)
    split = by_cause(report, "split-changed")
    root = by_cause(report, "unseeded-randomness")
    assert (split.kind, split.cell_index, split.upstream_of, root.cell_index) == ("split", 2, root.id, 2)
    assert "6 row(s) moved between train and test" in split.message and "3 train → test" in split.message
    assert "random_state" in split.fix


def test_a_split_of_other_data_points_upstream_and_says_so():
    a = pipeline(frame(40))
    b = pipeline(frame(40).iloc[:36], inputs_content="sha256:ccc")
    report = compare(a, b)
    root = by_cause(report, "input-file-changed")
    split = by_cause(report, "split-changed")
    assert split.upstream_of == root.id and "40 rows in research, 36 now" in split.message


def test_a_seeded_split_with_other_arguments_is_its_own_root_and_same_rows_in_another_order_is_said():
    a = pipeline(frame(40))
    b = pipeline(frame(40), split_seed=7)
    split = by_cause(compare(a, b), "split-changed")
    assert split.upstream_of is None and "random_state=0 → 7" in split.message
    train, test = np.arange(30), np.arange(30, 40)
    c = pipeline(frame(40), split=(train, test))
    d = pipeline(frame(40), split=(train[::-1].copy(), test))
    assert "same rows in each part, in another order" in by_cause(compare(c, d), "split-changed").message


# -- outputs ------------------------------------------------------------------------------------------
def test_an_output_nothing_explains_gets_an_unexplained_root_saying_what_was_checked():
    a = pipeline(frame())
    b = pipeline(frame(), metric=0.88)
    report = compare(a, b)
    root = by_cause(report, "unexplained")
    assert (root.kind, root.cell_index, root.upstream_of) == ("output", 3, None)
    assert "seeds" in root.message and "input files" in root.message and "package versions" in root.message
    assert {f.cause for f in report.findings if f.upstream_of == root.id} == {"metric-changed"}


def test_nan_in_outputs_is_nan_or_inf():
    a = lock(cell(0, outputs={"result": summarise_result(np.array([1.0, 2.0]))}))
    b = lock(cell(0, outputs={"result": summarise_result(np.array([1.0, np.nan]))}))
    assert "nan-or-inf" in [f.cause for f in compare(a, b).findings]


# -- checkpoints --------------------------------------------------------------------------------------
def test_checkpoints_compare_by_name_whatever_the_cells():
    a = lock(cell(0), cell(1), checkpoints={"features": fingerprint(frame()), "model": fingerprint(np.arange(3))})
    b = lock(cell(0, "a script"), checkpoints={"features": fingerprint(frame().iloc[:40])})
    report = compare(a, b)
    got = {(f.cause, f.subject) for f in report.findings if f.subject.startswith("checkpoint")}
    assert ("rows-removed", "checkpoint features") in got and ("cell-missing", "checkpoint model") in got
    same = compare(lock(checkpoints={"features": fingerprint(frame())}),
                   lock(checkpoints={"features": fingerprint(frame())}))
    assert same.findings == []


def test_every_cause_reported_is_in_the_vocabulary_and_ids_follow_report_order():
    a = pipeline(frame())
    b = pipeline(frame(seed=3), inputs_content="sha256:zzz", seed=5, split_seed=9, metric=float("nan"))
    b.environment["packages"]["numpy"] = "2.0.0"
    report = compare(a, b)
    assert [f.id for f in report.findings] == [f"F{i}" for i in range(1, len(report.findings) + 1)]
    ids = {f.id for f in report.findings}
    for f in report.findings:
        assert f.cause in CAUSES[f.kind]
        assert f.upstream_of is None or (f.upstream_of in ids and report.finding(f.upstream_of).upstream_of is None)
    for key in ("cell_index", "cell_id", "kind", "cause", "subject", "message", "upstream_of", "fix", "severity"):
        assert all(key in f for f in report.to_dict()["findings"])


def test_inputs_under_another_path_with_the_same_content_or_without_content_are_not_differences():
    a = lock(cell(0, inputs=[{"path": "/tmp/run-a/data.csv", "bytes": 5, "content": "sha256:aaa"},
                             {"path": "/tmp/run-a", "bytes": None, "content": None}]))
    b = lock(cell(0, inputs=[{"path": "/tmp/run-b/data.csv", "bytes": 5, "content": "sha256:aaa"},
                             {"path": "/tmp/run-b", "bytes": None, "content": None}]))
    assert compare(a, b).findings == []
    c = lock(cell(0, inputs=[{"path": "extra.csv", "bytes": 5, "content": "sha256:ccc"}]))
    assert causes(compare(lock(cell(0)), c)) == [("input-file-changed", 0)]


def test_the_user_s_own_code_that_changed_is_source_changed_and_roots_what_it_changed():
    module = {"path": "src/helpers.py", "bytes": 40, "reader": "import", "module": "helpers"}
    research = lock(cell(0, inputs=[{**module, "content": "xxh3-128:aaa"}]),
                    cell(1, outputs={"stdout": summarise_text("accuracy: 0.91\n")}))
    edited = lock(cell(0, inputs=[{**module, "bytes": 41, "content": "xxh3-128:bbb"}]),
                  cell(1, outputs={"stdout": summarise_text("accuracy: 0.87\n")}))
    report = compare(research, edited)
    roots = [f for f in report.findings if not f.upstream_of]
    assert [(f.kind, f.cause, f.subject, f.cell_index) for f in roots] == [
        ("execution", "source-changed", "src/helpers.py", 0)]
    assert "module helpers (src/helpers.py), imported by cell 1" in roots[0].message
    assert "(40 bytes in research, 41 now)" in roots[0].message
    assert all(f.upstream_of == roots[0].id for f in report.findings if f is not roots[0])
    # the same code under another path is the same code; a script run on one side only is named
    moved = lock(cell(0, inputs=[{**module, "path": "/elsewhere/helpers.py", "content": "xxh3-128:aaa"}]),
                 cell(1, outputs={"stdout": summarise_text("accuracy: 0.91\n")}))
    assert compare(research, moved).findings == []
    ran = lock(cell(0, inputs=[{**module, "content": "xxh3-128:aaa"},
                               {"path": "prep.py", "bytes": 3, "content": "xxh3-128:ccc", "reader": "run"}]),
               cell(1, outputs={"stdout": summarise_text("accuracy: 0.91\n")}))
    found = compare(research, ran).findings
    assert [(f.kind, f.cause, f.subject) for f in found] == [("execution", "source-changed", "prep.py")]
    assert "ran the script prep.py in the replay, not in research" in found[0].message
    # a lock written before the code was recorded says nothing about it: the other side's code is not "added"
    old = lock(cell(0), cell(1, outputs={"stdout": summarise_text("accuracy: 0.91\n")}))
    old.code_inputs = False
    assert compare(old, ran).findings == [] and compare(ran, old).findings == []
    assert loads(dumps(ran)).code_inputs is True
    raw = json.loads(dumps(ran))
    del raw["code_inputs"]
    assert loads(json.dumps(raw)).code_inputs is False


def test_an_input_the_research_run_overwrote_itself_says_so_and_names_the_writer():
    read = {"path": "data/raw.csv", "reader": "pandas.read_csv"}
    research = lock(cell(0, inputs=[{**read, "bytes": 6487, "content": "xxh3-128:aaa"}]),
                    cell(1, "df.to_csv('data/raw.csv')", run={"overwrote": [{"path": "data/raw.csv", "read_by": 0}]}))
    replay = lock(cell(0, inputs=[{**read, "bytes": 5644, "content": "xxh3-128:bbb"}]),
                  cell(1, "df.to_csv('data/raw.csv')", run={"overwrote": [{"path": "data/raw.csv", "read_by": 0}]}))
    (root,) = compare(research, replay).findings
    assert (root.kind, root.cause, root.cell_index) == ("data", "input-file-changed", 0)
    assert "the research run overwrote it itself (cell 2 wrote it after cell 1 had read it)" in root.message
    assert "make cell 2 write its result to another file" in root.fix


def test_an_intermediate_file_the_notebook_wrote_is_a_consequence_not_a_root():
    step = {"path": "step1.parquet", "reader": "pandas.read_parquet", "written_by": 2}
    def run(seed, content):
        return lock(cell(0, seeds=[{"api": "numpy.random.seed", "value": seed}]),
                    cell(1, inputs=[{**step, "bytes": 10, "content": content}]))
    report = compare(run(0, "xxh3-128:aaa"), run(1, "xxh3-128:bbb"))
    roots = [f for f in report.findings if not f.upstream_of]
    assert [(f.cause, f.cell_index) for f in roots] == [("seed-changed", 0)]
    changed = by_cause(report, "input-file-changed")
    assert changed.upstream_of == roots[0].id and "an earlier cell of the notebook wrote it" in changed.message
    # nothing upstream explains it: the cell's results are unexplained, the file under that root
    report = compare(run(0, "xxh3-128:aaa"), run(0, "xxh3-128:bbb"))
    roots = [f for f in report.findings if not f.upstream_of]
    assert [(f.cause, f.cell_index) for f in roots] == [("unexplained", 1)]
    assert by_cause(report, "input-file-changed").upstream_of == roots[0].id


def test_variables_are_compared_only_when_both_sides_recorded_them():
    old = {k: v for k, v in ENV.items() if k != "variables"}
    now = {**copy.deepcopy(ENV), "variables": {"LANG": "C.UTF-8"}}
    assert environment_differences(old, now) == []
    [f] = environment_differences(ENV, now)
    assert (f.cause, f.subject, f.severity) == ("platform", "LANG", "warning")


def test_only_the_packages_the_users_code_imported_are_compared():
    research = {**copy.deepcopy(ENV), "user_packages": ["numpy"]}
    research["packages"].update({"ipywidgets": "8.1.0", "packaging": "24.0", "tornado": "6.4"})
    script = {**copy.deepcopy(ENV), "user_packages": ["numpy"]}  # no kernel, no panel
    del script["packages"]["pandas"]
    assert environment_differences(research, script) == []
    script["packages"]["numpy"] = "2.0.0"
    [f] = environment_differences(research, script)
    assert (f.cause, f.subject) == ("package-version", "numpy")
    old = copy.deepcopy(ENV)  # a lock without the key: today's rules on the side that has none
    assert [f.subject for f in environment_differences(old, {**script, "user_packages": None})] == ["numpy", "pandas"]


def test_parts_of_a_split_that_moved_rows_are_other_rows_not_the_same_rows_reordered():
    df, y = frame(40), pd.Series(np.tile([0, 1], 20), name="label")
    train_a, test_a = np.arange(30), np.arange(30, 40)
    train_b, test_b = np.r_[0:28, 31, 30], np.r_[28, 29, 32:40]  # labels 0,1 out; 1,0 in: same multiset
    a = pipeline(df, split_seed=None, split=(train_a, test_a))
    b = pipeline(df, split_seed=None, split=(train_b, test_b))
    for lk, train in ((a, train_a), (b, train_b)):
        lk.cells[2].randomness = [{"source": "sklearn.model_selection.train_test_split", "seeded": False}]
        lk.cells[2].data = {"y_train": fingerprint(y.iloc[train].reset_index(drop=True))}
        lk.cells[3].data = {"y_seen": fingerprint(y.iloc[train].reset_index(drop=True))}
    report = compare(a, b)
    split = by_cause(report, "split-changed")
    assert "4 row(s) moved between train and test" in split.message
    described = [(f.cause, f.subject, f.message) for f in report.findings]
    assert not [f for f in report.findings if f.cause == "rows-reordered"], described
    for name in ("y_train", "y_seen"):
        [f] = [f for f in report.findings if f.subject == name]
        assert f.cause == "values-changed" and "holds other rows" in f.message and "moved 4 row(s)" in f.message
        assert "same rows in another order" not in f.message


def test_seed_fixes_read_as_code():
    from reprotrack.core.diff.cells import seed_call

    assert seed_call("sklearn.model_selection.train_test_split(random_state=)", [0]) == \
        "train_test_split(..., random_state=0)"
    assert seed_call("sklearn.ensemble.RandomForestClassifier(random_state=)", [None, 3]) == \
        "RandomForestClassifier(..., random_state=3)"
    assert seed_call("numpy.random.seed", [0, 1]) == "numpy.random.seed(0) then numpy.random.seed(1)"
    api = "sklearn.model_selection.train_test_split(random_state=)"
    a = lock(cell(0, seeds=[{"api": api, "value": 0}]))
    b = lock(cell(0, seeds=[{"api": api, "value": 1}]))
    f = by_cause(compare(a, b), "seed-changed")
    assert f.fix == "Use the research seed: train_test_split(..., random_state=0)."
    added = by_cause(compare(lock(cell(0)), b), "seed-changed")
    # people read the notebook's numbering (the first cell is cell 1); JSON keeps the 0-based cell_index
    assert added.cell_index == 0 and added.message.endswith("research did not seed it in cell 1.")


def test_reruns_and_out_of_order_runs_are_told_plainly_and_a_top_down_replay_that_matches_reproduces():
    from reprotrack.core.diff.matching import order_notes

    x = {"x": fingerprint(2)}
    research = lock(cell(0, "x = 1", order=1), cell(1, "x = 2", order=2, data=x), cell(1, "x = 2", order=3, data=x),
                    cell(2, "y = 3", order=4), cell(0, "x = 1", order=5), cell(2, "y = 3", order=6))
    assert order_notes(research.cells) == ["cell 1 ran twice", "cell 2 ran twice", "cell 3 ran twice",
                                           "cell 1 ran after cell 3"]
    assert order_notes(research.cells, limit=2) == ["cell 1 ran twice", "cell 2 ran twice", "2 more"]
    assert order_notes(research.cells[:3]) == ["cell 2 ran twice"]
    top_down = lock(cell(0, "x = 1", order=1), cell(1, "x = 2", order=2, data=x), cell(2, "y = 3", order=3))
    report = compare(research, top_down)
    described = [(f.cause, f.severity, f.message) for f in report.findings]
    assert report.status == "reproduced", described
    order = by_cause(report, "execution-order")
    assert "cell 2 ran twice" in order.message and "cell 1 ran after cell 3" in order.message
    missing = [f for f in report.findings if f.cause == "cell-missing"]
    assert missing and all(f.severity == "warning" and f.upstream_of == order.id for f in missing), described
    assert "ran it 1 time(s)" in missing[0].message
    # a run the replay never made at all is still an error
    assert compare(research, lock(cell(0, "x = 1", order=1), cell(2, "y = 3", order=2))).status == "differs"
