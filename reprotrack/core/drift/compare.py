"""The drift verdict: the research plan and the new data's profile in, per-column results and findings out.

Every column gets the measures of ``reprotrack.core.drift.measures`` and a verdict from its thresholds
(``reprotrack.core.drift.options``); each broken threshold is one finding of kind ``drift`` (causes
``distribution-shift``, ``null-rate``, ``out-of-range``, ``new-categories``, ``rare-categories``,
``missing-column``) or ``data/schema-changed`` (a dtype change; a new column is a warning). The data set
drifted when a research column is missing, a required column drifted, or the share of drifted columns
reached ``dataset_share``. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from reprotrack.core.diff.model import Finding
from reprotrack.core.drift import measures as M
from reprotrack.core.drift.options import DriftOptions, Thresholds
from reprotrack.core.drift.plan import ColumnPlan, plan_of
from reprotrack.core.drift.profile import column_key

PSI_BINS = 10
SHOWN_LABELS = 5


@dataclass
class ColumnResult:
    name: Any
    mode: str
    research_dtype: str
    new_dtype: str | None
    test: str | None = None  # the measure that decides the distribution: ks | wasserstein | chi2 | js
    drifted: bool = False
    required: bool = False
    causes: list[str] = field(default_factory=list)
    measures: dict[str, Any] = field(default_factory=dict)
    thresholds: dict[str, Any] = field(default_factory=dict)
    plot: dict[str, Any] = field(default_factory=dict)  # research vs new distribution, for the html report
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "mode": self.mode, "research_dtype": self.research_dtype,
                "new_dtype": self.new_dtype, "test": self.test, "drifted": self.drifted, "required": self.required,
                "causes": list(self.causes), "measures": dict(self.measures), "thresholds": dict(self.thresholds),
                "note": self.note}


@dataclass
class DriftReport:
    status: str  # drift | no-drift
    checkpoint: str
    rows: int
    research_rows: int | None
    columns: list[ColumnResult]
    findings: list[Finding]
    summary: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    source: str = ""
    requirements: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "checkpoint": self.checkpoint, "source": self.source, "rows": self.rows,
                "research_rows": self.research_rows, "summary": dict(self.summary), "notes": list(self.notes),
                "columns": [c.to_dict() for c in self.columns], "findings": [f.to_dict() for f in self.findings],
                "requirements": [dict(r) for r in self.requirements]}

    def drifted_first(self) -> list[ColumnResult]:
        return sorted(self.columns, key=lambda c: (not c.drifted, not c.causes, str(c.name)))


def drift_report(research: dict[str, Any], new: dict[str, Any], checkpoint: str, options: DriftOptions,
                 plans: list[ColumnPlan] | None = None, source: str = "") -> DriftReport:
    """Compare the new data's profile (``profile.profile``/``merge``) with a research fingerprint."""
    plans = plan_of(research) if plans is None else plans
    findings: list[Finding] = []
    results: list[ColumnResult] = []
    for plan in plans:
        key = column_key(plan.name)
        limits = options.for_column(key)
        got = new["columns"].get(key)
        result = _column(plan, got, limits, options)
        results.append(result)
        findings.extend(_findings(result, len(findings)))
    schema = research.get("schema") if isinstance(research.get("schema"), dict) else {}
    known = {column_key(c.get("name")) for c in schema.get("columns") or [] if isinstance(c, dict)}
    untracked = sorted(k for k in new.get("extra", {}) if k in known)  # beyond the lock's statistics columns
    for key, dtype in sorted(new.get("extra", {}).items()):
        if key in known:
            continue
        findings.append(Finding(id=f"d{len(findings) + 1}", cell_index=None, cell_id=None, kind="data",
                                cause="schema-changed", subject=key, severity="warning",
                                message=f"column {key} ({dtype}) is new: the research data had no such column"))
    tested = [r for r in results if r.mode != "untestable"]
    drifted = [r for r in results if r.drifted]
    share = len(drifted) / len(tested) if tested else 0.0
    missing = [r for r in results if "missing-column" in r.causes]
    required = [r for r in drifted if r.required]
    status = "drift" if (missing or required or (tested and share >= options.dataset_share)) else "no-drift"
    notes = []
    if untracked:
        notes.append(f"{len(untracked)} column(s) of the research data have no statistics in the lock (it keeps "
                     f"them for the first columns only) and were not tested: {', '.join(untracked[:5])}")
    if any(p.coarse for p in plans if p.mode == "number"):
        notes.append("the lock has only seven quantiles for some numeric columns (recorded before reprotrack kept "
                     "a 41-point grid): their tests are coarser; record the research run again for sharper ones")
    if any(p.hashed for p in plans):
        notes.append("the lock's category labels are keyed hashes (privacy policy): categories were compared by "
                     "their hashes, and the report names them by hash")
    elif any(p.mode == "labels" and not p.complete for p in plans):
        notes.append("the lock lists only some labels of some columns (top values or a privacy policy): labels it "
                     "does not name are compared as one 'other' group, and cannot be called new")
    summary = {"columns": len(results), "tested": len(tested), "drifted": len(drifted), "share": round(share, 4),
               "dataset_share": options.dataset_share, "missing": [r.name for r in missing],
               "required_drifted": [r.name for r in required]}
    return DriftReport(status=status, checkpoint=checkpoint, rows=int(new.get("rows", 0)),
                       research_rows=research.get("shape", [None])[0] if research.get("shape") else None,
                       columns=results, findings=findings, summary=summary, notes=notes, source=source)


def _column(plan: ColumnPlan, got: dict[str, Any] | None, limits: Thresholds, options: DriftOptions) -> ColumnResult:
    result = ColumnResult(name=plan.name, mode=plan.mode, research_dtype=plan.dtype,
                          new_dtype=got.get("dtype") if got else None, required=limits.required)
    if got is None:
        result.drifted, result.causes = True, ["missing-column"]
        result.note = "the column no longer arrives"
        return result
    if got["mode"] == "incompatible":
        result.drifted, result.causes = True, ["schema-changed"]
        result.note = f"research {plan.dtype} holds numbers; the new {got['dtype']} does not"
        return result
    if got.get("dtype") != plan.dtype:
        result.note = f"dtype {plan.dtype} became {got.get('dtype')}"
    n, nulls = int(got["n"]), int(got["nulls"])
    rows = n + nulls
    null_before = plan.nulls / plan.rows if plan.rows else 0.0
    null_now = nulls / rows if rows else 0.0
    result.measures.update({"rows": rows, "null_rate_research": round(null_before, 6), "null_rate": round(null_now, 6)})
    se = max(np.sqrt(max(null_before * (1 - null_before), 1.0 / max(plan.rows, 1)) / max(rows, 1)), 1e-12)
    if null_now - null_before > limits.null_rate and (null_now - null_before) / se > options.significance_z:
        result.causes.append("null-rate")
    result.thresholds["null_rate"] = limits.null_rate
    if plan.mode == "number":
        _numbers(plan, got, limits, result)
    elif plan.mode == "labels":
        _labels(plan, got, limits, options, result)
    else:
        result.note = plan.why
    result.drifted = bool(result.causes)
    return result


def _numbers(plan: ColumnPlan, got: dict[str, Any], limits: Thresholds, result: ColumnResult) -> None:
    n = int(got["n"])
    if n == 0:
        result.note = "no values to test (every value is null)"
        return
    f = np.asarray(plan.cdf)
    g = np.asarray(got["cum"], dtype=float) / n
    if plan.discrete and "cum_lt" in got:  # point masses: mid-distributions on both sides (plan.mid_distribution)
        g = (g + np.asarray(got["cum_lt"], dtype=float) / n) / 2
    err = np.asarray(plan.err) if len(plan.err) == len(f) else np.zeros_like(f)
    lower, upper = M.ks_bound(f, g, err)
    pvalue = M.ks_pvalue(lower, plan.sample_size, n)
    w = M.wasserstein(np.asarray(plan.points), f, g, got["below_dist"], got["above_dist"], n, err)
    std = plan.std if plan.std is not None and np.isfinite(plan.std) else 0.0
    w_norm = w / std if std > 0 else (0.0 if w == 0 else float("inf"))
    e, a = _psi_bins(plan, f, g)
    psi = M.psi(e, a)
    out = (got["below"] + got["above"]) / n
    result.measures.update({"ks": round(lower, 6), "ks_upper": round(upper, 6), "ks_pvalue": pvalue,
                            "wasserstein": _r(w_norm), "psi": round(psi, 6), "out_of_range": round(out, 6),
                            "below_min": got["below"], "above_max": got["above"],
                            "mean": got["sum"] / got["finite"] if got.get("finite") else None,
                            "research_mean": plan.mean})
    small = min(n, plan.count) <= limits.small_rows  # either side small: a test; else a distance
    result.test = "ks" if small else "wasserstein"
    result.thresholds.update({"ks_pvalue": limits.ks_pvalue, "wasserstein": limits.wasserstein, "psi": limits.psi,
                              "out_of_range": limits.out_of_range, "small_rows": limits.small_rows})
    if (small and pvalue < limits.ks_pvalue) or (not small and w_norm > limits.wasserstein) or \
            (limits.psi is not None and psi > limits.psi):
        result.causes.append("distribution-shift")
    if out > limits.out_of_range:
        result.causes.append("out-of-range")
    result.plot = {"points": list(plan.points), "research": f.tolist(), "new": g.tolist(),
                   "below": got["below"] / n, "above": got["above"] / n}


def _r(x: float) -> float | str:
    return round(x, 6) if np.isfinite(x) else "inf"


def _psi_bins(plan: ColumnPlan, f: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Research and new masses in the bins between the points nearest the research deciles."""
    chosen = sorted({int(np.argmin(np.abs(f - q))) for q in np.arange(1, PSI_BINS) / PSI_BINS})
    chosen = [i for i in chosen if 0 < f[i] < 1] or [int(np.argmin(np.abs(f - 0.5)))]
    fe = np.concatenate([[0.0], f[chosen], [1.0]])
    ge = np.concatenate([[0.0], g[chosen], [1.0]])
    return np.diff(fe), np.diff(ge)


def _labels(plan: ColumnPlan, got: dict[str, Any], limits: Thresholds, options: DriftOptions,
            result: ColumnResult) -> None:
    n = int(got["n"])
    if n == 0:
        result.note = "no values to test (every value is null)"
        return
    names = list(plan.labels)
    research = np.array([plan.labels[k] for k in names] + [plan.other], dtype=float)
    counts = got["counts"]
    listed = np.array([counts.get(k, 0) for k in names], dtype=float)
    unlisted = {k: v for k, v in counts.items() if k not in plan.labels}
    other = n - listed.sum()
    new = np.concatenate([listed, [other]])
    e, a = M.shares(research), M.shares(new)
    psi, js = M.psi(e, a), M.js_distance(e, a)
    pvalue = M.chi2_pvalue(e, new)
    new_labels = sorted(unlisted.items(), key=lambda t: (-t[1], t[0])) if plan.complete else []
    new_share = (sum(unlisted.values()) + got.get("overflow", 0)) / n if plan.complete else 0.0
    rare, vanished = [], []
    for i, k in enumerate(names):
        if e[i] >= limits.rare and a[i] < limits.rare and \
                M.lower_tail_z(int(listed[i]), e[i], n) < -options.significance_z:
            (vanished if listed[i] == 0 else rare).append(k)
    result.measures.update({"psi": round(psi, 6), "js_distance": round(js, 6), "chi2_pvalue": pvalue,
                            "new_share": round(new_share, 6), "new_labels": [k for k, _ in new_labels[:SHOWN_LABELS]],
                            "new_label_count": len(new_labels), "rare": rare, "vanished": vanished,
                            "labels_compared": len(names), "other_research": round(float(e[-1]), 6)})
    small = min(n, plan.count) <= limits.small_rows  # either side small: a test; else a distance
    result.test = "chi2" if small else "js"
    result.thresholds.update({"chi2_pvalue": limits.chi2_pvalue, "js_distance": limits.js_distance, "psi": limits.psi,
                              "new_categories": limits.new_categories, "rare": limits.rare,
                              "small_rows": limits.small_rows})
    if (small and pvalue < limits.chi2_pvalue) or (not small and js > limits.js_distance) or \
            (limits.psi is not None and psi > limits.psi):
        result.causes.append("distribution-shift")
    if new_share > limits.new_categories:
        result.causes.append("new-categories")
    if rare or vanished:
        result.causes.append("rare-categories")
    shown = names[:12]
    result.plot = {"labels": shown + ["(other)"], "research": [float(e[i]) for i in range(len(shown))] + [float(e[-1])],
                   "new": [float(a[i]) for i in range(len(shown))] + [float(a[-1])]}


def _findings(result: ColumnResult, start: int) -> list[Finding]:
    out = []
    name = str(result.name)
    for cause in result.causes:
        kind = "data" if cause == "schema-changed" else "drift"
        message = _message(cause, name, result)
        out.append(Finding(id=f"d{start + len(out) + 1}", cell_index=None, cell_id=None, kind=kind, cause=cause,
                           subject=name, message=message, severity="error",
                           fix="" if cause != "missing-column" else "restore the feature upstream, or retrain "
                                                                   "without it and record a new research lock"))
    return out


def _message(cause: str, name: str, result: ColumnResult) -> str:
    m = result.measures
    if cause == "missing-column":
        return f"column {name} is missing from the new data: a feature no longer arrives"
    if cause == "schema-changed":
        return f"column {name}: {result.note}"
    if cause == "null-rate":
        return f"column {name}: null rate rose from {m.get('null_rate_research', 0):.1%} to {m.get('null_rate', 0):.1%}"
    if cause == "out-of-range":
        return (f"column {name}: {m.get('out_of_range', 0):.1%} of the values lie beyond the research min/max "
                f"({m.get('below_min', 0)} below, {m.get('above_max', 0)} above)")
    if cause == "new-categories":
        return (f"column {name}: {m.get('new_share', 0):.1%} of the rows hold {m.get('new_label_count', 0)} label(s) "
                f"the research data never had ({', '.join(map(str, m.get('new_labels', [])))})")
    if cause == "rare-categories":
        return (f"column {name}: research label(s) that became rare: {_few(m.get('rare', []))}; "
                f"vanished: {_few(m.get('vanished', []))}")
    return _shift_message(result)


def _few(items: list[str]) -> str:
    return ", ".join(items[:SHOWN_LABELS]) + (f" (+{len(items) - SHOWN_LABELS})" if len(items) > SHOWN_LABELS else "") \
        if items else "none"


def _shift_message(result: ColumnResult) -> str:
    m = result.measures
    name = str(result.name)
    if result.test == "ks":
        return f"column {name}: distribution shifted (KS D >= {m['ks']:.3f}, p = {m['ks_pvalue']:.2g}; PSI {m['psi']:.3f})"
    if result.test == "wasserstein":
        return f"column {name}: distribution shifted (Wasserstein {m['wasserstein']} research std; PSI {m['psi']:.3f})"
    if result.test == "chi2":
        return f"column {name}: category shares shifted (chi-square p = {m['chi2_pvalue']:.2g}; PSI {m['psi']:.3f})"
    return f"column {name}: category shares shifted (Jensen-Shannon {m['js_distance']:.3f}; PSI {m['psi']:.3f})"
