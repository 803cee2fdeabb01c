"""The JUnit XML report, for CI: one ``testcase`` per cell run of the timeline, or per checkpoint for
``reprotrack check`` (plus ``environment`` and ``checkpoints`` when they have findings). A cell with an error-severity finding fails; the failure carries
every finding message of that cell, each marked as root cause or as a consequence of an earlier finding.
Warnings go to ``system-out``. Built with ``xml.etree`` (which escapes markup) from ``clean``ed strings
(which removes what XML 1.0 forbids), so hostile names still give a valid document.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from reprotrack.core.diff.model import Finding, Report
from reprotrack.core.text import cell_name
from reprotrack.core.text import escaped as clean


def render_junit(report: Report) -> str:
    by_id = {f.id: f for f in report.findings}
    name = clean((report.research or {}).get("notebook") or "notebook")
    cases: list[tuple[str, list]] = []
    seen: set[str] = set()
    for row in report.checkpoints or []:  # reprotrack check: one test case per checkpoint
        label = f"checkpoint {clean(row.get('name') or row.get('production'))}"
        found = [by_id[i] for i in row.get("findings", []) if i in by_id]
        seen.update(f.id for f in found)
        cases.append((label, found))
    for row in report.cells:
        ident = f" ({clean(row.get('id'))})" if row.get("id") else ""
        label = f"{cell_name(row.get('index'))}{ident}" if row.get("index") is not None else f"cell{ident}"
        found = [by_id[i] for i in row.get("findings", []) if i in by_id]
        seen.update(f.id for f in found)
        cases.append((label, found))
    env = [f for f in report.findings if f.id not in seen and f.kind == "environment"]
    rest = [f for f in report.findings if f.id not in seen and f.kind != "environment"]
    if env:
        cases.insert(0, ("environment", env))
    if rest:
        cases.append(("checkpoints", rest))
    suite = ET.Element("testsuite", name=f"reprotrack {name}", tests=str(len(cases)))
    failures = 0
    for label, found in cases:
        case = ET.SubElement(suite, "testcase", classname=f"reprotrack.{name}", name=label)
        errors = [f for f in found if f.severity == "error"]
        if errors:
            failures += 1
            first = errors[0]
            failure = ET.SubElement(case, "failure", type=first.cause, message=clean(first.message))
            failure.text = "\n".join(_line(f) for f in errors)
        warnings = [f for f in found if f.severity != "error"]
        if warnings:
            ET.SubElement(case, "system-out").text = "\n".join(_line(f) for f in warnings)
    if report.status == "failed":
        case = ET.SubElement(suite, "testcase", classname=f"reprotrack.{name}", name="execution")
        ET.SubElement(case, "error", type="execution", message=clean(report.execution_error or "execution failed"))
        suite.set("errors", "1")
        suite.set("tests", str(len(cases) + 1))
    suite.set("failures", str(failures))
    ET.indent(suite)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"


def _line(f: Finding) -> str:
    role = f"consequence of {f.upstream_of}" if f.upstream_of else "root cause"
    fix = f" Fix: {clean(f.fix)}" if f.fix and not f.upstream_of else ""
    return f"{f.id} [{f.kind}/{f.cause}] {clean(f.subject)} ({role}): {clean(f.message)}{fix}"
