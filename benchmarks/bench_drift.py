"""reprotrack's drift verdicts beside Evidently's DataDriftPreset, and drift of a Parquet data set through Dask.

    .venv/bin/python benchmarks/bench_drift.py [--reference 40000] [--seeds 5] [--rows 8000000] [--files 16]

Part 1, agreement: the generated suite of ``tests/core/test_drift.py`` (no change, a mean shift, a scale
change, a growing tail, a new category, a vanished category, a rising null rate) at two new-data sizes (500
rows: the tests decide; 5,000 rows: the distances decide), ``--seeds`` samples each. reprotrack works from the
research lock alone (the fingerprint of the reference, made once, timed apart as "capture"); Evidently gets
the full reference frame every time, as it requires. Per column, verdicts agree when both call it drifted or
both call it stable; reprotrack's verdict here is its distribution test only (``distribution-shift``: what
Evidently measures), and separately with its data-quality checks (nulls, range, new/rare categories), which
Evidently's preset does not make. Time per run (untraced) and peak traced memory (tracemalloc, first seed) per run, both tools.

Part 2, bounded memory: ``--rows`` rows as ``--files`` Parquet files; ``reprotrack.drift`` of
``dd.read_parquet(folder)`` on Dask's threaded scheduler, and ``reprotrack drift`` on the files (read a row
group at a time): throughput over the in-memory size and the peak RSS increase of the process. The size is a
parameter: peak RSS is bounded by the partitions in flight, not by the data (see bench_dask.py).

Evidently 0.7 imports ``infer_dtype_from_object`` from pandas 2 in a legacy module the preset never calls;
on pandas 3 the benchmark provides a stand-in before importing it (nothing else is changed).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "core"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

SCENARIOS = {
    "none": {}, "mean": dict(mean=0.5), "scale": dict(scale=1.6), "tail": dict(tail=0.15),
    "new category": dict(new_cat=0.08), "vanished category": dict(drop_cat="east"), "nulls": dict(nulls=0.25),
}
CHANGED = {"none": set(), "mean": {"income"}, "scale": {"income"}, "tail": {"amount"},
           "new category": {"region"}, "vanished category": {"region"}, "nulls": {"income"}}


def evidently_runner():
    import pandas.core.dtypes.common as common

    if not hasattr(common, "infer_dtype_from_object"):
        common.infer_dtype_from_object = lambda dtype: getattr(dtype, "type", dtype)
    from evidently import Report
    from evidently.presets import DataDriftPreset

    def run(reference, current):
        snapshot = Report([DataDriftPreset()]).run(current_data=current, reference_data=reference)
        out = {}
        for metric in snapshot.dict()["metrics"]:
            config = metric["config"]
            if config.get("type", "").endswith("ValueDrift"):
                method, value = config.get("method", ""), metric["value"]
                pvalue = "p_value" in method or "test" in method.lower()
                out[config["column"]] = value < config["threshold"] if pvalue else value >= config["threshold"]
        return out

    return run


def measured(fn, *args, memory: bool = False):
    """(result, seconds, peak traced bytes). Timed without tracemalloc, which slows pure-Python code several
    times over; with ``memory`` the call is repeated under tracemalloc for its peak."""
    t0 = time.perf_counter()
    result = fn(*args)
    seconds = time.perf_counter() - t0
    peak = 0
    if memory:
        tracemalloc.start()
        fn(*args)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return result, seconds, peak


def agreement(reference_rows: int, seeds: int) -> None:
    from test_drift import population

    from reprotrack.core.drift import DriftOptions, drift_report, plan_of, profile
    from reprotrack.core.fingerprint import fingerprint

    reference = population(reference_rows, 0)
    research, capture_s, capture_peak = measured(fingerprint, reference, memory=True)
    plans = plan_of(research)
    evidently = evidently_runner()
    evidently(reference.iloc[:2000], reference.iloc[2000:2500])  # warm-up (imports, first-call caches)

    def ours(frame):
        return drift_report(research, profile(frame, plans), "features", DriftOptions(), plans)

    print(f"reference {reference_rows} rows; reprotrack capture (fingerprint, once): {capture_s * 1e3:.0f} ms, "
          f"peak {capture_peak / 2**20:.1f} MiB; lock statistics "
          f"{sum(len(str(s)) for s in research['stats']) / 1024:.1f} KB")
    print(f"{'scenario':<18} {'rows':>5} {'agree':>6} {'agree*':>6} {'ours hit':>8} {'evid hit':>8} "
          f"{'ours fa':>7} {'evid fa':>7} {'ours ms':>8} {'evid ms':>8} {'ours MiB':>8} {'evid MiB':>8}")
    totals = {"agree": 0, "agree_all": 0, "cells": 0, "ours_s": 0.0, "evid_s": 0.0}
    for name, change in SCENARIOS.items():
        for rows in (500, 5000):
            stats = dict(agree=0, agree_all=0, cells=0, ours_hit=0, evid_hit=0, ours_fa=0, evid_fa=0, changed=0,
                         unchanged=0, ours_s=0.0, evid_s=0.0, ours_peak=0, evid_peak=0)
            for seed in range(1, seeds + 1):
                frame = population(rows, 1000 + seed, **change)
                report, s1, p1 = measured(ours, frame, memory=seed == 1)
                theirs, s2, p2 = measured(evidently, reference, frame, memory=seed == 1)
                stats["ours_s"] += s1
                stats["evid_s"] += s2
                stats["ours_peak"] = max(stats["ours_peak"], p1)
                stats["evid_peak"] = max(stats["evid_peak"], p2)
                for column in report.columns:
                    mine = "distribution-shift" in column.causes
                    other = bool(theirs.get(column.name, False))
                    stats["cells"] += 1
                    stats["agree"] += mine == other
                    stats["agree_all"] += column.drifted == other
                    if column.name in CHANGED[name]:
                        stats["changed"] += 1
                        stats["ours_hit"] += column.drifted
                        stats["evid_hit"] += other
                    else:
                        stats["unchanged"] += 1
                        stats["ours_fa"] += column.drifted
                        stats["evid_fa"] += other
            for key in ("agree", "cells", "ours_s", "evid_s"):
                totals[key] += stats[key]
            totals["agree_all"] += stats["agree_all"]
            def hit(key: str, stats: dict = stats) -> str:
                return f"{stats[key]}/{stats['changed']}" if stats["changed"] else "-"

            print(f"{name:<18} {rows:>5} {stats['agree'] / stats['cells']:>6.0%} "
                  f"{stats['agree_all'] / stats['cells']:>6.0%} {hit('ours_hit'):>8} {hit('evid_hit'):>8} "
                  f"{stats['ours_fa']:>3}/{stats['unchanged']:<3} {stats['evid_fa']:>3}/{stats['unchanged']:<3} "
                  f"{stats['ours_s'] / seeds * 1e3:>8.1f} {stats['evid_s'] / seeds * 1e3:>8.1f} "
                  f"{stats['ours_peak'] / 2**20:>8.1f} {stats['evid_peak'] / 2**20:>8.1f}")
    print(f"overall per-column agreement: {totals['agree'] / totals['cells']:.1%} (distribution test), "
          f"{totals['agree_all'] / totals['cells']:.1%} (with reprotrack's data-quality checks); "
          f"time per run: reprotrack {totals['ours_s'] / (len(SCENARIOS) * 2 * seeds) * 1e3:.1f} ms, Evidently "
          f"{totals['evid_s'] / (len(SCENARIOS) * 2 * seeds) * 1e3:.1f} ms "
          f"({totals['evid_s'] / max(totals['ours_s'], 1e-9):.0f}x)")
    print("agree: same verdict as Evidently on the distribution; agree*: counting reprotrack's null/range/category "
          "checks too; hit: changed column flagged; fa: unchanged columns flagged")


def parquet(rows: int, files: int, workers: int) -> None:
    import dask
    import dask.dataframe as dd
    import pandas as pd
    from bench_dask import PeakRSS
    from test_drift import population

    from reprotrack import store
    from reprotrack.core.fingerprint import fingerprint
    from reprotrack.core.lockfile import Lock
    from reprotrack.drift_check import drift

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "data"
        folder.mkdir()
        store.write_lock(Path(tmp) / "research.lock", Lock(checkpoints={"features": fingerprint(population(50_000, 0))}))
        per = rows // files
        size = 0
        for i in range(files):
            part = population(per, 100 + i, mean=0.3 if i % 2 else 0.0)
            size += int(part.memory_usage(deep=True).sum())
            part.to_parquet(folder / f"part-{i:03d}.parquet", row_group_size=1 << 18)
        print(f"parquet: {per * files} rows in {files} files, {size / 2**30:.2f} GiB in memory as pandas")
        dask.config.set(scheduler="threads", num_workers=workers)
        drift(Path(tmp) / "research.lock", "features", dd.read_parquet(next(folder.iterdir())))  # warm-up: imports
        for label, target in (("dask frame", lambda: dd.read_parquet(folder)), ("files, row groups", lambda: folder)):
            with PeakRSS() as peak:
                t0 = time.perf_counter()
                report = drift(Path(tmp) / "research.lock", "features", target())
                seconds = time.perf_counter() - t0
            print(f"  {label:<18} {report.rows} rows, {report.status}: {seconds:.1f} s, "
                  f"{size / seconds / 2**20:.0f} MiB/s, peak RSS +{peak.peak / 2**20:.0f} MiB "
                  f"({peak.peak / size:.1%} of the data)")
        del pd


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference", type=int, default=40_000)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--rows", type=int, default=8_000_000)
    parser.add_argument("--files", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-parquet", action="store_true")
    parser.add_argument("--skip-agreement", action="store_true")
    args = parser.parse_args(argv)
    if not args.skip_agreement:
        agreement(args.reference, args.seeds)
    if not args.skip_parquet:
        parquet(args.rows, args.files, args.workers)


if __name__ == "__main__":
    main()
