"""The HTML report: one self-contained page (inline CSS, no scripts, fonts or network), readable offline and
attachable to a CI run. A per-cell timeline coloured by status, the root causes first with their fixes and
their consequences folded in ``<details>``, histograms (inline SVG) of the columns whose statistics moved,
and the environment differences as a table. Every lock-derived string is ``clean``ed and ``html.escape``d.
"""

from __future__ import annotations

from reprotrack.core.diff.model import Finding, Report
from reprotrack.core.text import cell_name
from reprotrack.report.order import ordered_roots, where
from reprotrack.report.page import e as _e
from reprotrack.report.page import page_head
from reprotrack.report.svg import column_pairs, histogram_svg

STYLE = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:2em auto;max-width:70em;color:#222;padding:0 1em}
h1{font-size:1.4em} h2{font-size:1.15em;margin-top:1.6em} .status{padding:.15em .5em;border-radius:4px;color:#fff}
.reproduced{background:#2e7d32}.differs{background:#c62828}.failed{background:#6a1b9a}
.timeline{display:flex;flex-wrap:wrap;gap:4px;margin:.5em 0}
.cell{min-width:3.2em;padding:.3em .4em;border-radius:4px;text-align:center;font-size:12px;color:#fff}
.c-ok{background:#43a047}.c-warning{background:#f9a825;color:#222}.c-error{background:#e53935}
.c-missing{background:#9e9e9e}.finding{border-left:4px solid #e53935;padding:.3em .8em;margin:.8em 0;background:#fafafa}
.finding.warning{border-color:#f9a825}.fix{color:#1b5e20}.meta{color:#666;font-size:12px}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.25em .6em;text-align:left}
.h-research{fill:#1e88e5;opacity:.55}.h-replay{fill:none;stroke:#e65100;stroke-width:1.5}
.axis{stroke:#999}.tick{font-size:10px;fill:#555} details{margin-top:.4em} code{font-size:12px}
.plot{display:inline-block;vertical-align:top;margin:.5em 1.5em .5em 0}
"""


def render_html(report: Report) -> str:
    parts = page_head("reprotrack report", STYLE, "reprotrack", report.status) + [
        _summary(report), _timeline(report), _checkpoints(report),
    ]
    roots = ordered_roots(report)
    if roots:
        parts.append("<h2>Root causes</h2>")
        parts += [_root(report, r) for r in roots]
    parts.append(_data_and_splits(report))
    env = [f for f in report.findings if f.kind == "environment"]
    if env:
        parts.append(_environment(env))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _summary(report: Report) -> str:
    rows = []
    check = report.checkpoints is not None
    for side in ("research", "replay"):
        info = getattr(report, side) or {}
        count = f"{_e(info.get('checkpoints', 0))} checkpoint(s)" if check else f"{_e(info.get('cells', 0))} cell run(s)"
        rows.append(f"<tr><th>{'production' if check and side == 'replay' else side}</th><td>"
                    f"{_e(info.get('notebook') or '')}</td><td>Python "
                    f"{_e(info.get('python') or '?')}</td><td>{count}</td>"
                    f"<td>{_e(info.get('generator') or '')}</td></tr>")
    text = ""
    if report.execution_error:
        text = f"<p>The notebook could not be executed: {_e(report.execution_error)}</p>"
    first = report.first_divergence
    if first:
        ident = f" ({_e(first.get('cell_id'))})" if first.get("cell_id") else ""
        at = f"{_e(cell_name(first.get('cell_index')))}{ident}" if first.get("cell_index") is not None else "the environment"
        if first.get("checkpoint"):
            at = f"checkpoint {_e(first['checkpoint'])}"
        text += f"<p>First divergence: <strong>{at}</strong>, finding {_e(first.get('finding'))}.</p>"
    return f"<table>{''.join(rows)}</table>{text}"


def _timeline(report: Report) -> str:
    if not report.cells:
        return ""
    boxes = []
    for row in report.cells:
        state = row.get("state", "ok")
        if row.get("replay") == "missing" or row.get("research") == "missing":
            state = "error" if state == "error" else "missing"
        tip = f"{cell_name(row.get('index'), fallback='?')} ({row.get('id')}): research {row.get('research')}, replay {row.get('replay')}"
        if row.get("findings"):
            tip += "; findings " + ", ".join(row["findings"])
        shown = row["index"] + 1 if isinstance(row.get("index"), int) else "?"  # the notebook's own numbering
        boxes.append(f'<div class="cell c-{_e(state)}" title="{_e(tip)}">{_e(shown)}</div>')
    return "<h2>Cells, in the order they ran</h2><div class=\"timeline\">" + "".join(boxes) + "</div>"


def _checkpoints(report: Report) -> str:
    """``reprotrack check``: one row per checkpoint with its verdict and the columns its diagnosis names."""
    if report.checkpoints is None:
        return ""
    colour = {"matches": "c-ok", "precision": "c-ok", "differs": "c-error", "missing": "c-missing",
              "extra": "c-missing"}
    rows = ["<h2>Checkpoints</h2><table><tr><th>research</th><th>production</th><th>verdict</th><th>columns</th>"
            "<th>findings</th></tr>"]
    for row in report.checkpoints:
        links = ", ".join(f'<a href="#{_e(i)}">{_e(i)}</a>' for i in row.get("findings") or [])
        rows.append(f"<tr><td>{_e(row.get('name') or '—')}</td><td>{_e(row.get('production') or '—')}</td>"
                    f'<td><span class="cell {colour.get(row.get("status"), "c-missing")}">{_e(row.get("status"))}'
                    f"</span></td><td>{_e(', '.join(row.get('columns') or []))}</td><td>{links}</td></tr>")
    rows.append("</table>")
    return "".join(rows)


def _root(report: Report, root: Finding) -> str:
    severity = "warning" if root.severity != "error" else "error"
    parts = [f'<div class="finding {severity}" id="{_e(root.id)}">',
             f'<div class="meta">{_e(root.id)} · {_e(where(root))} · {_e(root.kind)}/{_e(root.cause)} · '
             f'{_e(root.subject)} · {severity}</div>', f"<p>{_e(root.message)}</p>"]
    if root.fix:
        parts.append(f'<p class="fix">Fix: {_e(root.fix)}</p>')
    parts.append(_histograms(root))
    after = report.consequences(root)
    if after:
        parts.append(f"<details><summary>{len(after)} consequence(s)</summary><ul>")
        for f in after:
            parts.append(f'<li id="{_e(f.id)}"><span class="meta">{_e(f.id)} · {_e(where(f))} · '
                         f'{_e(f.kind)}/{_e(f.cause)} · {_e(f.subject)}</span><br>{_e(f.message)}'
                         f"{_histograms(f)}</li>")
        parts.append("</ul></details>")
    parts.append("</div>")
    return "".join(parts)


def _histograms(finding: Finding) -> str:
    evidence = finding.evidence or {}
    if finding.kind != "data" or not isinstance(evidence.get("research"), dict):
        return ""
    pairs = column_pairs(evidence.get("research"), evidence.get("replay"))
    if not pairs:
        return ""
    return "<div>" + "".join(histogram_svg(name, a, b) for name, a, b in pairs) + \
        '<div class="meta">research filled (blue), replay outlined (orange)</div></div>'


#: At most this many variables get their distributions drawn in the data section (the rest: in their finding).
MAX_PLOTTED = 6


def _data_and_splits(report: Report) -> str:
    """What the data did, at a glance and unfolded: row counts that changed, rows that moved between train
    and test, and research-vs-replay histograms of the columns whose statistics moved."""
    data = [f for f in report.findings if f.kind == "data" and isinstance((f.evidence or {}).get("research"), dict)]
    rows = [f for f in data if f.cause in ("rows-added", "rows-removed")]
    splits = [f for f in report.findings if f.kind == "split" and isinstance((f.evidence or {}).get("research"), dict)]
    plotted, seen = [], set()
    for f in sorted(data, key=lambda f: f.cause != "distribution-shift"):
        if (f.cell_index, f.subject) not in seen and _histograms(f):
            seen.add((f.cell_index, f.subject))
            plotted.append(f)
    if not (rows or splits or plotted):
        return ""
    out = ["<h2>Data and splits</h2>"]
    if rows:
        out.append("<table><tr><th>variable</th><th>cell</th><th>research rows</th><th>replay rows</th></tr>")
        for f in rows:
            ev = f.evidence or {}
            out.append(f"<tr><td>{_e(f.subject)}</td><td>{_e(where(f))}</td><td>{_e(_rows(ev.get('research')))}</td>"
                       f"<td>{_e(_rows(ev.get('replay')))}</td></tr>")
        out.append("</table>")
    for f in splits:
        out.append(_split(f))
    for f in plotted[:MAX_PLOTTED]:
        out.append(f'<div class="plot"><div class="meta">{_e(f.subject)} · {_e(where(f))} · {_e(f.cause)}</div>'
                   f"{_histograms(f)}</div>")
    return "".join(out)


def _rows(fp) -> str:
    shape = fp.get("shape") if isinstance(fp, dict) else None
    return str(shape[0]) if isinstance(shape, list) and shape else "?"


def _split(f: Finding) -> str:
    ev = f.evidence or {}
    a, b = (ev.get("research") or {}).get("sizes") or {}, (ev.get("replay") or {}).get("sizes") or {}
    moved = ev.get("moved") or {}
    cells = [f"<td>{_e(a.get('train', '?'))} / {_e(a.get('test', '?'))}</td>",
             f"<td>{_e(b.get('train', '?'))} / {_e(b.get('test', '?'))}</td>"]
    bar = ""
    to_test, to_train = moved.get("to_test"), moved.get("to_train")
    if isinstance(to_test, int) and isinstance(to_train, int):
        total = max(1, sum(v for v in a.values() if isinstance(v, int)))
        w1, w2 = 300 * to_test / total, 300 * to_train / total
        bar = (f'<svg width="320" height="34" role="img" aria-label="rows moved between train and test">'
               f'<rect x="0" y="4" width="300" height="10" fill="#e0e0e0"/>'
               f'<rect x="0" y="4" width="{w1:.1f}" height="10" fill="#e53935"/>'
               f'<rect x="{w1:.1f}" y="4" width="{w2:.1f}" height="10" fill="#fb8c00"/>'
               f'<text x="0" y="30" class="tick">{to_test} train → test, {to_train} test → train, of {total}</text></svg>')
    return (f'<div class="plot"><div class="meta">{_e(f.subject)} · {_e(where(f))} · split-changed</div>'
            f"<table><tr><th>train / test</th><th>research</th><th>replay</th></tr><tr><td>sizes</td>{''.join(cells)}"
            f"</tr></table>{bar}</div>")


def _environment(env) -> str:
    rows = ["<h2>Environment</h2><table><tr><th>what</th><th>research</th><th>replay</th><th>severity</th></tr>"]
    for f in env:
        ev = f.evidence or {}
        rows.append(f"<tr><td>{_e(f.cause)}: {_e(f.subject)}</td><td>{_e(_value(ev.get('research')))}</td>"
                    f"<td>{_e(_value(ev.get('replay')))}</td><td>{_e(f.severity)}</td></tr>")
    rows.append("</table>")
    return "".join(rows)


def _value(v) -> str:
    return "—" if v is None else str(v)
