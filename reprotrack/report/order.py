"""The order a report is read in: root causes that matter first, and where each finding is."""

from __future__ import annotations

from reprotrack.core.diff.model import Finding, Report
from reprotrack.core.text import cell_name
from reprotrack.core.text import escaped as clean


def ordered_roots(report: Report) -> list[Finding]:
    """Root causes, those that matter first: errors (or roots of errors) before pure warnings, then in
    report order."""
    roots = report.roots()

    def matters(root: Finding) -> bool:
        return root.severity == "error" or any(c.severity == "error" for c in report.consequences(root))

    return [r for r in roots if matters(r)] + [r for r in roots if not matters(r)]


def where(finding: Finding) -> str:
    """``cell 3 (load)`` / ``environment`` / ``checkpoints``: where a finding is, for headings."""
    if finding.cell_index is not None:
        ident = f" ({clean(finding.cell_id)})" if finding.cell_id else ""
        return f"{cell_name(finding.cell_index)}{ident}"
    if finding.kind == "environment":
        return "environment"
    checkpoint = (finding.evidence or {}).get("checkpoint")
    if isinstance(checkpoint, str):  # reprotrack check: findings live at checkpoints, never in cells
        return f"checkpoint {clean(checkpoint)}"
    return "end of run"
