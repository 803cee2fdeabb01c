"""The drift report as one self-contained HTML page (inline CSS and SVG; no script, font or network): the
verdict, then one panel per column, drifted first, with the research and the new distribution drawn on the
same axes -- the research distribution function's bins as densities for numbers, the shares per label for
categories. Every lock- or data-derived string is ``clean``ed and ``html.escape``d.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from reprotrack.report.driftlines import headline, measure_text, requirement_line
from reprotrack.report.page import e as _e
from reprotrack.report.page import page_head

if TYPE_CHECKING:
    from reprotrack.core.drift.compare import ColumnResult, DriftReport

W, H, PAD = 360, 130, 22
STYLE = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:2em auto;max-width:74em;color:#222;padding:0 1em}
h1{font-size:1.4em} h2{font-size:1.15em;margin-top:1.6em} .status{padding:.15em .5em;border-radius:4px;color:#fff}
.drift{background:#c62828}.no-drift{background:#2e7d32}
.col{display:inline-block;vertical-align:top;width:380px;margin:.5em 1em .8em 0;padding:.4em .6em;border-left:4px solid #43a047;background:#fafafa}
.col.drifted{border-color:#e53935} .meta{color:#666;font-size:12px} .causes{color:#c62828;font-size:12px}
.r-bar{fill:#1e88e5;opacity:.55}.n-bar{fill:#e65100;opacity:.55}.r-line{fill:none;stroke:#1e88e5;stroke-width:1.5}
.n-line{fill:none;stroke:#e65100;stroke-width:1.5}.axis{stroke:#999}.tick{font-size:10px;fill:#555}
.legend span{display:inline-block;width:10px;height:10px;margin:0 .3em 0 1em}
.finding{border-left:4px solid #e53935;padding:.3em .8em;margin:.5em 0;background:#fafafa}
.finding.warning{border-color:#f9a825}
"""


def drift_html(report: DriftReport) -> str:
    parts = page_head("reprotrack drift", STYLE, "reprotrack drift", report.status) + [
        f"<p>{_e(headline(report))}</p>",
        '<p class="legend meta"><span style="background:#1e88e5;opacity:.55"></span>research (from the lock)'
        '<span style="background:#e65100;opacity:.55"></span>new data</p>',
    ]
    parts += [f'<p class="meta">{_e(n)}</p>' for n in report.notes]
    if report.requirements:
        parts.append("<h2>Requirements</h2>")
        parts += [f'<div class="finding{"" if not r.get("ok") else " warning"}">{_e(requirement_line(r))}</div>'
                  for r in report.requirements]
    if report.findings:
        parts.append("<h2>Findings</h2>")
        parts += [f'<div class="finding {_e(f.severity)}"><b>{_e(f.kind)}/{_e(f.cause)}</b> {_e(f.message)}</div>'
                  for f in report.findings]
    parts.append("<h2>Columns</h2>")
    parts += [_column(c) for c in report.drifted_first()]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _column(c: ColumnResult) -> str:
    cls = "col drifted" if c.drifted else "col"
    causes = f'<div class="causes">{_e(", ".join(c.causes))}</div>' if c.causes else ""
    plot = _numbers_svg(c.plot) if c.mode == "number" and c.plot else _labels_svg(c.plot) if c.plot else ""
    return (f'<div class="{cls}"><b>{_e(c.name)}</b> <span class="meta">{_e(c.research_dtype)}'
            f'{" → " + _e(c.new_dtype) if c.new_dtype and c.new_dtype != c.research_dtype else ""}'
            f'{" · test " + _e(c.test) if c.test else ""}</span>{causes}{plot}'
            f'<div class="meta">{_e(measure_text(c))}</div></div>')


def _finite(values: list[Any]) -> bool:
    return all(isinstance(v, (int, float)) and math.isfinite(v) for v in values)


def _numbers_svg(plot: dict[str, Any]) -> str:
    """Densities per research bin: mass / width, research and new as two step lines over the same x axis."""
    x, f, g = plot.get("points", []), plot.get("research", []), plot.get("new", [])
    if len(x) < 2 or not _finite(x) or x[-1] <= x[0]:
        return ""
    span = x[-1] - x[0]
    dens = []
    for cdf in (f, g):
        row = []
        for i in range(len(x) - 1):
            width = x[i + 1] - x[i]
            row.append((cdf[i + 1] - cdf[i]) / width if width > 0 else 0.0)
        dens.append(row)
    top = max(max(dens[0]), max(dens[1]), 1e-300)

    def px(v: float) -> float:
        return PAD + (v - x[0]) / span * (W - 2 * PAD)

    def py(d: float) -> float:
        return H - PAD - max(0.0, d) / top * (H - 2 * PAD)

    paths = []
    for row, cls in ((dens[0], "r-line"), (dens[1], "n-line")):
        pts = []
        for i, d in enumerate(row):
            pts += [f"{px(x[i]):.1f},{py(d):.1f}", f"{px(x[i + 1]):.1f},{py(d):.1f}"]
        paths.append(f'<polyline class="{cls}" points="{" ".join(pts)}"/>')
    outside = ""
    if plot.get("below") or plot.get("above"):
        outside = (f'<text class="tick" x="{PAD}" y="12">beyond research range: {plot.get("below", 0):.1%} below, '
                   f'{plot.get("above", 0):.1%} above</text>')
    return (f'<svg width="{W}" height="{H}" viewBox="0 0 {W} {H}" role="img">'
            f'<line class="axis" x1="{PAD}" y1="{H - PAD}" x2="{W - PAD}" y2="{H - PAD}"/>{"".join(paths)}'
            f'<text class="tick" x="{PAD}" y="{H - 6}">{_e(_fmt(x[0]))}</text>'
            f'<text class="tick" x="{W - PAD}" y="{H - 6}" text-anchor="end">{_e(_fmt(x[-1]))}</text>{outside}</svg>')


def _labels_svg(plot: dict[str, Any]) -> str:
    labels, f, g = plot.get("labels", []), plot.get("research", []), plot.get("new", [])
    if not labels or not _finite(f + g):
        return ""
    top = max(max(f), max(g), 1e-12)
    bw = (W - 2 * PAD) / len(labels)
    bars = []
    for i, (a, b) in enumerate(zip(f, g)):
        x0 = PAD + i * bw
        for j, (v, cls) in enumerate(((a, "r-bar"), (b, "n-bar"))):
            h = v / top * (H - 2 * PAD - 10)
            bars.append(f'<rect class="{cls}" x="{x0 + j * bw / 2.2 + 1:.1f}" y="{H - PAD - h:.1f}" '
                        f'width="{bw / 2.3:.1f}" height="{h:.1f}"><title>{_e(labels[i])}: research {a:.1%}, '
                        f'new {b:.1%}</title></rect>')
        bars.append(f'<text class="tick" x="{x0 + bw / 2:.1f}" y="{H - 6}" text-anchor="middle">'
                    f'{_e(str(labels[i])[:8])}</text>')
    return (f'<svg width="{W}" height="{H}" viewBox="0 0 {W} {H}" role="img">'
            f'<line class="axis" x1="{PAD}" y1="{H - PAD}" x2="{W - PAD}" y2="{H - PAD}"/>{"".join(bars)}</svg>')


def _fmt(v: float) -> str:
    return f"{v:.4g}"
