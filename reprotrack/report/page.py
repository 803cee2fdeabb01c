"""What every HTML page reprotrack writes shares: the escaping of lock- and data-derived text, and the head of
a self-contained page (inline CSS, a Content-Security-Policy that allows nothing else: no script, font or
network)."""

from __future__ import annotations

from html import escape

from reprotrack.core.text import escaped as clean


def e(text: object) -> str:
    """``text`` made safe to print (``clean``) and to place in HTML, attributes included."""
    return escape(clean(text), quote=True)


def page_head(title: str, style: str, heading: str, status: str) -> list[str]:
    """The page up to its ``<h1>``: ``heading`` followed by the ``status`` badge (styled by its class)."""
    return [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'">',
        f"<title>{e(title)}: {e(status)}</title><style>{style}</style></head><body>",
        f'<h1>{e(heading)} <span class="status {e(status)}">{e(status)}</span></h1>',
    ]
