"""``reprotrack.core.diff.checkpoints``: production runs checked against research by checkpoint names, on
real fingerprints of generated frames and fitted scikit-learn estimators."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from reprotrack.core.diff.checkpoints import (
    CheckOptions,
    CheckpointRule,
    check,
    checkpoint_differences,
    verdict,
)
from reprotrack.core.diff.model import CAUSES, DiffOptions
from reprotrack.core.fingerprint import fingerprint
from reprotrack.core.lockfile import CellRecord, Lock

SHA = "0" * 64


def frame(n: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"income": rng.normal(50, 10, n), "age": rng.integers(18, 80, n).astype("float64"),
                         "city": rng.choice(["paris", "lyon", "nice"], n)})


def lock(checkpoints: dict, *, cells=(), at=None, env=None, complete=True, mode="record") -> Lock:
    return Lock(checkpoints={k: fingerprint(v) for k, v in checkpoints.items()}, cells=list(cells),
                checkpoint_at=dict(at or {}), environment=env or {}, complete=complete, mode=mode)


def cell(order: int, **facts) -> CellRecord:
    return CellRecord(id=f"c{order}", order=order, source_sha256=SHA, **facts)


def row(report, name):
    return next(r for r in report.checkpoints if (r["name"] or r["production"]) == name)


def test_identical_frames_match_and_the_report_is_reproduced():
    report = check(lock({"features": frame()}), lock({"features": frame()}), CheckOptions())
    assert report.status == "reproduced" and report.findings == []
    assert report.to_dict()["checkpoints"] == [{"name": "features", "production": "features", "status": "matches",
                                                "columns": [], "findings": []}]


def test_precision_level_difference_is_a_warning_naming_the_column():
    drifted = frame()
    drifted["income"] = drifted["income"] * (1 + 1e-12)
    report = check(lock({"features": frame()}), lock({"features": drifted}))
    assert report.status == "reproduced"
    assert row(report, "features")["status"] == "precision" and row(report, "features")["columns"] == ["income"]
    # a tolerance tighter than the drift makes it a change
    tight = CheckOptions(rules={"features": CheckpointRule(rtol=0.0, atol=0.0)})
    assert row(check(lock({"features": frame()}), lock({"features": drifted}), tight), "features")["status"] == "differs"


def test_rows_removed_and_new_categories_are_diagnosed_per_column():
    production = frame()
    production.loc[production.index[:5], "city"] = "marseille"
    production = production.iloc[:-3]
    report = check(lock({"features": frame()}), lock({"features": production}))
    causes = {f.cause for f in report.findings}
    assert {"rows-removed", "new-categories"} <= causes
    assert "city" in row(report, "features")["columns"]
    assert report.status == "differs" and report.first_divergence["checkpoint"] == "features"
    assert all(f.cause in CAUSES[f.kind] for f in report.findings)


def test_name_mapping_pairs_renamed_stages_and_lone_checkpoints_are_named_not_cascaded():
    research = lock({"features": frame(), "model_input": frame(seed=1)})
    production = lock({"features_v2": frame(), "debug_dump": frame(seed=2)})
    report = check(research, production, CheckOptions(names={"features_v2": "features"}))
    assert row(report, "features")["production"] == "features_v2" and row(report, "features")["status"] == "matches"
    assert row(report, "model_input")["status"] == "missing" and row(report, "debug_dump")["status"] == "extra"
    lone = [f for f in report.findings if f.kind == "execution"]
    assert [f.cause for f in lone] == ["checkpoint-missing", "checkpoint-added"]
    assert all(f.severity == "warning" and f.upstream_of is None for f in lone)
    assert report.status == "reproduced"


def test_nothing_in_common_is_an_error_not_a_silent_pass():
    report = check(lock({"features": frame()}), lock({"other": frame()}))
    assert report.status == "differs"
    assert any(f.subject == "checkpoints" and f.severity == "error" for f in report.findings)


def test_order_ignore_accepts_rows_a_database_returned_unordered():
    shuffled = frame().sample(frac=1.0, random_state=3).reset_index(drop=True)
    assert row(check(lock({"t": frame()}), lock({"t": shuffled})), "t")["status"] == "differs"
    report = check(lock({"t": frame()}), lock({"t": shuffled}), CheckOptions(rules={"t": CheckpointRule(order="ignore")}))
    assert row(report, "t")["status"] == "matches" and report.findings == []
    # ignoring the order does not hide a changed value
    changed = shuffled.copy()
    changed.loc[0, "income"] += 5
    report = check(lock({"t": frame()}), lock({"t": changed}), CheckOptions(rules={"t": CheckpointRule(order="ignore")}))
    assert row(report, "t")["status"] == "differs"


def test_estimators_are_checked_on_learned_parameters_apart_from_hyperparameters():
    X = frame()[["income", "age"]].to_numpy()
    y = (X[:, 0] > 50).astype(int)
    research = LogisticRegression(max_iter=1000).fit(X, y)
    same_fit = LogisticRegression(max_iter=5000, verbose=0).fit(X, y)
    found = checkpoint_differences(fingerprint(research), fingerprint(same_fit), CheckpointRule(), DiffOptions())
    assert verdict(found) == "matches"
    assert [f.cause for f in found] == ["schema-changed"] and "max_iter" in found[0].message
    other = LogisticRegression(max_iter=1000, C=0.001).fit(X, y)
    found = checkpoint_differences(fingerprint(research), fingerprint(other), CheckpointRule(), DiffOptions())
    assert verdict(found) == "differs"
    changed = [f for f in found if f.severity == "error"]
    assert changed and "coef_" in changed[0].evidence["columns"]


def test_a_changed_seed_is_the_root_of_its_checkpoint_and_later_ones_follow():
    research = lock({"features": frame(seed=0), "train": frame(seed=0).iloc[:40]},
                    cells=[cell(1, seeds=[{"api": "numpy.random.seed", "value": 0}]), cell(2)],
                    at={"features": 1, "train": 2})
    production = lock({"features": frame(seed=1), "train": frame(seed=1).iloc[:40]},
                      cells=[cell(1, seeds=[{"api": "numpy.random.seed", "value": 1}]), cell(2)],
                      at={"features": 1, "train": 2})
    report = check(research, production)
    roots = report.roots()
    assert [r.cause for r in roots] == ["seed-changed"]
    assert "features" in roots[0].message
    assert all(f.upstream_of == roots[0].id for f in report.findings if f is not roots[0])


def test_inputs_pair_by_file_name_and_a_changed_file_explains_the_checkpoint():
    research = lock({"raw": frame()}, cells=[cell(1, inputs=[{"path": "/research/data/x.csv", "bytes": 10,
                                                              "content": "a"}])], at={"raw": 1})
    same = lock({"raw": frame()}, cells=[cell(1, inputs=[{"path": "/srv/etl/x.csv", "bytes": 10, "content": "a"}])],
                at={"raw": 1})
    assert check(research, same).findings == []
    changed = lock({"raw": frame().iloc[:50]}, cells=[cell(1, inputs=[{"path": "/srv/etl/x.csv", "bytes": 8,
                                                                       "content": "b"}])], at={"raw": 1})
    report = check(research, changed)
    assert [r.cause for r in report.roots()] == ["input-file-changed"]
    assert any(f.cause == "rows-removed" and f.upstream_of == report.roots()[0].id for f in report.findings)


def test_environment_only_for_what_both_sides_user_code_imported():
    research = lock({"f": frame()}, env={"python": "3.11.7", "packages": {"numpy": "2.0", "ipykernel": "6.1",
                                                                          "torch": "2.1"}})
    production = lock({"f": frame()}, env={"python": "3.11.7", "packages": {"numpy": "2.1", "ipykernel": "6.9",
                                                                            "fastapi": "0.1"}})
    subjects = {f.subject for f in check(research, production).findings if f.kind == "environment"}
    assert subjects == {"numpy"}  # kernel tooling and one-sided packages are never findings
    research.environment["user_packages"] = ["torch"]
    production.environment["user_packages"] = ["numpy"]
    assert not [f for f in check(research, production).findings if f.kind == "environment"]


def test_a_partial_production_run_is_failed_not_compared_as_complete():
    report = check(lock({"features": frame(), "train": frame()}), lock({"features": frame()}, complete=False),
                   execution_error="the script did not finish: it exited with code 1")
    assert report.status == "failed"
    assert row(report, "train")["status"] == "missing"
    assert not any(f.severity == "error" for f in report.findings)


def test_locks_written_before_checkpoint_positions_still_load_and_check():
    import json

    from reprotrack.core import lockfile

    new = lock({"features": frame()}, cells=[cell(1)], at={"features": 1})
    raw = json.loads(lockfile.dumps(new))
    del raw["checkpoint_at"], raw["complete"]
    old = lockfile.loads(json.dumps(raw))
    assert old.complete is True and old.checkpoint_at == {}
    assert check(old, new).status == "reproduced"


def test_research_requirements_are_held_to_the_production_values():
    research = lock({"features": frame()})
    research.requirements = {"auc": {"value": 0.91, "min": 0.85}, "rmse": {"value": 1.2, "max": 1.5}}
    kept = lock({"features": frame()})
    kept.requirements = {"auc": {"value": 0.88}, "rmse": {"value": 1.4}}
    report = check(research, kept)
    assert report.status == "reproduced" and report.findings == []

    shifted = frame()
    shifted["income"] = shifted["income"] + 40  # the data the model scored moved
    broken = lock({"features": shifted})
    broken.requirements = {"auc": {"value": 0.70}, "latency": {"value": 9.0}, "f1": {"value": 0.2, "min": 0.5}}
    report = check(research, broken)
    assert report.status == "differs"
    failed = [f for f in report.findings if f.cause == "requirement-failed"]
    by_subject = {f.subject: f for f in failed}
    assert set(by_subject) == {"auc", "rmse", "f1"}  # latency: no requirement anywhere, ignored
    auc = by_subject["auc"]
    assert auc.severity == "error" and auc.kind == "output"
    assert "below the minimum 0.85" in auc.message
    assert "while checkpoint 'features' shows distribution shift in 'income'" in auc.message
    # a research requirement production never measured is a warning naming it, not an error
    assert by_subject["rmse"].severity == "warning" and "production run" in by_subject["rmse"].message
    # production's own bounds hold where research has no requirement
    assert by_subject["f1"].severity == "error" and "below the minimum 0.5" in by_subject["f1"].message
    assert {f["cause"] for f in report.to_dict()["findings"]} >= {"requirement-failed", "distribution-shift"}


def test_a_requirement_broken_on_unchanged_data_points_to_no_checkpoint():
    research = lock({"features": frame()})
    research.requirements = {"auc": {"value": 0.91, "within": 0.01}}
    production = lock({"features": frame()})
    production.requirements = {"auc": {"value": 0.95}}
    report = check(research, production)
    (failed,) = report.findings
    assert failed.cause == "requirement-failed" and report.status == "differs"
    assert "more than 0.01 from the research value 0.91" in failed.message and "checkpoint" not in failed.message


def test_a_scoring_run_with_no_checkpoint_is_still_a_now_test_of_its_metric():
    research = lock({"features": frame()})
    research.requirements = {"auc": {"value": 0.91, "min": 0.85}}
    scoring = lock({})
    scoring.requirements = {"auc": {"value": 0.90}}
    report = check(research, scoring)
    # the stage it did not record is a warning; the metric it measured was compared, so nothing is "not compared"
    assert report.status == "reproduced"
    assert [f.cause for f in report.findings] == ["checkpoint-missing"] and report.findings[0].severity == "warning"
    scoring.requirements = {"auc": {"value": 0.80}}
    assert [f.cause for f in check(research, scoring).findings if f.severity == "error"] == ["requirement-failed"]
    # a metric research holds to nothing is no comparison: the run compared nothing
    scoring.requirements = {"latency": {"value": 3.0}}
    assert "nothing was compared" in " ".join(f.message for f in check(research, scoring).findings)


def test_the_code_each_side_imported_or_ran_is_not_compared():
    """Production code is the notebook's code rewritten: its modules differ from the research ones by design."""
    module = {"path": "helpers.py", "bytes": 10, "reader": "import", "module": "helpers"}
    research = lock({"raw": frame()}, cells=[cell(1, inputs=[{**module, "content": "a"},
                                                             {"path": "prep.py", "bytes": 4, "content": "c",
                                                              "reader": "run"}])], at={"raw": 1})
    production = lock({"raw": frame()}, cells=[cell(1, inputs=[{**module, "content": "b"},
                                                               {"path": "prep.py", "bytes": 5, "content": "d",
                                                                "reader": "run"}])], at={"raw": 1})
    assert check(research, production).findings == []
