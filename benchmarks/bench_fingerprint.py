"""Fingerprint throughput against joblib.hash and pandas.util.hash_pandas_object, measured in the same run.

    python benchmarks/bench_fingerprint.py [--rows 10000000] [--repeat 1]

Builds a frame with float, int, bool, datetime, low-cardinality strings (object and categorical) and unique
string ids, then times (best of ``--repeat``) the full ``reprotrack.fingerprint``, the ``content`` hash alone,
``joblib.hash`` and ``hash_pandas_object(df).values`` + xxh3 of its output. Throughput is GB/s of the frame's
deep memory size; ratios are against the same run's baselines. Also reports the peak RSS increase of the
fingerprint (``resource.getrusage``, measured before anything else allocates). Not run in CI.
"""

from __future__ import annotations

import argparse
import gc
import resource
import sys
import time
from typing import Any, Callable

import numpy as np
import pandas as pd

TARGETS = {"full/joblib": 15.0, "full/hash_pandas_object": 4.0, "content/joblib": 25.0}


def build_frame(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    words = np.array(["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"], dtype=object)
    low = words[rng.integers(0, len(words), rows)]
    ids = np.array([f"user-{i:010d}" for i in rng.permutation(rows)], dtype=object)
    return pd.DataFrame({
        "amount": rng.normal(100.0, 15.0, rows),
        "count": rng.integers(0, 1_000_000, rows),
        "flag": rng.random(rows) < 0.3,
        "when": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365 * 86400, rows), unit="s"),
        "city": pd.Series(low, dtype=object),
        "city_cat": pd.Categorical(low),
        "user_id": pd.Series(ids, dtype=object),
    })


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def _current_rss_mb() -> float:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * resource.getpagesize() / 2**20
    except OSError:  # not Linux: fall back to the peak
        return _rss_mb()


class PeakRSS:
    """Peak resident memory above the level at entry, polled every 2 ms (getrusage's peak is for the whole
    process life, so it misses anything below the frame-building peak)."""

    def __enter__(self) -> "PeakRSS":
        import threading

        self.base = _current_rss_mb()
        self.peak = self.base
        self.maxrss0 = _rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def _poll(self) -> None:
        while not self._stop.wait(0.002):
            self.peak = max(self.peak, _current_rss_mb())

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _current_rss_mb())
        self.increase = self.peak - self.base
        self.maxrss_increase = _rss_mb() - self.maxrss0


def _time(fn: Callable[[], Any], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--skip-joblib", action="store_true", help="joblib.hash is slow on big frames")
    args = parser.parse_args(argv)

    import xxhash

    from reprotrack.core.fingerprint import content_hash, fingerprint

    df = build_frame(args.rows)
    size = int(df.memory_usage(deep=True).sum())
    print(f"frame: {args.rows:,} rows x {df.shape[1]} columns, deep size {size / 1e9:.3f} GB", flush=True)

    fingerprint(df.iloc[:1000])  # warm-up (imports, power tables) outside the RSS measure of the big run
    gc.collect()
    with PeakRSS() as rss:
        fingerprint(df)
    t_full = _time(lambda: fingerprint(df), args.repeat)
    t_content = _time(lambda: content_hash(df), args.repeat)
    t_hpo = _time(lambda: xxhash.xxh3_128_hexdigest(pd.util.hash_pandas_object(df).values), args.repeat)
    t_joblib = None
    if not args.skip_joblib:
        import joblib

        t_joblib = _time(lambda: joblib.hash(df), 1)

    def line(name: str, seconds: float) -> None:
        print(f"{name:<34} {seconds:8.3f} s  {size / seconds / 1e9:7.2f} GB/s", flush=True)

    line("reprotrack.fingerprint (full)", t_full)
    line("reprotrack content hash only", t_content)
    line("hash_pandas_object + xxh3", t_hpo)
    if t_joblib is not None:
        line("joblib.hash", t_joblib)
    ratios = {"full/hash_pandas_object": t_hpo / t_full, "content/hash_pandas_object": t_hpo / t_content}
    if t_joblib is not None:
        ratios.update({"full/joblib": t_joblib / t_full, "content/joblib": t_joblib / t_content})
    for name, value in ratios.items():
        target = TARGETS.get(name)
        verdict = "" if target is None else (f"  (target >= {target:g}x: {'met' if value >= target else 'MISSED'})")
        print(f"speed-up {name:<28} {value:7.1f}x{verdict}")
    print(f"peak RSS increase during the full fingerprint: {rss.increase:.0f} MB polled "
          f"({rss.increase * 2**20 / max(size, 1):.1%} of the frame's deep size); "
          f"getrusage peak increase {rss.maxrss_increase:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
