"""Render a diff ``Report`` for people and machines: ``text`` (terminal), ``json`` (the DESIGN keys),
``junit`` (one test case per cell, for CI) and ``html`` (one self-contained page).

Every renderer leads with root causes and folds consequences under them, and treats every string that came
from a lock as hostile (``reprotrack.report.safe``). Renderers never compute a diagnosis: they show
``reprotrack.diff.Report``.
"""

from __future__ import annotations

FORMATS = ("text", "json", "junit", "html")


def render(report, fmt: str, *, color: bool = False) -> str:
    """The report as text in ``fmt`` (``text`` | ``json`` | ``junit`` | ``html``). ``color``: ANSI colours
    in the text format (only when writing to a terminal)."""
    if fmt == "text":
        from .text import render_text

        return render_text(report, color=color)
    if fmt == "json":
        from .jsonreport import render_json

        return render_json(report)
    if fmt == "junit":
        from .junit import render_junit

        return render_junit(report)
    if fmt == "html":
        from .html import render_html

        return render_html(report)
    from ..errors import UsageError

    raise UsageError(f"unknown report format {fmt!r}; choose one of {', '.join(FORMATS)}")


def ordered_roots(report) -> list:
    """Root causes, those that matter first: errors (or roots of errors) before pure warnings, then in
    report order."""
    roots = report.roots()

    def matters(root) -> bool:
        return root.severity == "error" or any(c.severity == "error" for c in report.consequences(root))

    return [r for r in roots if matters(r)] + [r for r in roots if not matters(r)]


def where(finding) -> str:
    """``cell 3 (load)`` / ``environment`` / ``checkpoints``: where a finding is, for headings."""
    from .safe import clean

    if finding.cell_index is not None:
        ident = f" ({clean(finding.cell_id)})" if finding.cell_id else ""
        return f"cell {finding.cell_index}{ident}"
    if finding.kind == "environment":
        return "environment"
    return "end of run"
