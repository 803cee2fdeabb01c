"""The combined report of ``reprotrack verify NB1 NB2 …``: one line per notebook, one JSON document, or one
JUnit file with a ``testsuite`` per notebook (``reprotrack.batch`` runs them; this only renders)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from reprotrack.batch import STATUS_BY_EXIT, BatchResult, NotebookOutcome
from reprotrack.core.text import cell_name
from reprotrack.core.text import escaped as clean
from reprotrack.replay.driver import signal_name
from reprotrack.report.junit import render_junit


def render_batch(result: BatchResult, fmt: str) -> str:
    """The combined report: ``text`` one line per notebook and a total; ``json`` an object with
    ``status``, ``exit_code`` and per-notebook reports; ``junit`` one ``testsuite`` per notebook inside one
    ``testsuites``; ``html`` the per-notebook pages are not combined (one line per notebook as text)."""
    if fmt == "json":
        return _json(result)
    if fmt == "junit":
        return _junit(result)
    return _text(result)


def _text(result: BatchResult) -> str:
    width = max((len(clean(o.notebook)) for o in result.outcomes), default=0)
    lines = []
    for o in result.outcomes:
        lines.append(f"{o.status.upper():<10} {clean(o.notebook):<{width}}  {_detail(o)}")
    counts: dict[str, int] = {}
    for o in result.outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    total = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    lines.append(f"reprotrack: {len(result.outcomes)} notebook(s): {total}; exit {result.exit_code}")
    return "\n".join(lines) + "\n"


def _detail(o: NotebookOutcome) -> str:
    took = f"{o.seconds:.1f}s"
    if o.error is not None:
        return f"{clean(o.error)} ({took})"
    report = o.report
    if report.status == "failed":
        return f"could not be executed: {clean(report.execution_error or '?')} ({took})"
    if report.status == "differs":
        first = report.first_divergence or {}
        root = next((f for f in report.roots() if f.severity == "error"), None) or (report.roots() or [None])[0]
        at = cell_name(first.get("cell_index")) if first.get("cell_index") is not None else "end of run"
        why = f" {root.kind}/{root.cause} {clean(root.subject)}" if root is not None else ""
        return f"first divergence at {at}:{why}; {len(report.findings)} finding(s) ({took})"
    warn = f", {len(report.findings)} warning(s)" if report.findings else ""
    return f"every recorded result matches{warn} ({took})"


def _json(result: BatchResult) -> str:
    rows = []
    for o in result.outcomes:
        row: dict[str, Any] = {"notebook": o.notebook, "status": o.status, "exit_code": o.exit_code,
                               "seconds": round(o.seconds, 3)}
        if o.error is not None:
            row["error"] = o.error
        if o.interrupted:
            row["interrupted"] = signal_name(o.interrupted)
        if o.report is not None:
            row["report"] = o.report.to_dict()
        rows.append(row)
    worst = STATUS_BY_EXIT.get(result.exit_code, "error")
    doc = {"status": worst, "exit_code": result.exit_code, "notebooks": rows}
    if result.interrupted:  # the command then exits 128 + the signal (130 SIGINT, 143 SIGTERM)
        doc["interrupted"] = signal_name(result.interrupted)
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=True) + "\n"


def _junit(result: BatchResult) -> str:
    root = ET.Element("testsuites", name="reprotrack verify")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for o in result.outcomes:
        if o.report is not None:
            suite = ET.fromstring(render_junit(o.report).split("\n", 1)[1])
        else:
            name = clean(Path(o.notebook).name)
            suite = ET.Element("testsuite", name=f"reprotrack {name}", tests="1", failures="0", errors="1")
            case = ET.SubElement(suite, "testcase", classname=f"reprotrack.{name}", name="input")
            ET.SubElement(case, "error", type=STATUS_BY_EXIT.get(o.exit_code, "error"), message=clean(o.error or "?"))
        suite.set("file", clean(o.notebook))
        suite.set("time", f"{o.seconds:.3f}")
        for key in totals:
            totals[key] += int(suite.get(key) or 0)
        root.append(suite)
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
