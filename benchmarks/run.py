"""Run every reprotrack benchmark in one go: ``.venv/bin/python benchmarks/run.py [--quick]``.

Each benchmark prints its figures as ratios against baselines measured in the same run (joblib.hash,
pandas' hash_pandas_object, bare IPython). ``--quick`` uses smaller inputs for a fast look; the figures
quoted in closing notes come from the default sizes.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = ("bench_fingerprint", "bench_overhead", "bench_dask", "bench_spark", "bench_memory", "bench_script_run",
              "bench_drift")
QUICK_ARGS = {"bench_fingerprint": ["--rows", "1000000"], "bench_overhead": ["--quick"],
              "bench_dask": ["--rows", "2000000", "--files", "8"], "bench_spark": ["--rows", "500000"], "bench_memory": ["--gb", "0.25"],
              "bench_script_run": ["--repeat", "2"], "bench_drift": ["--seeds", "2", "--rows", "1000000", "--files", "4"]}


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller inputs, for a fast look")
    parser.add_argument("only", nargs="*", help=f"run only these: {', '.join(BENCHMARKS)}")
    args = parser.parse_args(argv)
    unknown = set(args.only) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    for name in args.only or BENCHMARKS:
        if not (HERE / f"{name}.py").exists():
            print(f"== {name}: not present, skipped")
            continue
        print(f"== {name}", flush=True)
        _load(name).main(QUICK_ARGS[name] if args.quick else [])
    return 0


if __name__ == "__main__":
    sys.exit(main())
