"""Dask fingerprint of a Parquet dataset on disk, with bounded memory, against pandas on a frame that fits.

    .venv/bin/python benchmarks/bench_dask.py [--rows 16000000] [--files 32] [--workers 2]

Writes ``--rows`` rows (an int, two floats with NaNs, a low-cardinality string, a datetime) as ``--files``
Parquet files in a temporary folder, then in the same run:

* ``reprotrack.fingerprint(dd.read_parquet(folder))`` on Dask's threaded scheduler (``--workers`` threads):
  throughput over the in-memory size of the data, and the peak RSS increase of the process (polled);
* ``reprotrack.fingerprint`` of one file read with pandas (a frame that fits), the same figures, and
  whether the Dask fingerprint of that one file equals it.

Honesty about "larger than memory": on a 24 GiB machine a dataset larger than RAM is impractical to write
and read within a test session, so the size is a parameter. What the default shows is the property that
makes larger-than-memory work: peak RSS is bounded by the partitions in flight (a few partitions times
``--workers``), far below the size of the data, and it does not grow with ``--rows``. Run with
``--rows 400000000`` (≈ 16 GB in memory) on a quiet machine for the real thing.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


class PeakRSS:
    """Polls this process's RSS every 5 ms; ``peak`` is the largest increase over the baseline."""

    def __init__(self) -> None:
        import psutil

        self.proc = psutil.Process()
        self.base = self.proc.memory_info().rss
        self.peak = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        while not self.stop.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss - self.base)
            time.sleep(0.005)

    def __enter__(self) -> "PeakRSS":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join()


def write_dataset(folder: Path, rows: int, files: int) -> int:
    import numpy as np
    import pandas as pd

    per = -(-rows // files)
    total = 0
    for k in range(files):
        n = min(per, rows - k * per)
        if n <= 0:
            break
        rng = np.random.default_rng(k)
        f = rng.normal(size=n)
        f[rng.random(n) < 0.01] = np.nan
        df = pd.DataFrame({
            "id": np.arange(k * per, k * per + n, dtype=np.int64), "x": f, "y": rng.random(n),
            "city": rng.choice(np.array(["oslo", "lima", "pune", "kyiv", "baku"], dtype=object), n),
            "t": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 10**9, n), unit="s"),
        })
        df.to_parquet(folder / f"part-{k:04d}.parquet", index=False)
        total += int(df.memory_usage(deep=True).sum())
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=16_000_000)
    parser.add_argument("--files", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    import dask
    import dask.dataframe as dd
    import pandas as pd

    from reprotrack.core.fingerprint import fingerprint

    with tempfile.TemporaryDirectory(prefix="reprotrack-bench-dask-") as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        size = write_dataset(folder, args.rows, args.files)
        disk = sum(p.stat().st_size for p in folder.iterdir())
        print(f"dataset: {args.rows:,} rows in {args.files} Parquet files, {disk / 1e9:.2f} GB on disk, "
              f"{size / 1e9:.2f} GB in memory as pandas (written in {time.perf_counter() - t0:.1f} s)")
        with dask.config.set(scheduler="threads", num_workers=args.workers):
            ddf = dd.read_parquet(str(folder))
            with PeakRSS() as mem:
                t0 = time.perf_counter()
                fp = fingerprint(ddf)
                took = time.perf_counter() - t0
            print(f"dask fingerprint ({ddf.npartitions} partitions, {args.workers} threads): {took:.2f} s, "
                  f"{size / took / 1e9:.2f} GB/s, peak RSS increase {mem.peak / 1e6:.0f} MB "
                  f"({mem.peak / size:.1%} of the data)  content {fp['content'][:20]}…")
            first = sorted(folder.iterdir())[0]
            one = pd.read_parquet(first)
            one_size = int(one.memory_usage(deep=True).sum())
            with PeakRSS() as mem:
                t0 = time.perf_counter()
                expected = fingerprint(one)
                took = time.perf_counter() - t0
            print(f"pandas fingerprint of one file ({len(one):,} rows, {one_size / 1e6:.0f} MB): {took:.3f} s, "
                  f"{one_size / took / 1e9:.2f} GB/s, peak RSS increase {mem.peak / 1e6:.0f} MB")
            same = fingerprint(dd.read_parquet(str(first)))
            equal = all(same[k] == expected[k] for k in ("content", "rows", "shape", "approx"))
            note = "" if same["schema"] == expected["schema"] else \
                " (schema: Dask reads strings as 'string', pandas as 'str': same values, other dtype)"
            print(f"dask fingerprint of that file equals pandas (content, rows, shape, approx): {equal}{note}")
    return 0 if equal else 1


if __name__ == "__main__":
    sys.exit(main())
