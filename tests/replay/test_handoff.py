"""The hand-off example of ``notebooks/handoff.md`` (section 6) end to end, in real processes: the research
notebook recorded in a real kernel, the production package run by ``reprotrack run -m churn.train`` and its
regression tests run by pytest -- once faithful (exit 0) and once with the deliberate drift of
``build_features_v2`` (exit 1, at the ``features`` checkpoint, column ``monthly_charges``)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"

pytestmark = pytest.mark.kernel


def call(*args: str, cwd: Path, extra_env: dict | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1", **(extra_env or {})}
    return subprocess.run([sys.executable, *args], check=False, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def handoff(tmp_path_factory) -> Path:
    """A copy of the example with its research lock recorded afresh (one kernel run)."""
    folder = tmp_path_factory.mktemp("handoff")
    shutil.copy(NOTEBOOKS / "handoff-research.ipynb", folder)
    shutil.copytree(NOTEBOOKS / "production", folder / "production",
                    ignore=shutil.ignore_patterns("*.reprotrack.lock", "__pycache__"))
    done = call("-m", "reprotrack", "record", "handoff-research.ipynb", cwd=folder)
    assert done.returncode == 0, done.stderr
    return folder


def test_the_faithful_production_run_matches_and_the_drifted_one_is_found(handoff):
    production = handoff / "production"
    lock = "../handoff-research.reprotrack.lock"
    same = call("-m", "reprotrack", "run", "--against", lock, "--lock", "v1.lock", "-m", "churn.train",
                "--features", "v1", cwd=production)
    assert same.returncode == 0, same.stdout + same.stderr
    assert "features (production: features_v2): matches" in same.stdout

    drifted = call("-m", "reprotrack", "run", "--against", lock, "--lock", "v2.lock", "--format", "json",
                   "-m", "churn.train", cwd=production)
    assert drifted.returncode == 1, drifted.stderr
    report = json.loads(drifted.stdout)
    assert report["first_divergence"]["checkpoint"] == "features"
    rows = {r["name"]: r for r in report["checkpoints"]}
    assert rows["features"]["production"] == "features_v2"  # mapped in production/pyproject.toml
    assert rows["features"]["columns"] == ["monthly_charges"]
    assert {r["status"] for r in rows.values()} == {"differs"}
    root = report["findings"][int(report["first_divergence"]["finding"][1:]) - 1]
    downstream = [f for f in report["findings"] if f["upstream_of"] == root["id"]]
    assert {f["subject"] for f in downstream} >= {"checkpoint train", "checkpoint model"}
    assert not [f for f in report["findings"] if f["kind"] in ("environment", "execution")]

    # the same lock checked again, as text: what handoff.md shows
    text = call("-m", "reprotrack", "check", "v2.lock", "--against", lock, cwd=production)
    assert text.returncode == 1 and "✗ features (production: features_v2): DIFFERS; column(s) monthly_charges" in text.stdout


def test_the_regression_tests_guard_each_stage(handoff):
    production = handoff / "production"
    faithful = call("-m", "pytest", "tests", "-q", "-p", "no:cacheprovider", cwd=production)
    assert faithful.returncode == 0, faithful.stdout + faithful.stderr
    assert "2 passed" in faithful.stdout
    drifted = call("-m", "pytest", "tests", "-q", "-p", "no:cacheprovider", cwd=production,
                   extra_env={"REPROTRACK_FEATURES": "v2"})
    assert drifted.returncode == 1
    assert "checkpoint 'features' (production name 'features_v2') differs" in drifted.stdout
    assert "monthly_charges" in drifted.stdout and "2 failed" in drifted.stdout


def test_the_committed_lock_is_the_contract_of_the_committed_code(tmp_path):
    """The lock shipped beside the notebook still matches the production code (package drift only warns)."""
    production = tmp_path / "production"
    shutil.copytree(NOTEBOOKS / "production", production, ignore=shutil.ignore_patterns("__pycache__"))
    done = call("-m", "reprotrack", "run", "--env-policy", "major", "--against",
                str(NOTEBOOKS / "handoff-research.reprotrack.lock"), "--lock", "v1.lock", "-m", "churn.train",
                "--features", "v1", cwd=production)
    assert done.returncode == 0, done.stdout + done.stderr
