"""A ``DriftReport`` for people and machines: ``text``, ``json`` (``DriftReport.to_dict``), ``junit`` (one test
case per column, failing when it drifted) and ``html`` (``reprotrack.report.drifthtml``). Renderers show the
report; they never compute a verdict. Every string that came from a lock or from the data is ``clean``ed.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

from reprotrack.core.text import escaped as clean
from reprotrack.errors import UsageError
from reprotrack.report.drifthtml import drift_html
from reprotrack.report.driftlines import headline, measure_text, requirement_line

if TYPE_CHECKING:
    from reprotrack.core.drift.compare import DriftReport

FORMATS = ("text", "json", "junit", "html")


def render_drift(report: DriftReport, fmt: str) -> str:
    if fmt == "text":
        return drift_text(report)
    if fmt == "json":
        return json.dumps(report.to_dict(), indent=2, sort_keys=True, allow_nan=False, default=str) + "\n"
    if fmt == "junit":
        return drift_junit(report)
    if fmt == "html":
        return drift_html(report)
    raise UsageError(f"unknown report format {fmt!r}; choose one of {', '.join(FORMATS)}")


def drift_text(report: DriftReport) -> str:
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


def drift_junit(report: DriftReport) -> str:
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
