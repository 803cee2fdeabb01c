"""Make lock-derived text safe to show: no control characters, no bidirectional overrides.

Everything a report prints came from a lock, and a lock came from a notebook: variable names, file paths,
exception messages and printed output are chosen by whoever wrote the notebook. A terminal must not receive
their escape sequences (``\\x1b[2J``, OSC 8 links, ``\\x9b`` CSI), an XML file must not receive characters XML 1.0
forbids, and nobody should see text reordered by a Trojan-Source bidi override. ``clean`` shows such
characters as visible escapes instead (``\\x1b``), so nothing is silently lost.
"""

from __future__ import annotations

import unicodedata

#: Bidirectional embedding/override/isolate controls and other invisible format characters that reorder or
#: hide text (category Cf is checked too; these are listed for clarity).
_INVISIBLE = frozenset("\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                       "\u2060\u2066\u2067\u2068\u2069\ufeff")


def clean(text: object, *, newlines: bool = False) -> str:
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
