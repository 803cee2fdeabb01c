"""The JSON report: exactly ``reprotrack.core.diff.Report.to_dict()`` (the DESIGN keys ``status``,
``first_divergence``, ``findings``), sorted keys, ASCII-only (every non-ASCII or control character is a
``\\u`` escape, so the document is safe to print and lossless to parse)."""

from __future__ import annotations

import json

from reprotrack.core.diff.model import Report


def render_json(report: Report) -> str:
    return json.dumps(report.to_dict(), indent=2, sort_keys=True, ensure_ascii=True) + "\n"
