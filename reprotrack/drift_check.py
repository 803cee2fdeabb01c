"""``reprotrack.drift(lock, checkpoint, data)``: new data against a research checkpoint's statistics.

(Named ``drift_check`` rather than ``drift`` so that the submodule never shadows the ``reprotrack.drift``
function once imported.)

This is the edge of the drift check: it reads the lock, the thresholds (``[tool.reprotrack.drift]``) and the
new data, and hands counts to the pure core (``reprotrack.core.drift``). The data is counted where it lives:

* files (CSV, Parquet; several, a folder, a glob) are read a batch at a time (Parquet row groups, CSV chunks
  of ``CHUNK_ROWS``), so memory stays bounded whatever their size;
* a pandas frame is counted as it is; a Dask frame partition by partition by Dask's own scheduler, a Spark
  frame by its executors (``mapInPandas``); only the per-partition counts, a few KB, come back.

Privacy: the new data's label counts are protected with the research lock's policy and salt
(``protect_labels``) before they are compared, so that they match the lock's labels as it stored them.
"""

from __future__ import annotations

import functools
import glob as globbing
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from reprotrack import config, store
from reprotrack.core.drift import (
    DriftOptions,
    DriftReport,
    drift_report,
    merge,
    plan_of,
    profile,
)
from reprotrack.core.drift.plan import ColumnPlan, label_key
from reprotrack.core.drift.profile import column_key, empty
from reprotrack.core.lockfile import Lock
from reprotrack.core.privacy import protect
from reprotrack.errors import UsageError

CHUNK_ROWS = 1 << 18
SUFFIXES = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".parquet": "parquet", ".pq": "parquet",
            ".csv.gz": "csv", ".csv.bz2": "csv", ".csv.zip": "csv", ".csv.xz": "csv"}


def drift(lock: Any, checkpoint: str, data: Any, *, options: DriftOptions | None = None,
          **thresholds: Any) -> DriftReport:
    """Compare ``data`` (a pandas/Dask/Spark frame, a file path, a folder, a glob or a list of paths) with the
    statistics ``lock`` (a path or a loaded lock) recorded for ``checkpoint``. ``thresholds`` override the
    defaults of ``[tool.reprotrack.drift]`` for every column (``wasserstein=0.2``, ``required=True``)."""
    research_lock = lock if isinstance(lock, Lock) else store.read_lock(lock)
    where = Path(lock).resolve().parent if not isinstance(lock, Lock) else None
    research = research_fingerprint(research_lock, checkpoint)
    plans = plan_of(research)
    if options is None:
        options = config.load_drift_options(where, **thresholds)
    new, source = profile_of(data, plans, research_lock)
    if not new["columns"] and plans:
        wanted = ", ".join(str(p.name) for p in plans[:8])
        raise UsageError(f"the data has none of the columns of checkpoint {checkpoint!r} ({wanted}); "
                         "is it the right file?")
    return drift_report(research, new, checkpoint, options, plans, source=source)


def research_fingerprint(lock: Lock, name: str) -> dict[str, Any]:
    """The checkpoint's fingerprint, else the last fingerprint of a cell variable of that name."""
    fp = lock.checkpoints.get(name)
    if fp is None:
        for cell in reversed(lock.cells):
            if name in (cell.data or {}):
                fp = cell.data[name]
                break
    if fp is None:
        known = sorted(lock.checkpoints) or sorted({k for c in lock.cells for k in (c.data or {})})
        hint = f"; it has: {', '.join(known[:12])}" if known else "; it has no checkpoints"
        raise UsageError(f"the lock has no checkpoint {name!r}{hint}")
    if not isinstance(fp, dict) or not fp.get("stats"):
        raise UsageError(f"checkpoint {name!r} has no column statistics (it is a {fp.get('type') if isinstance(fp, dict) else '?'}, "
                         "not a table); drift needs a table checkpoint")
    return fp


def profile_of(data: Any, plans: list[ColumnPlan], lock: Lock | None = None) -> tuple[dict[str, Any], str]:
    """The new data's counts against the plans (labels protected as the research lock's were), and a short
    description of where they came from."""
    new, source = _count(data, plans)
    return protect_labels(new, lock), source


def _count(data: Any, plans: list[ColumnPlan]) -> tuple[dict[str, Any], str]:
    from reprotrack.core.fingerprint.distributed import engine_of

    if isinstance(data, (str, os.PathLike)) or (isinstance(data, (list, tuple)) and data
                                                   and all(isinstance(d, (str, os.PathLike)) for d in data)):
        files = expand(data)
        parts = (profile(batch, plans) for batch in read_batches(files, plans))
        label = str(files[0]) if len(files) == 1 else f"{len(files)} files"
        return _reduce(parts, plans), label
    engine = engine_of(data)
    if engine == "dask":
        return _dask(data, plans), "dask frame"
    if engine == "spark":
        return _spark(data, plans), "spark frame"
    if hasattr(data, "to_frame") and not hasattr(data, "columns"):
        data = data.to_frame()
    if not hasattr(data, "columns") or not hasattr(data, "iloc"):
        raise UsageError(f"drift compares a table (pandas, Dask or Spark frame, CSV or Parquet file), not a "
                         f"{type(data).__name__}")
    return profile(data, plans), "pandas frame"


def protect_labels(new: dict[str, Any], lock: Lock | None) -> dict[str, Any]:
    """The new data's label counts under the research lock's privacy policy, so that they compare with the
    lock's labels: withheld labels fall into "other", hashed ones match by keyed hash. The counts go through
    ``reprotrack.core.privacy.protect`` as a fingerprint's ``stats[].top`` would. No policy (older locks,
    ``values``): unchanged."""
    privacy = lock.privacy if lock is not None else None
    policy = privacy.get("policy") if isinstance(privacy, dict) else None
    if policy in (None, "values"):
        return new
    keys = [k for k, c in new["columns"].items() if c.get("mode") == "labels"]
    fp = {"stats": [{"name": k, "kind": "object", "count": new["columns"][k]["n"],
                     "nulls": new["columns"][k]["nulls"], "distinct": len(new["columns"][k]["counts"]),
                     "top": sorted(([label, n] for label, n in new["columns"][k]["counts"].items()),
                                   key=lambda t: (-t[1], t[0]))} for k in keys]}
    protected = protect(fp, policy, privacy.get("salt") or "")
    for key, stats in zip(keys, protected.get("stats") or []):
        counts: dict[str, int] = {}
        for label, n in stats.get("top") or []:
            counts[label_key(label)] = counts.get(label_key(label), 0) + int(n)
        new["columns"][key] = {**new["columns"][key], "counts": counts}
    return new


def _reduce(parts: Iterable[dict[str, Any]], plans: list[ColumnPlan]) -> dict[str, Any]:
    return functools.reduce(lambda a, b: merge(a, b, plans), parts, empty(plans))


def _dask(frame: Any, plans: list[ColumnPlan]) -> dict[str, Any]:
    import dask

    if not hasattr(frame, "columns"):
        frame = frame.to_frame()
    tasks = [dask.delayed(profile)(part, plans) for part in frame.to_delayed()]
    return _reduce(dask.compute(*tasks), plans)


def _spark(df: Any, plans: list[ColumnPlan]) -> dict[str, Any]:
    import pandas as pd

    def count(batches):
        acc = None
        for pdf in batches:
            got = profile(pdf, plans)
            acc = got if acc is None else merge(acc, got, plans)
        if acc is not None:
            yield pd.DataFrame({"profile": [json.dumps(acc)]})

    rows = df.mapInPandas(count, schema="profile string").collect()
    return _reduce((json.loads(r["profile"]) for r in rows), plans)


def expand(data: Any) -> list[Path]:
    """Files from a path, a folder (its CSV/Parquet files, sorted), a glob, or a list of them."""
    items = list(data) if isinstance(data, (list, tuple)) else [data]
    files: list[Path] = []
    for item in items:
        text = os.fspath(item)
        if any(ch in text for ch in "*?[") and not Path(text).exists():
            matched = sorted(globbing.glob(text, recursive=True))
            if not matched:
                raise UsageError(f"no file matches {text}")
            files.extend(Path(m) for m in matched if Path(m).is_file())
            continue
        path = Path(text)
        if path.is_dir():
            inside = sorted(p for p in path.rglob("*") if p.is_file() and kind_of(p) is not None)
            if not inside:
                raise UsageError(f"{path} holds no CSV or Parquet file")
            files.extend(inside)
        elif path.is_file():
            files.append(path)
        else:
            raise UsageError(f"no data file at {path}")
    for f in files:
        if kind_of(f) is None:
            raise UsageError(f"{f}: not a CSV or Parquet file (by its name: .csv, .tsv, .parquet, .pq)")
    return files


def kind_of(path: Path) -> str | None:
    name = path.name.lower()
    for suffix, kind in sorted(SUFFIXES.items(), key=lambda t: -len(t[0])):
        if name.endswith(suffix):
            return kind
    return None


def read_batches(files: list[Path], plans: list[ColumnPlan]) -> Iterable[Any]:
    """The files' rows a bounded batch at a time; a file that cannot be read is one ``UsageError``."""
    times = {p.name for p in plans if p.kind in ("datetime",) or str(p.dtype).startswith("datetime64")}
    for path in files:
        try:
            if kind_of(path) == "parquet":
                yield from _parquet(path)
            else:
                yield from _csv(path, times)
        except UsageError:
            raise
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read {path}: {' '.join(str(exc).split())[:200]}") from None
        except Exception as exc:  # noqa: BLE001 - parsers raise their own types (ArrowInvalid, ParserError, ...)
            raise UsageError(f"cannot read {path}: {type(exc).__name__}: {' '.join(str(exc).split())[:200]}") from None


def _parquet(path: Path) -> Iterable[Any]:
    import pyarrow.parquet as pq

    with pq.ParquetFile(path) as handle:
        for batch in handle.iter_batches(batch_size=CHUNK_ROWS):
            yield batch.to_pandas()


def _csv(path: Path, times: set[Any]) -> Iterable[Any]:
    import pandas as pd

    sep = "\t" if path.name.lower().endswith(".tsv") else ","
    header = pd.read_csv(path, sep=sep, nrows=0)
    parse = [c for c in header.columns if c in times]
    yield from pd.read_csv(path, sep=sep, chunksize=CHUNK_ROWS, parse_dates=parse or None)


def column_names(plans: list[ColumnPlan]) -> list[str]:
    return [column_key(p.name) for p in plans]
