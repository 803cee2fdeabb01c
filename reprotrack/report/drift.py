"""A ``DriftReport`` for people and machines: ``text``, ``json`` (``DriftReport.to_dict``), ``junit`` (one test
case per column, failing when it drifted) and ``html`` (``reprotrack.report.drifthtml``). Renderers show the
report; they never compute a verdict. Every string that came from a lock or from the data is ``clean``ed.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

from reprotrack.core.text import escaped as clean
from reprotrack.errors import UsageError

FORMATS = ("text", "json", "junit", "html")


def render_drift(report, fmt: str) -> str:
    if fmt == "text":
        return drift_text(report)
    if fmt == "json":
        return json.dumps(report.to_dict(), indent=2, sort_keys=True, allow_nan=False, default=str) + "\n"
    if fmt == "junit":
        return drift_junit(report)
    if fmt == "html":
        from reprotrack.report.drifthtml import drift_html

        return drift_html(report)
    raise UsageError(f"unknown report format {fmt!r}; choose one of {', '.join(FORMATS)}")


def headline(report) -> str:
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


def measure_text(column) -> str:
    m = column.measures
    if column.mode == "number" and "ks" in m:
        return (f"PSI {m['psi']:.3f}  KS {m['ks']:.3f}..{m['ks_upper']:.3f} (p {m['ks_pvalue']:.2g})  "
                f"W {m['wasserstein']}  nulls {m['null_rate']:.1%}  out-of-range {m['out_of_range']:.1%}")
    if column.mode == "labels" and "js_distance" in m:
        extra = f"  new {m['new_share']:.1%}" if m.get("new_share") else ""
        return (f"PSI {m['psi']:.3f}  JS {m['js_distance']:.3f}  chi2 p {m['chi2_pvalue']:.2g}  "
                f"nulls {m['null_rate']:.1%}{extra}")
    return clean(column.note or "not tested")


def drift_text(report) -> str:
    lines = [headline(report)]
    for note in report.notes:
        lines.append(f"  note: {clean(note)}")
    for column in report.drifted_first():
        mark = "DRIFT" if column.drifted else "ok   "
        test = f" [{column.test}]" if column.test else ""
        req = " (required)" if column.required else ""
        causes = f"  <- {', '.join(column.causes)}" if column.causes else ""
        lines.append(f"  {mark} {clean(column.name)}{req}{test}: {measure_text(column)}{causes}")
    for f in report.findings:
        lines.append(f"  {f.severity}: {f.kind}/{f.cause}: {clean(f.message)}" + (f" Fix: {clean(f.fix)}" if f.fix else ""))
    for r in report.requirements:
        lines.append("  " + requirement_line(r))
    return "\n".join(lines) + "\n"


def requirement_line(r: dict[str, Any]) -> str:
    state = "FAILED" if not r.get("ok") else "ok"
    return f"requirement {state}: {clean(r.get('message', ''))}"


def drift_junit(report) -> str:
    suite = ET.Element("testsuite", name=f"reprotrack drift {clean(report.checkpoint)}",
                       tests=str(len(report.columns) + len(report.requirements)))
    failures = 0
    by_subject: dict[str, list] = {}
    for f in report.findings:
        by_subject.setdefault(f.subject, []).append(f)
    for column in report.drifted_first():
        case = ET.SubElement(suite, "testcase", classname=f"reprotrack.drift.{clean(report.checkpoint)}",
                             name=clean(column.name))
        found = [f for f in by_subject.get(str(column.name), []) if f.severity == "error"]
        if column.drifted:
            failures += 1
            failure = ET.SubElement(case, "failure", type=column.causes[0] if column.causes else "drift",
                                    message=clean(found[0].message if found else "drifted"))
            failure.text = "\n".join(clean(f.message) for f in found)
        ET.SubElement(case, "system-out").text = measure_text(column)
    for r in report.requirements:
        case = ET.SubElement(suite, "testcase", classname="reprotrack.requirements", name=clean(r.get("name")))
        if not r.get("ok"):
            failures += 1
            ET.SubElement(case, "failure", type="requirement-failed", message=clean(r.get("message", "")))
    suite.set("failures", str(failures))
    ET.indent(suite)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"
