"""The terminal report: the verdict, then each root cause with its fix and its consequences folded beneath,
then warnings. ANSI colour only when asked (the CLI asks only for a terminal without ``NO_COLOR``); every
lock-derived string goes through ``clean`` first, so a hostile name cannot drive the terminal.
"""

from __future__ import annotations

from reprotrack.core.diff.model import Finding, Report
from reprotrack.core.text import cell_name
from reprotrack.core.text import escaped as clean
from reprotrack.report.order import ordered_roots, where

MAX_CONSEQUENCES = 8
COLOURS = {"error": "31", "warning": "33", "ok": "32", "dim": "2", "bold": "1"}


def render_text(report: Report, *, color: bool = False) -> str:
    def paint(text: str, style: str) -> str:
        return f"\x1b[{COLOURS[style]}m{text}\x1b[0m" if color else text

    lines = [_headline(report, paint)]
    research, replay = report.research or {}, report.replay or {}
    if report.checkpoints is not None:
        lines.append(paint(f"research: {_summary(research, 'checkpoints')} · production: "
                           f"{_summary(replay, 'checkpoints')}", "dim"))
        lines += _checkpoint_table(report, paint)
    elif research or replay:
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


def _headline(report: Report, paint) -> str:
    n = len(report.findings)
    if report.status == "reproduced":
        tail = f" ({n} warning(s))" if n else ""
        what = "checkpoint" if report.checkpoints is not None else "recorded result"
        return paint("reprotrack: REPRODUCED", "ok") + f" — every {what} matches the research run{tail}."
    if report.status == "failed":
        run = "production run is partial" if report.checkpoints is not None else "notebook could not be executed"
        text = paint("reprotrack: FAILED", "error") + f" — the {run}"
        if report.execution_error:
            text += f": {clean(report.execution_error)}"
        return text + "; the report covers what ran."
    first = report.first_divergence or {}
    where_text = ""
    if first.get("checkpoint"):
        where_text = f" — first divergence at checkpoint {clean(first['checkpoint'])}"
    elif first.get("cell_index") is not None:
        ident = f" ({clean(first.get('cell_id'))})" if first.get("cell_id") else ""
        where_text = f" — first divergence at {cell_name(first['cell_index'])}{ident}"
    roots = len([r for r in report.roots() if r.severity == "error"])
    return paint("reprotrack: DIFFERS", "error") + f"{where_text}; {n} finding(s), {roots} root cause(s)."


def _summary(side: dict, count: str = "cells") -> str:
    bits = [clean(side.get("notebook") or "?")]
    if side.get("python"):
        bits.append(f"Python {clean(side['python'])}")
    bits.append(f"{side.get(count, 0)} checkpoint(s)" if count == "checkpoints" else f"{side.get('cells', 0)} cell run(s)")
    return ", ".join(bits)


CHECK_MARKS = {"matches": ("✓", "ok"), "precision": ("≈", "ok"), "differs": ("✗", "error"),
               "missing": ("–", "warning"), "extra": ("+", "warning")}
CHECK_WORDS = {"matches": "matches", "precision": "matches within tolerance (precision level)",
               "differs": "DIFFERS", "missing": "not in production: not checked",
               "extra": "not in research: nothing to check against"}


def _checkpoint_table(report: Report, paint) -> list[str]:
    """``reprotrack check``: one line per checkpoint, research order, with the columns its diagnosis names."""
    lines = ["", paint("Checkpoints", "bold")]
    for row in report.checkpoints or []:
        mark, style = CHECK_MARKS.get(row.get("status"), ("?", "warning"))
        name = clean(row.get("name") or row.get("production") or "?")
        if row.get("name") and row.get("production") and row["production"] != row["name"]:
            name += f" (production: {clean(row['production'])})"
        cols = row.get("columns") or []
        detail = f"; column(s) {', '.join(clean(c) for c in cols[:6])}" if cols and row.get("status") != "matches" else ""
        ids = f" [{', '.join(row.get('findings') or [])}]" if row.get("findings") else ""
        lines.append(f" {paint(mark, style)} {name}: {CHECK_WORDS.get(row.get('status'), row.get('status'))}{detail}{ids}")
    return lines


def _root(report: Report, root: Finding, paint) -> list[str]:
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
