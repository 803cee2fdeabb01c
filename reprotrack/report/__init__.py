"""Render a diff ``Report`` for people and machines: ``text`` (terminal), ``json`` (the DESIGN keys),
``junit`` (one test case per cell, for CI) and ``html`` (one self-contained page).

Every renderer leads with root causes and folds consequences under them, and treats every string that came
from a lock as hostile (``reprotrack.core.text.escaped``). Renderers never compute a diagnosis: they show
``reprotrack.core.diff.Report``.
"""

from __future__ import annotations

from reprotrack.core.diff.model import Report
from reprotrack.errors import UsageError
from reprotrack.report.html import render_html
from reprotrack.report.jsonreport import render_json
from reprotrack.report.junit import render_junit
from reprotrack.report.text import render_text

FORMATS = ("text", "json", "junit", "html")


def render(report: Report, fmt: str, *, color: bool = False) -> str:
    """The report as text in ``fmt`` (``text`` | ``json`` | ``junit`` | ``html``). ``color``: ANSI colours
    in the text format (only when writing to a terminal)."""
    if fmt == "text":
        return render_text(report, color=color)
    if fmt == "json":
        return render_json(report)
    if fmt == "junit":
        return render_junit(report)
    if fmt == "html":
        return render_html(report)
    raise UsageError(f"unknown report format {fmt!r}; choose one of {', '.join(FORMATS)}")
