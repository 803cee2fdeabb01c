"""Per-cell overhead of tracking, against bare IPython in the same run.

    python benchmarks/bench_overhead.py [--rows 100000] [--cells 300] [--profile]

A real ``InteractiveShell`` (history in memory) holds 200 plain variables and 20 DataFrames (``--rows`` rows,
float/int/string columns). Timed, as ms per cell (median of batches, bare and tracked batches interleaved so
that drift hits both alike):

* a cell that touches no data (``x = 1``), bare and tracked: target tracked ≤ 1.3× bare;
* a cell that modifies one of the DataFrames (``df7["c"] = df7["a"] * 2``), bare and tracked: the extra is
  the fingerprint of that one frame, never of the other 19; target tracker's own time ≤ 3 ms (re-runs prove
  the value equal to the one recorded, by its copy-on-write snapshot or its content hash, and reuse the
  recorded fingerprint);
* a cell that changes one DataFrame's values every run (``k += 1; df8["c"] = df8["a"] * k``): each run needs
  a new full fingerprint, made on a background thread after the cell; run back to back, the next cell
  waits for it, and that wait is the tracker's time too (no target: it is the fingerprint's own speed).

Also printed: the tracker's own time per cell as the session measures it (``tracker_seconds``), and with
``--profile`` the functions where a tracked no-data cell spends its time.

Whole notebooks (``--notebooks N``, default 4; 0 skips): the first N notebooks of ``tests/replay/corpus`` plus
``notebooks/quickstart.ipynb``, copied into a git repository (where notebooks live: each save records the git
state), each run three ways, interleaved, ``--nb-repeat`` times (best of): a plain nbclient run (fresh kernel,
kernel start included), ``reprotrack record`` and ``reprotrack verify`` (Python API, fresh kernel each). Ratios of the summed wall times, record/plain and verify/plain: target <= 1.10.
Not run in CI.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import tempfile
import shutil
import time
from pathlib import Path
from typing import Any

TARGET_NO_DATA_RATIO = 1.3
TARGET_MODIFY_OWN_MS = 3.0
TARGET_NOTEBOOK_RATIO = 1.10
REPO = Path(__file__).resolve().parents[1]


def make_shell(rows: int) -> Any:
    import numpy as np
    import pandas as pd
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    InteractiveShell.clear_instance()
    shell = InteractiveShell.instance(config=config)
    shell.run_line_magic("load_ext", "reprotrack")
    ns = shell.user_ns
    ns["pd"], ns["np"] = pd, np
    rng = np.random.default_rng(0)
    for i in range(200):
        ns[f"v{i}"] = [i, float(i), f"s{i}", [i] * 3, {"k": i}][i % 5]
    words = np.array(["a", "b", "c", "d"], dtype=object)
    for i in range(20):
        ns[f"df{i}"] = pd.DataFrame({
            "a": rng.normal(size=rows),
            "b": rng.integers(0, 1000, rows),
            "s": words[rng.integers(0, 4, rows)],
        })
    return shell


def run_batch(shell: Any, source: str, cells: int) -> float:
    """Seconds per cell over ``cells`` runs, like a frontend runs them (history stored, events fired)."""
    t0 = time.perf_counter()
    for _ in range(cells):
        shell.run_cell(source, store_history=True)
    return (time.perf_counter() - t0) / cells


def compare(shell: Any, source: str, cells: int, batches: int) -> tuple[float, float, float, float]:
    """Median seconds per cell bare and tracked, the session's own seconds per tracked cell (batch mean, so a
    first full fingerprint and any wait for it count), and the median of the tracker's own time per cell."""
    from reprotrack.kernel import session

    bare, tracked, own, typical = [], [], [], []
    shell.run_cell(source, store_history=True)  # warm-up: imports, caches
    for _ in range(batches):
        bare.append(run_batch(shell, source, cells))
        shell.run_cell("%reprotrack start", store_history=True)
        active = session.active()
        shell.run_cell(source, store_history=True)  # warm-up of the tracked path
        before = active.tracker_seconds
        per_cell = []
        t0 = time.perf_counter()
        for _ in range(cells):
            mark = active.tracker_seconds
            shell.run_cell(source, store_history=True)
            per_cell.append(active.tracker_seconds - mark)
        tracked.append((time.perf_counter() - t0) / cells)
        own.append((active.tracker_seconds - before) / cells)
        typical.append(statistics.median(per_cell))
        shell.run_cell("%reprotrack stop", store_history=True)
    return statistics.median(bare), statistics.median(tracked), statistics.median(own), statistics.median(typical)


def profile(shell: Any, source: str, cells: int) -> str:
    shell.run_cell("%reprotrack start", store_history=True)
    prof = cProfile.Profile()
    prof.enable()
    run_batch(shell, source, cells)
    prof.disable()
    shell.run_cell("%reprotrack stop", store_history=True)
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(25)
    return out.getvalue()


def per_capture(shell: Any, source: str, cells: int) -> None:
    """Microseconds per cell spent in each capture's hooks (no-data cell)."""
    from reprotrack.kernel import session

    shell.run_cell("%reprotrack start", store_history=True)
    active = session.active()
    spent: dict[str, float] = {}
    for capture in active.captures:
        for hook in ("before_cell", "after_cell"):
            original = getattr(capture, hook)

            def timed(ctx: Any, _original: Any = original, _name: str = capture.name) -> None:
                t0 = time.perf_counter()
                try:
                    _original(ctx)
                finally:
                    spent[_name] = spent.get(_name, 0.0) + time.perf_counter() - t0

            setattr(capture, hook, timed)
    active._before = [c for c in active.captures if c in active._before]  # same objects, timed hooks
    run_batch(shell, source, cells)
    shell.run_cell("%reprotrack stop", store_history=True)
    print("per capture (no-data cell): " + ", ".join(
        f"{name} {seconds / cells * 1e6:.1f} us" for name, seconds in sorted(spent.items(), key=lambda kv: -kv[1])))


def plain_run(path: Path) -> None:
    """The baseline: the notebook executed by nbclient in a fresh kernel, nothing else."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, kernel_name="python3", timeout=600, allow_errors=True,
                   resources={"metadata": {"path": str(path.parent)}}).execute()


def committed(folder: Path) -> None:
    """Make ``folder`` a git repository with everything in it committed (as a user's project is)."""
    import subprocess

    env = dict(os.environ, GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="bench@example.invalid",
               GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@example.invalid")
    for args in (("init", "-q"), ("add", "-A"), ("commit", "-q", "-m", "notebooks")):
        subprocess.run(("git", *args), cwd=folder, env=env, check=True, capture_output=True)


def notebooks(count: int, repeat: int) -> float:
    """Wall time of record and verify against a plain nbclient run of the same notebooks; the worse ratio."""
    from reprotrack.verify import record_notebook, verify_notebook

    corpus = sorted((REPO / "tests" / "replay" / "corpus").glob("*.ipynb"))[:count]
    chosen = [REPO / "notebooks" / "quickstart.ipynb"] + corpus
    totals = {"plain": 0.0, "record": 0.0, "verify": 0.0}
    with tempfile.TemporaryDirectory(prefix="bench-notebooks-") as folder:
        for source in chosen:
            shutil.copytree(source.parent, Path(folder) / source.parent.name, dirs_exist_ok=True)
        committed(Path(folder))  # notebooks live in repositories: each save records the git state
        # untimed warm-up: the first kernel of a run pays for cold disk caches and font caches (seen: a
        # quickstart plain run of 7 s against 4.5 s for its record), which would flatter whatever runs second
        plain_run(Path(folder) / chosen[0].parent.name / chosen[0].name)
        for source in chosen:
            path = Path(folder) / source.parent.name / source.name
            lock = path.with_suffix(".bench.lock")
            best = {k: float("inf") for k in totals}
            for _ in range(repeat):
                for kind in totals:  # interleaved: drift on a shared machine hits all three alike
                    t0 = time.perf_counter()
                    if kind == "plain":
                        plain_run(path)
                    elif kind == "record":
                        record_notebook(path, lock=lock)
                    else:
                        verify_notebook(path, lock=lock)
                    best[kind] = min(best[kind], time.perf_counter() - t0)
            for kind in totals:
                totals[kind] += best[kind]
            print(f"  {source.name:<36} plain {best['plain']:6.2f} s   record {best['record']:6.2f} s   "
                  f"verify {best['verify']:6.2f} s", flush=True)
    ratios = {k: totals[k] / totals["plain"] for k in ("record", "verify")}
    for kind, ratio in ratios.items():
        verdict = "met" if ratio <= TARGET_NOTEBOOK_RATIO else "NOT MET"
        print(f"whole notebooks, {kind}/plain nbclient: {ratio:5.3f}x over {len(chosen)} notebooks "
              f"(target <= {TARGET_NOTEBOOK_RATIO:.2f}x: {verdict})")
    return max(ratios.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows of each of the 20 DataFrames")
    parser.add_argument("--cells", type=int, default=300, help="cells per batch (no-data cell)")
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="10k-row frames, fewer cells")
    parser.add_argument("--profile", action="store_true", help="print where a tracked no-data cell spends time")
    parser.add_argument("--notebooks", type=int, default=4, help="corpus notebooks for the whole-notebook ratio")
    parser.add_argument("--nb-repeat", type=int, default=2, help="runs per notebook and way (best of)")
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.cells, args.batches, args.notebooks, args.nb_repeat = 10_000, 100, 3, 1, 1

    home = os.getcwd()
    with tempfile.TemporaryDirectory() as folder:
        os.chdir(folder)  # the lock path and any file the tracker touches live here
        shell = make_shell(args.rows)
        print(f"namespace: 200 variables and 20 DataFrames of {args.rows:,} rows; "
              f"{args.batches} batches, median", flush=True)

        bare, tracked, own, _ = compare(shell, "x = 1", args.cells, args.batches)
        ratio = tracked / bare
        verdict = "met" if ratio <= TARGET_NO_DATA_RATIO else "NOT MET"
        print(f"no-data cell  (x = 1):            bare {bare * 1e3:7.3f} ms   tracked {tracked * 1e3:7.3f} ms   "
              f"ratio {ratio:5.2f}x (target <= {TARGET_NO_DATA_RATIO:g}x: {verdict}); "
              f"tracker's own {own * 1e3:.3f} ms")

        modify = 'df7["c"] = df7["a"] * 2'
        cells = max(5, args.cells // 20)
        bare_m, tracked_m, own_m, typical_m = compare(shell, modify, cells, args.batches)
        print(f"modify one DataFrame ({args.rows:,} rows): bare {bare_m * 1e3:7.3f} ms   tracked "
              f"{tracked_m * 1e3:7.3f} ms   ratio {tracked_m / bare_m:5.2f}x; tracker's own {own_m * 1e3:.3f} ms "
              f"per cell on average, {typical_m * 1e3:.3f} ms median "
              f"(target <= {TARGET_MODIFY_OWN_MS:g} ms: {'met' if own_m * 1e3 <= TARGET_MODIFY_OWN_MS else 'NOT MET'})")

        changing = 'k += 1\ndf8["c"] = df8["a"] * k'
        shell.user_ns["k"] = 0
        bare_c, tracked_c, own_c, typical_c = compare(shell, changing, cells, args.batches)
        print(f"change one DataFrame's values:    bare {bare_c * 1e3:7.3f} ms   tracked {tracked_c * 1e3:7.3f} ms   "
              f"ratio {tracked_c / bare_c:5.2f}x; tracker's own {own_c * 1e3:.3f} ms per cell on average, "
              f"{typical_c * 1e3:.3f} ms median (a full fingerprint each run)")

        if args.profile:
            print(profile(shell, "x = 1", args.cells))
        per_capture(shell, "x = 1", args.cells)
        shell.history_manager.end_session()
        os.chdir(home)
    worst = notebooks(args.notebooks, args.nb_repeat) if args.notebooks > 0 else 1.0
    return 0 if ratio <= TARGET_NO_DATA_RATIO and worst <= TARGET_NOTEBOOK_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
