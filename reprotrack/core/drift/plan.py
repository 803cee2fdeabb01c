"""What the research statistics of one checkpoint say each column should look like: the drift plan.

``plan_of(fingerprint)`` reads the per-column statistics of a research fingerprint (``stats``) and returns one
``ColumnPlan`` per column: how to test it (``number``, ``labels`` or ``untestable``), the research
distribution function at a set of points (numbers) or the research shares of the listed categories plus
"other" (labels). The plan is all the new data's profile needs (``reprotrack.core.drift.profile``): the
research data itself is never needed.

Numbers use the 41-point ``cdf_grid`` when the lock has it (``reprotrack.core.fingerprint.cdf``); older locks
fall back to min, the seven stored quantiles and max (``coarse`` says so, and the report repeats it).
Labels are compared as opaque strings: a lock that withholds some labels (a privacy policy) lists fewer labels
than the column has distinct values, and the counts it does not name stay in "other". Pure: no I/O.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

GRID_STEPS = 40
SAMPLE_CAP = 16384  # colstats.STATS_SAMPLE: the research quantiles come from at most this many values


def label_key(value: Any) -> str:
    """A category label as an opaque string: strings as they are, anything else as its JSON text."""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


@dataclass
class ColumnPlan:
    name: Any
    dtype: str
    kind: str
    mode: str  # number | labels | untestable
    rows: int = 0  # research rows (non-null + null)
    nulls: int = 0
    count: int = 0  # research non-null values
    #: numbers: distinct points and the research distribution function P(X <= point) at each
    points: list[float] = field(default_factory=list)
    cdf: list[float] = field(default_factory=list)
    #: how far the research value at each point may be from the truth (half its bracket): tests use the
    #: distances minus this, so a coarse or point-mass grid never alarms on its own resolution
    err: list[float] = field(default_factory=list)
    lo: float | None = None  # exact research min / max (out-of-range)
    hi: float | None = None
    std: float | None = None
    mean: float | None = None
    coarse: bool = False
    #: integers, or a grid with repeated values: point masses, compared by mid-distribution (see collapse_ties)
    discrete: bool = False
    #: labels: research counts of the listed labels (opaque keys) and what the list leaves out
    labels: dict[str, int] = field(default_factory=dict)
    other: int = 0
    complete: bool = False  # every research value is listed: a label outside the list is new
    hashed: bool = False
    why: str = ""  # untestable: the reason

    @property
    def sample_size(self) -> int:
        return max(1, min(self.count, SAMPLE_CAP))


def _num(x: Any) -> float | None:
    if isinstance(x, bool) or x is None:
        return None
    if isinstance(x, str):
        x = {"inf": math.inf, "-inf": -math.inf}.get(x)
        return x
    return float(x)


def plan_of(fp: dict[str, Any]) -> list[ColumnPlan]:
    """One plan per column of a research fingerprint, in column order (an empty list when it has no stats)."""
    return [column_plan(s) for s in fp.get("stats") or [] if isinstance(s, dict)]


def column_plan(s: dict[str, Any]) -> ColumnPlan:
    count = int(s.get("count") or 0)
    nulls = int(s.get("nulls") or 0)
    plan = ColumnPlan(name=s.get("name"), dtype=str(s.get("dtype")), kind=str(s.get("kind")), mode="untestable",
                      rows=count + nulls, nulls=nulls, count=count)
    if s.get("kind") == "bool" and "true" in s:
        true = int(s["true"])
        plan.mode, plan.labels, plan.complete = "labels", {"true": true, "false": count - true}, True
        return plan
    if isinstance(s.get("top"), list):
        plan.mode = "labels"
        for item in s["top"]:
            plan.labels[label_key(item[0])] = plan.labels.get(label_key(item[0]), 0) + int(item[1])
        plan.other = max(0, count - sum(plan.labels.values()))
        plan.complete = plan.other == 0 and s.get("distinct") in (None, len(plan.labels))
        plan.hashed = bool(plan.labels) and all(k.startswith("h:") for k in plan.labels)
        return plan
    points, probs = _research_points(s)
    if points:
        plan.mode = "number"
        plan.coarse = "cdf_grid" not in s or s.get("cdf_grid") is None
        plan.discrete = plan.kind in ("int", "uint") or len(set(points)) < len(points)
        plan.points, plan.cdf, plan.err = (mid_distribution(points, probs) if plan.discrete
                                           else collapse_ties(points, probs))
        plan.lo, plan.hi = _num(s.get("min")), _num(s.get("max"))
        plan.std, plan.mean = _num(s.get("std")), _num(s.get("mean"))
        return plan
    plan.why = ("no top values (too many distinct values to list)" if s.get("distinct") is not None
                else "no statistics for this column")
    return plan


def _research_points(s: dict[str, Any]) -> tuple[list[float], list[float]]:
    grid = s.get("cdf_grid")
    if isinstance(grid, list) and len(grid) >= 2:
        n = len(grid) - 1
        return [float(v) for v in grid], [k / n for k in range(n + 1)]
    quantiles = s.get("quantiles")
    lo, hi = _num(s.get("min")), _num(s.get("max"))
    if not isinstance(quantiles, dict) or lo is None or hi is None or not (math.isfinite(lo) and math.isfinite(hi)):
        return [], []
    pairs = sorted((float(p), _num(v)) for p, v in quantiles.items())
    pairs = [(p, v) for p, v in pairs if v is not None and math.isfinite(v)]
    return [lo] + [v for _, v in pairs] + [hi], [0.0] + [p for p, _ in pairs] + [1.0]


def mid_distribution(points: list[float], probs: list[float]) -> tuple[list[float], list[float], list[float]]:
    """Distinct points and the research mid-distribution (P(X < v) + P(X <= v)) / 2 at each: for values with
    point masses (integers, rounded numbers) a quantile grid brackets both limits -- P(X < v) lies between
    the grid step before v's first appearance and that appearance, P(X <= v) between its last appearance and
    the next step -- so each is taken at its bracket's middle (error at most half a step). The new data's
    side is counted exactly the same way (``profile``: values below v and at or below v)."""
    out_points: list[float] = []
    out_mid: list[float] = []
    out_err: list[float] = []
    n = len(points)
    for i, j in _runs(points):
        below = 0.0 if i == 0 else (probs[i - 1] + probs[i]) / 2
        upto = 1.0 if j == n - 1 else (probs[j] + probs[j + 1]) / 2
        below_err = 0.0 if i == 0 else (probs[i] - probs[i - 1]) / 2
        upto_err = 0.0 if j == n - 1 else (probs[j + 1] - probs[j]) / 2
        out_points.append(points[i])
        out_mid.append((below + upto) / 2)
        out_err.append((below_err + upto_err) / 2)
    return out_points, out_mid, out_err


def collapse_ties(points: list[float], probs: list[float]) -> tuple[list[float], list[float], list[float]]:
    """Distinct points and P(X <= point) at each. A value that fills several grid steps (a point mass) holds
    between the last step it fills and the next one: the midpoint, so that the error is at most half a step."""
    out_points: list[float] = []
    out_cdf: list[float] = []
    out_err: list[float] = []
    n = len(points)
    for i, j in _runs(points):
        if j == n - 1:
            value, err = 1.0, 0.0
        elif j > i:
            value, err = (probs[j] + probs[j + 1]) / 2, (probs[j + 1] - probs[j]) / 2
        else:
            value, err = probs[j], 0.0
        out_points.append(points[i])
        out_cdf.append(value)
        out_err.append(err)
    return out_points, out_cdf, out_err


def _runs(points: list[float]):
    """(first, last) index of each run of equal points in the sorted grid."""
    i, n = 0, len(points)
    while i < n:
        j = i
        while j + 1 < n and points[j + 1] == points[i]:
            j += 1
        yield i, j
        i = j + 1
