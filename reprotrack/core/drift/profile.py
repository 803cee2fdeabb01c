"""The new data's side of a drift test: one partition's counts against the research plan, and their merge.

``profile(pdf, plans)`` looks at one pandas frame (a whole table, or one Dask/Spark partition) and returns,
per planned column, only counts and sums: numbers -- how many values fall at or below each research point,
below the research min and above the research max, and how far beyond the outermost points they lie (for the
Wasserstein tails); labels -- the count of every label (opaque strings, ``plan.label_key``), capped at
``LABEL_CAP`` labels besides the research ones. ``merge`` adds two profiles; it is associative and
commutative, so partitions reduce in any order and the result equals the profile of the whole table. Every
field is JSON-safe, so a Spark executor can send it back as text. Bounded: O(points + LABEL_CAP) per column.

Pure: numpy and pandas, no I/O, no Dask, no Spark.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from reprotrack.core.drift.plan import ColumnPlan, label_key
from reprotrack.core.fingerprint.colstats import label

LABEL_CAP = 4096


def column_key(name: Any) -> str:
    """How a column is matched between the lock and new data: its label, as an opaque string."""
    return label_key(label(name))


def profile(pdf: Any, plans: list[ColumnPlan]) -> dict[str, Any]:
    columns = {column_key(c): j for j, c in enumerate(pdf.columns)}
    out: dict[str, Any] = {"rows": len(pdf), "columns": {}, "extra": {}}
    wanted = {column_key(p.name) for p in plans}
    for key, j in columns.items():
        if key not in wanted:
            out["extra"][key] = str(pdf.dtypes.iloc[j])
    for plan in plans:
        key = column_key(plan.name)
        if key not in columns:
            continue
        series = pdf.iloc[:, columns[key]]
        out["columns"][key] = (_numbers(series, plan) if plan.mode == "number" else
                               _labels(series, plan) if plan.mode == "labels" else
                               {"mode": plan.mode, "dtype": str(series.dtype), "n": int(series.notna().sum()),
                                "nulls": int(series.isna().sum())})
    return out


def as_floats(series: Any) -> np.ndarray | None:
    """The values as float64 (NaN = null), datetimes as seconds since the epoch as the lock stores them;
    None when the column holds no numbers (a dtype change the report names)."""
    import pandas as pd

    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return None
    if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
        values = series
        if getattr(dtype, "tz", None) is not None:
            values = values.dt.tz_convert("UTC").dt.tz_localize(None)
        ns = values.to_numpy(dtype="datetime64[ns]" if pd.api.types.is_datetime64_any_dtype(dtype)
                             else "timedelta64[ns]")
        out = ns.view(np.int64).astype(np.float64) / 1e9
        out[np.isnat(ns)] = np.nan
        return out
    if pd.api.types.is_numeric_dtype(dtype):
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    return None


def _numbers(series: Any, plan: ColumnPlan) -> dict[str, Any]:
    x = as_floats(series)
    base = {"mode": "number", "dtype": str(series.dtype)}
    if x is None:
        return {**base, "mode": "incompatible", "n": int(series.notna().sum()), "nulls": int(series.isna().sum())}
    null = np.isnan(x)
    x = x[~null]
    points = np.asarray(plan.points, dtype=np.float64)
    ordered = np.sort(x)
    with np.errstate(all="ignore"):
        below_dist = float(np.sum(points[0] - x[x < points[0]])) if len(x) else 0.0
        above_dist = float(np.sum(x[x > points[-1]] - points[-1])) if len(x) else 0.0
    lo = plan.lo if plan.lo is not None else points[0]
    hi = plan.hi if plan.hi is not None else points[-1]
    return {**base, "n": len(x), "nulls": int(null.sum()),
            "cum": np.searchsorted(ordered, points, side="right").astype(int).tolist(),
            **({"cum_lt": np.searchsorted(ordered, points, side="left").astype(int).tolist()} if plan.discrete else {}),
            "below": int(np.count_nonzero(x < lo)), "above": int(np.count_nonzero(x > hi)),
            "below_dist": below_dist, "above_dist": above_dist,
            "sum": float(np.sum(x[np.isfinite(x)])), "finite": int(np.count_nonzero(np.isfinite(x)))}


def _labels(series: Any, plan: ColumnPlan) -> dict[str, Any]:
    import pandas as pd

    base = {"mode": "labels", "dtype": str(series.dtype)}
    nulls = int(series.isna().sum())
    if pd.api.types.is_bool_dtype(series.dtype) and set(plan.labels) == {"true", "false"}:
        true = int(series.fillna(False).astype(bool).sum())
        return {**base, "n": int(len(series) - nulls), "nulls": nulls,
                "counts": {"true": true, "false": int(len(series) - nulls - true)}, "overflow": 0}
    counts: dict[str, int] = {}
    for value, count in series.value_counts(dropna=True, sort=False).items():
        key = label_key(label(value))
        counts[key] = counts.get(key, 0) + int(count)
    counts, overflow = _cap(counts, plan)
    return {**base, "n": int(len(series) - nulls), "nulls": nulls, "counts": counts, "overflow": overflow}


def _cap(counts: dict[str, int], plan: ColumnPlan) -> tuple[dict[str, int], int]:
    """The research labels always, plus the ``LABEL_CAP`` most frequent others; the rest only counted."""
    if len(counts) <= len(plan.labels) + LABEL_CAP:
        return counts, 0
    keep = {k: v for k, v in counts.items() if k in plan.labels}
    others = sorted(((v, k) for k, v in counts.items() if k not in plan.labels), key=lambda t: (-t[0], t[1]))
    keep.update({k: v for v, k in others[:LABEL_CAP]})
    return keep, sum(v for v, _ in others[LABEL_CAP:])


def merge(a: dict[str, Any], b: dict[str, Any], plans: list[ColumnPlan]) -> dict[str, Any]:
    """The profile of two partitions together (any order, any grouping)."""
    by_key = {column_key(p.name): p for p in plans}
    out: dict[str, Any] = {"rows": a["rows"] + b["rows"], "columns": {}, "extra": {**b["extra"], **a["extra"]}}
    for key in set(a["columns"]) | set(b["columns"]):
        x, y = a["columns"].get(key), b["columns"].get(key)
        if x is None or y is None:
            out["columns"][key] = x or y
            continue
        if x["mode"] != y["mode"]:  # one partition had no numbers: the column as a whole is incompatible
            keep = x if x["mode"] == "incompatible" else y
            out["columns"][key] = {**keep, "n": x["n"] + y["n"], "nulls": x["nulls"] + y["nulls"]}
            continue
        z = dict(x)
        for field in ("n", "nulls", "below", "above", "below_dist", "above_dist", "sum", "finite", "overflow"):
            if field in x:
                z[field] = x[field] + y[field]
        for cum in ("cum", "cum_lt"):
            if cum in x:
                z[cum] = [i + j for i, j in zip(x[cum], y[cum])]
        if "counts" in x:
            counts = dict(x["counts"])
            for k, v in y["counts"].items():
                counts[k] = counts.get(k, 0) + v
            counts, dropped = _cap(counts, by_key[key])
            z["counts"], z["overflow"] = counts, z["overflow"] + dropped
        out["columns"][key] = z
    return out


def empty(plans: list[ColumnPlan]) -> dict[str, Any]:
    return {"rows": 0, "columns": {}, "extra": {}}
