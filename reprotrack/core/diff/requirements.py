"""Verify's check of the research run's performance requirements against the replayed values.

A requirement holds even when the replayed value is within the diff's tolerances of the research value: a
research value that already sat on the edge, or a tolerance wider than the promise, must not let a broken
promise through. Each broken requirement is one ``output/requirement-failed`` finding. Pure: no I/O.
"""

from __future__ import annotations

from typing import Any

from reprotrack.core import requirements
from reprotrack.core.diff.model import Finding


def requirement_findings(research: dict[str, dict[str, Any]], replay: dict[str, dict[str, Any]],
                         replay_finished: bool = True, run: str = "the replay") -> list[Finding]:
    """One finding per requirement of ``research`` that ``replay``'s value breaks (an error) or that ``run``
    never measured (a warning, once ``run`` finished); a requirement without bounds holds anything."""
    out = []
    for name in sorted(research or {}):
        req = research[name]
        if not isinstance(req, dict) or not requirements.bounded(req):
            continue
        got = (replay or {}).get(name)
        if got is None:
            if replay_finished:
                out.append(_finding(name, f"requirement {requirements.describe(name, req)} was not measured in "
                                          f"{run} (the expect call did not run)", severity="warning"))
            continue
        kept, message = requirements.check(name, req, got.get("value"))
        if not kept:
            out.append(_finding(name, f"requirement failed: {message}"))
    return out


def _finding(name: str, message: str, severity: str = "error") -> Finding:
    return Finding(id="", cell_index=None, cell_id=None, kind="output", cause="requirement-failed", subject=name,
                   message=message, severity=severity,
                   fix="find why the metric fell (the findings above, data drift), or lower the requirement knowingly")
