"""Text that came from someone else's notebook, made safe to store or show. Two policies:

* ``one_line`` folds: any value (even one whose ``str`` raises) becomes one bounded line of printable text,
  control characters turned into spaces. For notes, error messages and comments, where a newline would
  start a new record (a requirement in a pinned file, a line in a log).
* ``escaped`` shows: every control or invisible format character is written as a visible escape
  (``\\x1b``, ``\\u202e``), so a report loses nothing and a terminal or an XML file receives nothing it would
  act on (escape sequences, OSC 8 links, Trojan-Source bidi overrides, characters XML 1.0 forbids).

``exception_text`` and ``redact`` are the two ways an exception or printed text enters a lock. Pure: no I/O.
"""

from __future__ import annotations

import re
import unicodedata

ELLIPSIS = "…"

#: Bidirectional embedding/override/isolate controls and other invisible format characters that reorder or
#: hide text (category Cf is checked too; these are listed for clarity).
_INVISIBLE = frozenset("\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                       "\u2060\u2066\u2067\u2068\u2069\ufeff")


def one_line(value: object, limit: int | None = None) -> str:
    """``str(value)`` on one line: non-printable characters as spaces, runs of white space folded, at most
    ``limit`` characters (the last one an ellipsis when cut). Never raises."""
    try:
        text = value if isinstance(value, str) else str(value)
    except Exception:  # noqa: BLE001 - str() of a hostile object can raise
        text = "<unprintable>"
    if not text.isprintable():
        text = "".join(ch if ch.isprintable() else " " for ch in text)
    text = " ".join(text.split())
    if limit is not None and len(text) > limit:
        text = text[: max(limit - 1, 0)] + ELLIPSIS
    return text


def exception_text(exc: BaseException, limit: int = 120) -> str:
    """``Type: message`` of an exception raised by a user's object, for a note: one line, bounded, and safe
    even when the exception's own ``__str__`` raises (hostile objects raise hostile exceptions)."""
    return f"{type(exc).__name__}: {one_line(exc, limit)}"


_USERINFO = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.-]*://)[^/\s@'\"<>]*@")
_QUERY_VALUE = re.compile(r"([?&][A-Za-z0-9_.~%-]+=)[^&#\s'\"<>]+")


def redact(text: str) -> str:
    """``text`` (an exception message, printed output) without the credentials a URL may carry: the
    ``user:password@`` part and the values of query parameters (tokens, signatures) are removed."""
    if "://" not in text and "=" not in text:
        return text
    return _QUERY_VALUE.sub(r"\1<redacted>", _USERINFO.sub(r"\1", text))


def escaped(text: object, *, newlines: bool = False) -> str:
    """``text`` with every control or invisible format character written as a visible escape.
    ``newlines=True`` keeps ``\\n`` (for multi-line blocks); tabs become a space."""
    if text is None:
        return ""
    text = str(text)
    if text.isprintable() and not any(ch in _INVISIBLE for ch in text):
        return text
    out = []
    for ch in text:
        if ch == "\n" and newlines:
            out.append(ch)
        elif ch == "\t":
            out.append(" ")
        elif ch in _INVISIBLE or unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
        else:
            out.append(ch)
    return "".join(out)


def cell_name(index: int | None, execution_count: int | None = None, fallback: object = None) -> str:
    """How a person is told which cell: ``cell 6`` is the 6th cell of the notebook, counted from 1 as
    JupyterLab, Notebook 7 and VS Code show it (markdown cells count: ``index`` is the 0-based position in
    the notebook's cells, as JSON reports keep it in ``cell_index``); ``cell 6 [12]`` adds the execution
    count the notebook shows beside the cell, where it helps find a run. Without a position: ``cell <id>``."""
    if isinstance(index, int) and not isinstance(index, bool):
        name = f"cell {index + 1}"
    else:
        name = f"cell {one_line(fallback, 40)}" if fallback not in (None, "") else "cell ?"
    if isinstance(execution_count, int) and not isinstance(execution_count, bool):
        name += f" [{execution_count}]"
    return name
