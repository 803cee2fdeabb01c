"""The phrases every drift renderer shares: the verdict line, a column's measures, a requirement's result.
Every string from a lock or from the data is ``clean``ed here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reprotrack.core.text import escaped as clean

if TYPE_CHECKING:
    from reprotrack.core.drift.compare import ColumnResult, DriftReport


def headline(report: DriftReport) -> str:
    s = report.summary
    verdict = "DRIFT" if report.status == "drift" else "no drift"
    why = []
    if s.get("missing"):
        why.append(f"missing column(s): {', '.join(clean(m) for m in s['missing'])}")
    if s.get("required_drifted"):
        why.append(f"required column(s) drifted: {', '.join(clean(m) for m in s['required_drifted'])}")
    if s.get("share", 0) >= s.get("dataset_share", 1) and s.get("tested"):
        why.append(f"{s['share']:.0%} of the columns drifted (threshold {s['dataset_share']:.0%})")
    tail = f": {'; '.join(why)}" if why else ""
    return (f"reprotrack drift: {verdict} -- checkpoint {clean(report.checkpoint)}, {report.rows} new row(s) from "
            f"{clean(report.source or 'data')}; {s.get('drifted', 0)} of {s.get('tested', 0)} column(s) drifted{tail}")


def measure_text(column: ColumnResult) -> str:
    m = column.measures
    if column.mode == "number" and "ks" in m:
        return (f"PSI {m['psi']:.3f}  KS {m['ks']:.3f}..{m['ks_upper']:.3f} (p {m['ks_pvalue']:.2g})  "
                f"W {m['wasserstein']}  nulls {m['null_rate']:.1%}  out-of-range {m['out_of_range']:.1%}")
    if column.mode == "labels" and "js_distance" in m:
        extra = f"  new {m['new_share']:.1%}" if m.get("new_share") else ""
        return (f"PSI {m['psi']:.3f}  JS {m['js_distance']:.3f}  chi2 p {m['chi2_pvalue']:.2g}  "
                f"nulls {m['null_rate']:.1%}{extra}")
    return clean(column.note or "not tested")


def requirement_line(r: dict[str, Any]) -> str:
    state = "FAILED" if not r.get("ok") else "ok"
    return f"requirement {state}: {clean(r.get('message', ''))}"
