"""``reprotrack run`` against running the same script bare: the cost of tracking a production script.

Runs the hand-off example's training job (``notebooks/production``, ``-m churn.train --features v1``) as
``python -m churn.train`` (the baseline) and as ``reprotrack run`` (fresh process, every capture, a
checkpoint fingerprint per stage, the lock written) ``--repeat`` times each, alternating, and prints the
medians and their ratio; with ``--against``-style checking timed apart (``reprotrack check`` of the lock).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION = ROOT / "notebooks" / "production"
RESEARCH = ROOT / "notebooks" / "handoff-research.reprotrack.lock"


def _timed(command: list[str], env: dict) -> float:
    t0 = time.perf_counter()
    subprocess.run(command, cwd=PRODUCTION, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), str(PRODUCTION)]))}
    with tempfile.TemporaryDirectory() as tmp:
        lock = str(Path(tmp) / "run.lock")
        bare_cmd = [sys.executable, "-m", "churn.train", "--features", "v1"]
        run_cmd = [sys.executable, "-m", "reprotrack", "run", "--lock", lock, "-m", "churn.train", "--features", "v1"]
        check_cmd = [sys.executable, "-m", "reprotrack", "check", lock, "--against", str(RESEARCH)]
        bare, tracked, checks = [], [], []
        for _ in range(args.repeat):
            bare.append(_timed(bare_cmd, env))
            tracked.append(_timed(run_cmd, env))
            checks.append(_timed(check_cmd, env))
    b, t, c = statistics.median(bare), statistics.median(tracked), statistics.median(checks)
    print(f"bare script (python -m churn.train)   median {b:.2f} s")
    print(f"reprotrack run (tracked, lock written) median {t:.2f} s   ratio {t / b:.2f}x bare")
    print(f"reprotrack check (two locks, no run)   median {c:.2f} s")


if __name__ == "__main__":
    main()
