"""``reprotrack run`` / ``check`` / ``diff`` on scripts and ``reprotrack.testing`` in real processes: the CLI
as users call it, scripts that fail in every way a script can, and bad input (one line, exit 2)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

STAGES = textwrap.dedent("""
    import sys
    import numpy as np
    import pandas as pd
    from sklearn.model_selection import train_test_split
    import reprotrack

    np.random.seed(int(sys.argv[1]))
    frame = pd.DataFrame({"x": np.random.normal(size=80), "g": np.random.choice(["a", "b"], 80)})
    reprotrack.checkpoint("features", frame)
    train, test = train_test_split(frame, test_size=0.25, random_state=int(sys.argv[2]))
    reprotrack.checkpoint("train", train)
    {tail}
""")


def cli(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "reprotrack", *args], check=False, cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(scope="module")
def research(tmp_path_factory) -> Path:
    """A research lock recorded by ``reprotrack run`` of the seeded script (seed 0, split state 1)."""
    folder = tmp_path_factory.mktemp("research")
    (folder / "stages.py").write_text(STAGES.replace("{tail}", ""))
    done = cli("run", "stages.py", "0", "1", cwd=folder)
    assert done.returncode == 0, done.stderr
    return folder / "stages.reprotrack.lock"


def test_run_records_stages_and_checks_against_research(research, tmp_path):
    lock = json.loads(research.read_text())
    assert lock["complete"] is True and lock["mode"] == "script"
    assert set(lock["checkpoints"]) == {"features", "train"}
    stages = {c["id"]: c for c in lock["cells"]}
    # the seed and the split are attributed to the stage before their checkpoint, with no import in the script
    assert stages["stage-1"]["seeds"][0] == {"api": "numpy.random.seed", "value": 0} | {
        k: v for k, v in stages["stage-1"]["seeds"][0].items() if k not in ("api", "value")}
    assert stages["stage-2"]["splits"] and lock["checkpoint_at"] == {"features": 1, "train": 2}

    script = research.parent / "stages.py"
    same = cli("run", "--lock", str(tmp_path / "same.lock"), "--against", str(research), str(script), "0", "1",
               cwd=tmp_path)
    assert same.returncode == 0, same.stdout + same.stderr
    assert "REPRODUCED" in same.stdout

    split = cli("run", "--lock", str(tmp_path / "split.lock"), "--against", str(research), "--format", "json",
                str(script), "0", "2", cwd=tmp_path)
    assert split.returncode == 1, split.stderr
    report = json.loads(split.stdout)
    rows = {r["name"]: r["status"] for r in report["checkpoints"]}
    assert rows == {"features": "matches", "train": "differs"}
    roots = [f for f in report["findings"] if not f["upstream_of"]]
    # the split state is a seed (random_state=): the root, with the split that moved folded under it
    assert roots[0]["cause"] == "seed-changed" and "checkpoint train" in roots[0]["message"]
    moved = [f for f in report["findings"] if f["cause"] == "split-changed"]
    assert moved and moved[0]["upstream_of"] == roots[0]["id"] and "moved between train and test" in moved[0]["message"]

    # diff of the research lock and a script's lock is the same check (never cells)
    routed = cli("diff", str(research), str(tmp_path / "split.lock"), cwd=tmp_path)
    assert routed.returncode == 1 and "checkpoint train" in routed.stdout and "cell-missing" not in routed.stdout
    junit = cli("check", str(tmp_path / "split.lock"), "--against", str(research), "--format", "junit", cwd=tmp_path)
    assert 'name="checkpoint train"' in junit.stdout and junit.stdout.count("<failure") == 1


@pytest.mark.parametrize("tail, why", [
    ("raise ValueError('the warehouse is down')", "ValueError"),
    ("input()", "EOFError"),  # standard input is closed: a script waiting for input fails, never hangs
    ("import os; os._exit(0)", "ended before its last line"),
    ("sys.exit(4)", "SystemExit: 4"),
    ("import time; time.sleep(600)", "longer than"),
])
def test_scripts_that_fail_hang_or_exit_early_exit_3_with_a_partial_lock(research, tmp_path, tail, why):
    (tmp_path / "job.py").write_text(STAGES.replace("{tail}", tail))
    out = tmp_path / "job.lock"
    out.write_text(research.read_text())  # a complete lock from an earlier run must not survive as this run's
    hangs = "sleep" in tail
    done = cli("run", "--timeout", "20" if hangs else "120", "--lock", str(out), "--against", str(research), "job.py",
               "0", "1", cwd=tmp_path)
    assert done.returncode == 3, done.stdout + done.stderr
    assert why in done.stderr and "partial lock written" in done.stderr
    lock = json.loads(out.read_text())
    assert lock["complete"] is False
    # what ran before the failure is kept (a slow start may leave a hung script fewer checkpoints)
    assert set(lock["checkpoints"]) <= {"features", "train"} if hangs else set(lock["checkpoints"]) == {"features", "train"}
    assert "FAILED" in done.stdout
    again = cli("check", str(out), "--against", str(research), cwd=tmp_path)
    assert again.returncode == 3
    # a partial lock is never a contract either
    refused = cli("check", str(research), "--against", str(out), cwd=tmp_path)
    assert refused.returncode == 2 and "partial lock" in refused.stderr


def test_bad_input_is_one_line_and_exit_2(research, tmp_path):
    replay = json.loads(research.read_text())
    replay["mode"] = "replay"
    (tmp_path / "replay.lock").write_text(json.dumps(replay))
    bare = json.loads(research.read_text())
    bare["checkpoints"], bare["checkpoint_at"] = {}, {}
    (tmp_path / "bare.lock").write_text(json.dumps(bare))
    cases = [
        (("run", "missing.py"), "is not a file"),
        (("run", str(tmp_path)), "is not a file"),
        (("run", "-m", "no-such module"), "not a module name"),
        (("check", str(research), "--against", str(tmp_path / "replay.lock")), "not a research lock"),
        (("check", str(research), "--against", str(tmp_path / "bare.lock")), "no checkpoints"),
        (("check", str(research), "--against", str(research), "--map", "a=b"), "same file"),
        (("check", str(tmp_path / "replay.lock"), "--against", str(research)), "replay's lock"),
        (("run", "--lock", str(research), "--against", str(research), str(research.parent / "stages.py")),
         "is the research lock"),
        (("check", str(tmp_path / "replay.lock"), "--against", str(research), "-o", str(research)),
         "also an input"),
    ]
    for args, words in cases:
        done = cli(*args, cwd=tmp_path)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert words in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert "Traceback" not in done.stderr
    other = research.parent / "other.lock"
    other.write_text(research.read_text())
    mapped = cli("check", str(other), "--against", str(research), "--map", "features=nope", cwd=tmp_path)
    assert mapped.returncode == 2 and "'nope'" in mapped.stderr


def test_assert_matches_passes_and_fails_with_the_diagnosis(research):
    import numpy as np
    import pandas as pd

    from reprotrack.errors import ReprotrackError
    from reprotrack.testing import assert_matches

    np.random.seed(0)
    frame = pd.DataFrame({"x": np.random.normal(size=80), "g": np.random.choice(["a", "b"], 80)})
    assert assert_matches(research, "features", frame) == "matches"
    nudged = frame.assign(x=frame["x"] * (1 + 1e-13))
    assert assert_matches(research, "features", nudged, rtol=1e-9) == "precision"
    changed = frame.copy()
    changed.loc[:14, "g"] = "c"  # 15 rows: frequent enough for the safe policy to show the label
    with pytest.raises(AssertionError) as failure:
        assert_matches(research, "features", changed.iloc[:-2])
    message = str(failure.value)
    assert "checkpoint 'features'" in message and "2 row(s) removed" in message and "'c'" in message
    shuffled = frame.sample(frac=1.0, random_state=0)
    with pytest.raises(AssertionError, match="rows-reordered"):
        assert_matches(research, "features", shuffled)
    assert assert_matches(research, "features", shuffled, order="ignore") == "matches"
    with pytest.raises(ReprotrackError, match="no checkpoint 'nope'"):
        assert_matches(research, "nope", frame)


def test_a_stopped_run_leaves_no_process_and_a_partial_lock(tmp_path):
    """SIGTERM (a CI job cancelled) reaches the script's own process group; the lock says partial."""
    import signal
    import time

    (tmp_path / "slow.py").write_text("import reprotrack, time\nreprotrack.checkpoint('features', [1, 2])\n"
                                      "open('started', 'w').close()\ntime.sleep(600)\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.Popen([sys.executable, "-m", "reprotrack", "run", "--lock", "slow.lock", "slow.py"], cwd=tmp_path,
                           env=env, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (tmp_path / "started").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    run.send_signal(signal.SIGTERM)
    assert run.wait(timeout=60) == 130
    lock = json.loads((tmp_path / "slow.lock").read_text())
    assert lock["complete"] is False and "features" in lock["checkpoints"]
    left = subprocess.run(["pgrep", "-f", str(tmp_path / "slow.py")], check=False, capture_output=True, text=True).stdout
    assert left.strip() == ""


SCORED = textwrap.dedent("""
    import sys
    import numpy as np
    import pandas as pd
    from sklearn.metrics import roc_auc_score
    import reprotrack

    noise, shift = float(sys.argv[1]), float(sys.argv[2])
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(shift, 1.0, 400)})
    reprotrack.checkpoint("features", frame)
    labels = (frame["x"] - shift + rng.normal(0.0, noise, 400) > 0).astype(int)
    auc = roc_auc_score(labels, frame["x"])
    if sys.argv[3:] == ["research"]:
        reprotrack.expect("auc", auc, min=0.80)
    else:
        reprotrack.expect("auc", auc)  # production: today's value, held to the research requirement
    print(f"auc {auc:.3f}")
""")


def test_run_against_research_is_a_now_test_of_its_requirements(tmp_path):
    (tmp_path / "scored.py").write_text(SCORED)
    made = cli("run", "--lock", "research.lock", "scored.py", "0.5", "0", "research", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    research = json.loads((tmp_path / "research.lock").read_text())
    assert research["requirements"]["auc"]["min"] == 0.8 and research["requirements"]["auc"]["value"] > 0.8

    kept = cli("run", "--lock", "kept.lock", "--against", "research.lock", "scored.py", "0.5", "0", cwd=tmp_path)
    assert kept.returncode == 0, kept.stdout + kept.stderr
    assert json.loads((tmp_path / "kept.lock").read_text())["requirements"]["auc"].keys() == {"value"}

    broken = cli("run", "--lock", "broken.lock", "--against", "research.lock", "--format", "json", "scored.py", "3",
                 "1.5", cwd=tmp_path)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    findings = json.loads(broken.stdout)["findings"]
    failed = [f for f in findings if f["cause"] == "requirement-failed"]
    assert len(failed) == 1 and failed[0]["severity"] == "error" and failed[0]["subject"] == "auc"
    assert "below the minimum 0.8" in failed[0]["message"]
    assert "checkpoint 'features' shows distribution shift in 'x'" in failed[0]["message"]
    # the same locks checked again, in every format, say it too
    for fmt in ("text", "junit", "html"):
        again = cli("check", "broken.lock", "--against", "research.lock", "--format", fmt, cwd=tmp_path)
        assert again.returncode == 1 and "requirement" in again.stdout and "below the minimum 0.8" in again.stdout, fmt
