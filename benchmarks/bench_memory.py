"""Memory added by fingerprinting a frame of a given size, by the engine and by a tracked cell.

    python benchmarks/bench_memory.py [--gb 2.0]

Builds a DataFrame of ``--gb`` gigabytes (float64, int64, datetime64 and a low-cardinality categorical
column), then measures the peak resident memory *above* the frame (``PeakRSS`` from bench_fingerprint:
/proc polled every 2 ms) for:

* ``fingerprint(df)`` — every part (content, rows, approx, stats);
* ``fingerprint(df, parts=("content",))`` — the proof of "unchanged" a tracked cell computes;
* real ``InteractiveShell`` cells ``same = df`` and ``n = len(same)`` under ``%reprotrack start`` — over the size cap
  (``REPROTRACK_MAX_BYTES``, default 1 GiB) the capture asks for content and stats only.

Bounded means a few chunk-sized buffers, independent of the frame: the figures are printed in MB and as a
fraction of the frame; compare them between sizes (``--gb 0.5`` against ``--gb 2``). Not run in CI; no
assertions (tests never measure time or memory).
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd


def _peak_rss():
    spec = importlib.util.spec_from_file_location("bench_fingerprint", Path(__file__).with_name("bench_fingerprint.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.PeakRSS


def build_frame(gb: float) -> pd.DataFrame:
    rows = max(1000, int(gb * 1e9 / (8 * 4 + 1)))
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "f": rng.random(rows),
        "i": rng.integers(0, 1 << 40, rows),
        "t": pd.to_datetime(rng.integers(0, 2_000_000_000, rows), unit="s"),
        "g": pd.Categorical.from_codes(rng.integers(0, 20, rows).astype(np.int8), [f"c{i}" for i in range(20)]),
        "h": rng.random(rows),
    })


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gb", type=float, default=2.0, help="frame size in GB (default 2)")
    args = parser.parse_args(argv)
    from reprotrack.core.fingerprint import fingerprint

    PeakRSS = _peak_rss()
    df = build_frame(args.gb)
    size = int(df.memory_usage(deep=True).sum())
    print(f"frame: {len(df):,} rows x {df.shape[1]} columns, {size / 1e9:.2f} GB", flush=True)

    def report(label: str, rss) -> None:
        print(f"{label:<44} peak RSS above the frame {rss.increase:8.0f} MB ({rss.increase * 2**20 / size:6.1%})",
              flush=True)

    for label, parts in (("fingerprint(df), every part", None), ("fingerprint(df, parts=('content',))", ("content",))):
        gc.collect()
        with PeakRSS() as rss:
            fingerprint(df) if parts is None else fingerprint(df, parts=parts)
        report(label, rss)

    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    shell = InteractiveShell.instance(config=config)
    shell.run_line_magic("load_ext", "reprotrack")
    shell.user_ns["df"] = df
    shell.run_cell("%reprotrack start --lock /dev/null/never-saved.lock", store_history=True)
    from reprotrack.kernel import session

    # cells that allocate nothing themselves: what they cost is the tracker's fingerprint
    for label, source in (("tracked cell `same = df` (recorded)", "same = df"),
                          ("tracked cell `n = len(same)` (content proof)", "n = len(same)")):
        gc.collect()
        with PeakRSS() as rss:
            shell.run_cell(source, store_history=True)
        report(label, rss)
    data = session.active().cells[-2].data.get("same", {})
    print(f"  recorded parts: {sorted(k for k in ('content', 'rows', 'approx', 'stats') if data.get(k))}, "
          f"skipped: {data.get('skipped')}", flush=True)
    session.active().stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
