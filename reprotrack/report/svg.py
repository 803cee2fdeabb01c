"""Inline SVG histograms of one column in two runs (research vs replay), drawn from the fingerprints' per-column
statistics (``stats[].histogram``: ``edges`` and ``counts``). Pure string building; every label is escaped.
"""

from __future__ import annotations

import math
from html import escape
from typing import Any

from reprotrack.core.text import escaped as clean

WIDTH, HEIGHT, PAD = 320, 110, 18
MAX_COLUMNS = 6


def _numbers(values: Any) -> list[float] | None:
    if not isinstance(values, list) or not values:
        return None
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            return None
        out.append(float(v))
    return out


def _histogram(stats: Any) -> tuple[list[float], list[float]] | None:
    hist = stats.get("histogram") if isinstance(stats, dict) else None
    if not isinstance(hist, dict):
        return None
    edges, counts = _numbers(hist.get("edges")), _numbers(hist.get("counts"))
    if not edges or not counts or len(edges) != len(counts) + 1:
        return None
    return edges, counts


def column_pairs(research_fp: Any, replay_fp: Any) -> list[tuple[str, Any, Any]]:
    """(column name, research histogram, replay histogram) of the numeric columns whose statistics differ."""
    def stats(fp: Any) -> dict[str, Any]:
        rows = fp.get("stats") if isinstance(fp, dict) else None
        if isinstance(rows, dict):
            rows = [rows]
        # an unnamed Series or array column is shown as "values", not as "None"
        return {str(s.get("name")) if s.get("name") is not None else "values": s for s in rows or []
                if isinstance(s, dict)}

    sa, sb = stats(research_fp), stats(replay_fp)
    out = []
    for name, a in sa.items():
        b = sb.get(name)
        if b is None or a == b:
            continue
        ha, hb = _histogram(a), _histogram(b)
        if ha and hb:
            out.append((name, ha, hb))
        if len(out) >= MAX_COLUMNS:
            break
    return out


def histogram_svg(name: str, research: tuple[list[float], list[float]], replay: tuple[list[float], list[float]]) -> str:
    """Two overlaid histograms on one axis: research filled, replay outlined."""
    lo = min(research[0][0], replay[0][0])
    hi = max(research[0][-1], replay[0][-1])
    span = (hi - lo) or 1.0
    inner_w, inner_h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD
    peak = max(max(c / (sum(cs) or 1) for c in cs) for cs in (research[1], replay[1])) or 1.0

    def bars(hist, css: str) -> str:
        edges, counts = hist
        total = sum(counts) or 1
        parts = []
        for left, right, count in zip(edges, edges[1:], counts):
            x = PAD + (left - lo) / span * inner_w
            w = max((right - left) / span * inner_w, 1.0)
            h = count / total / peak * inner_h
            parts.append(f'<rect class="{css}" x="{x:.1f}" y="{PAD + inner_h - h:.1f}" '
                         f'width="{w:.1f}" height="{h:.1f}"/>')
        return "".join(parts)

    title = escape(clean(name))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" role="img" '
        f'aria-label="histogram of {title}, research vs replay"><title>{title}: research (filled) vs replay '
        f'(outline)</title>{bars(research, "h-research")}{bars(replay, "h-replay")}'
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" class="axis"/>'
        f'<text x="{PAD}" y="{HEIGHT - 4}" class="tick">{escape(_fmt(lo))}</text>'
        f'<text x="{WIDTH - PAD}" y="{HEIGHT - 4}" class="tick" text-anchor="end">{escape(_fmt(hi))}</text>'
        f'<text x="{WIDTH / 2:.0f}" y="12" class="tick" text-anchor="middle">{title}</text></svg>'
    )


def _fmt(x: float) -> str:
    return f"{x:.4g}"
