"""The terminal report: the verdict, then each root cause with its fix and its consequences folded beneath,
then warnings. ANSI colour only when asked (the CLI asks only for a terminal without ``NO_COLOR``); every
lock-derived string goes through ``clean`` first, so a hostile name cannot drive the terminal.
"""

from __future__ import annotations

from reprotrack.core.text import cell_name
from reprotrack.core.text import escaped as clean
from reprotrack.report.order import ordered_roots, where

MAX_CONSEQUENCES = 8
COLOURS = {"error": "31", "warning": "33", "ok": "32", "dim": "2", "bold": "1"}


def render_text(report, *, color: bool = False) -> str:
    def paint(text: str, style: str) -> str:
        return f"\x1b[{COLOURS[style]}m{text}\x1b[0m" if color else text

    lines = [_headline(report, paint)]
    research, replay = report.research or {}, report.replay or {}
    if research or replay:
        lines.append(paint(f"research: {_summary(research)} · replay: {_summary(replay)}", "dim"))
    roots = ordered_roots(report)
    serious = [r for r in roots if r.severity == "error" or any(c.severity == "error" for c in report.consequences(r))]
    minor = [r for r in roots if r not in serious]
    if serious:
        lines += ["", paint("Root causes", "bold")]
        for root in serious:
            lines += _root(report, root, paint)
    if minor:
        lines += ["", paint("Warnings", "bold")]
        for root in minor:
            lines += _root(report, root, paint)
    return "\n".join(lines) + "\n"


def _headline(report, paint) -> str:
    n = len(report.findings)
    if report.status == "reproduced":
        tail = f" ({n} warning(s))" if n else ""
        return paint("reprotrack: REPRODUCED", "ok") + f" — every recorded result matches the research run{tail}."
    if report.status == "failed":
        text = paint("reprotrack: FAILED", "error") + " — the notebook could not be executed"
        if report.execution_error:
            text += f": {clean(report.execution_error)}"
        return text + "; the report covers what ran."
    first = report.first_divergence or {}
    where_text = ""
    if first.get("cell_index") is not None:
        ident = f" ({clean(first.get('cell_id'))})" if first.get("cell_id") else ""
        where_text = f" — first divergence at {cell_name(first['cell_index'])}{ident}"
    roots = len([r for r in report.roots() if r.severity == "error"])
    return paint("reprotrack: DIFFERS", "error") + f"{where_text}; {n} finding(s), {roots} root cause(s)."


def _summary(side: dict) -> str:
    bits = [clean(side.get("notebook") or "?")]
    if side.get("python"):
        bits.append(f"Python {clean(side['python'])}")
    bits.append(f"{side.get('cells', 0)} cell run(s)")
    return ", ".join(bits)


def _root(report, root, paint) -> list[str]:
    mark = paint("✗", "error") if root.severity == "error" else paint("!", "warning")
    lines = [f" {mark} {root.id} {where(root)} · {root.kind}/{root.cause} · {clean(root.subject)}",
             f"     {clean(root.message)}"]
    if root.fix:
        lines.append(f"     Fix: {clean(root.fix)}")
    after = report.consequences(root)
    if after:
        lines.append(paint(f"     consequences ({len(after)}):", "dim"))
        for finding in after[:MAX_CONSEQUENCES]:
            lines.append(paint(f"       {finding.id} {where(finding)} · {finding.cause} · {clean(finding.message)}",
                               "dim"))
        if len(after) > MAX_CONSEQUENCES:
            lines.append(paint(f"       … and {len(after) - MAX_CONSEQUENCES} more (see --format json)", "dim"))
    return lines
