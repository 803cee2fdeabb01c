"""Compare what one cell showed in two runs: its result value and its printed text.

Input is two ``cells[].outputs`` dicts as ``reprotrack.kernel.capture.outputs`` records them (``result``,
``stdout``, ``stderr``); output is a list of ``OutputDifference`` — at most one per ``subject`` (``result``,
``stdout``, ``stderr``) — with a cause from the diagnosis vocabulary and one readable sentence. The order of
preference follows the issue: values over text.

- **Result.** Equal fingerprint ``content`` → no difference. Numbers (``value``) and short lists of numbers
  (``values``) are compared with tolerance: ``|a - b| <= atol + rtol * max(|a|, |b|)``; beyond it →
  ``metric-changed``. Other values go through the data comparison (``reprotrack.core.diff.data``): no
  cause, or only ``precision`` (every changed value within ``rtol``/``atol`` at the fingerprint's sampled
  positions) → no difference; otherwise → ``output-changed`` in the data comparison's words ("2 row(s)
  removed (10 → 8)"). Objects the fingerprint does not know (null ``content``) compare by type only.
- **Printed text** (already normalised at capture; the user's ``rules`` are applied again to the stored
  excerpts when both are complete, so a rule added after recording still works). Equal sha256 → no
  difference. Equal text with numbers masked → the numbers are compared pairwise with tolerance: all within
  → no difference, else ``metric-changed`` naming the first few with the words before them ("printed
  accuracy 0.9561 in research, 0.9386 now"). Otherwise → ``output-changed`` quoting the first differing line.
- **nan/inf.** Whenever a difference involves nan or inf on either side (appearing now, or present in the
  research run), its cause is ``nan-or-inf`` and the sentence says which run had it. Identical nan in both
  runs is not a difference.

``rtol``/``atol`` are taken as given: the caller chooses them (a verifier may well want looser tolerances
for metrics than for data). Pure: no IPython, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from reprotrack.core.diff.data import classify
from reprotrack.core.noise import rules as normalise

CAUSES = ("nan-or-inf", "metric-changed", "output-changed")
STREAM_LABEL = {"stdout": "printed", "stderr": "printed to stderr"}
#: Changed numbers named in one message; the rest are counted.
NAMED_NUMBERS = 3
QUOTE_CHARS = 80


@dataclass
class OutputDifference:
    cause: str
    subject: str
    message: str


def compare_outputs(
    research: dict[str, Any] | None,
    replay: dict[str, Any] | None,
    *,
    rtol: float,
    atol: float,
    rules: Iterable[Sequence[str]] = (),
) -> list[OutputDifference]:
    """Differences between two recordings of one cell's outputs; [] when they agree (noise aside)."""
    research = research or {}
    replay = replay or {}
    rules = tuple(tuple(r) for r in rules)
    found = []
    difference = compare_result(research.get("result"), replay.get("result"), rtol=rtol, atol=atol)
    if difference is not None:
        found.append(difference)
    for stream in ("stdout", "stderr"):
        difference = compare_text(stream, research.get(stream), replay.get(stream), rtol=rtol, atol=atol, rules=rules)
        if difference is not None:
            found.append(difference)
    return found


def close(a: float, b: float, *, rtol: float, atol: float) -> bool:
    """Equal within tolerance; nan equals nan and an infinity equals itself (the same output twice)."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= atol + rtol * max(abs(a), abs(b))


# -- the result value ------------------------------------------------------------------------------------
def compare_result(
    research: dict[str, Any] | None, replay: dict[str, Any] | None, *, rtol: float, atol: float
) -> OutputDifference | None:
    if not research and not replay:
        return None
    if not research or not replay:
        shown = replay or research
        kind = _describe(shown)
        message = (
            f"the cell now shows {kind}; in research it showed nothing"
            if replay
            else f"the cell showed {kind} in research, nothing now"
        )
        return OutputDifference(_nan_cause(shown, "output-changed"), "result", message)
    fp_a, fp_b = research.get("fingerprint") or {}, replay.get("fingerprint") or {}
    if fp_a.get("type") == fp_b.get("type") and fp_a.get("content") is not None and fp_a.get("content") == fp_b.get("content"):
        return None
    if "value" in research and "value" in replay:
        a, b = float(research["value"]), float(replay["value"])
        if close(a, b, rtol=rtol, atol=atol):
            return None
        cause = "nan-or-inf" if not (math.isfinite(a) and math.isfinite(b)) else "metric-changed"
        return OutputDifference(cause, "result", f"the cell's result was {_fmt(a)} in research, {_fmt(b)} now")
    if "values" in research and "values" in replay and len(research["values"]) == len(replay["values"]):
        pairs = [(i, float(a), float(b)) for i, (a, b) in enumerate(zip(research["values"], replay["values"]))]
        changed = [(i, a, b) for i, a, b in pairs if not close(a, b, rtol=rtol, atol=atol)]
        if not changed:
            return None
        cause = "nan-or-inf" if any(not (math.isfinite(a) and math.isfinite(b)) for _, a, b in changed) else "metric-changed"
        named = "; ".join(f"[{i}] {_fmt(a)} in research, {_fmt(b)} now" for i, a, b in changed[:NAMED_NUMBERS])
        more = f" and {len(changed) - NAMED_NUMBERS} more" if len(changed) > NAMED_NUMBERS else ""
        return OutputDifference(
            cause, "result", f"the cell's result differs at {len(changed)} of {len(pairs)} positions: {named}{more}"
        )
    why = _data_causes(fp_a, fp_b, rtol=rtol, atol=atol)
    if why is not None and all(d.cause == "precision" for d in why):
        return None  # equal, or different only within tolerance at the fingerprint's sampled positions
    flags_a, flags_b = research.get("nan_or_inf") or [], replay.get("nan_or_inf") or []
    if flags_a or flags_b:
        return OutputDifference("nan-or-inf", "result", _nan_sentence("the cell's result", flags_a, flags_b))
    message = _result_change(fp_a, fp_b)
    if why and _short_type(fp_a.get("type")) == _short_type(fp_b.get("type")):
        first = why[0].message.rstrip(".").replace(" in column(s) ''", "")  # 1-D arrays have unnamed columns
        if why[0].member:  # a container's member: say which
            first = f"{why[0].member.lstrip('.')}: {first[:1].lower()}{first[1:]}"
        message = f"the cell's result ({_short_type(fp_a.get('type'))}) differs: {first[:1].lower()}{first[1:]}"
    return OutputDifference("output-changed", "result", message)


def _data_causes(fp_a: dict[str, Any], fp_b: dict[str, Any], *, rtol: float, atol: float) -> list[Any] | None:
    """The data comparison's causes for two fingerprints (None if it cannot read them)."""
    try:
        return classify(fp_a, fp_b, rtol=rtol, atol=atol)
    except Exception:  # noqa: BLE001 - a fingerprint from another version: fall back to our own sentence
        return None


def _describe(summary: dict[str, Any]) -> str:
    if "value" in summary:
        return f"the value {_fmt(float(summary['value']))}"
    fp = summary.get("fingerprint") or {}
    kind = _short_type(fp.get("type"))
    shape = fp.get("shape")
    return f"a {kind}" + (f" of shape {_shape(shape)}" if shape is not None else "")


def _result_change(fp_a: dict[str, Any], fp_b: dict[str, Any]) -> str:
    type_a, type_b = _short_type(fp_a.get("type")), _short_type(fp_b.get("type"))
    if type_a != type_b:
        return f"the cell's result was a {type_a} in research, a {type_b} now"
    if fp_a.get("shape") != fp_b.get("shape"):
        return f"the cell's result ({type_a}) had shape {_shape(fp_a.get('shape'))} in research, {_shape(fp_b.get('shape'))} now"
    if fp_a.get("schema") != fp_b.get("schema"):
        return f"the cell's result ({type_a}) has another schema than in research"
    return f"the cell's result ({type_a}) has other values than in research"


def _short_type(name: Any) -> str:
    return str(name).rsplit(".", 1)[-1] if name else "value"


def _shape(shape: Any) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ")" if isinstance(shape, (list, tuple)) else str(shape)


def _nan_cause(summary: dict[str, Any], otherwise: str) -> str:
    return "nan-or-inf" if summary.get("nan_or_inf") else otherwise


def _nan_sentence(what: str, flags_a: Sequence[str], flags_b: Sequence[str]) -> str:
    def names(flags: Sequence[str]) -> str:
        return "/".join("NaN" if f == "nan" else f for f in flags)

    if flags_b and not flags_a:
        return f"{what} contains {names(flags_b)} now; the research run had none"
    if flags_a and not flags_b:
        return f"{what} contained {names(flags_a)} in research and has none now"
    return f"{what} differs and contains {names(flags_b)} now, as it did ({names(flags_a)}) in the research run"


# -- printed text ----------------------------------------------------------------------------------------
def compare_text(
    stream: str,
    research: dict[str, Any] | None,
    replay: dict[str, Any] | None,
    *,
    rtol: float,
    atol: float,
    rules: Iterable[Sequence[str]] = (),
) -> OutputDifference | None:
    label = STREAM_LABEL.get(stream, f"printed to {stream}")
    rules = tuple(tuple(r) for r in rules)
    if rules:
        research, replay = _renormalised(research, rules), _renormalised(replay, rules)
    if not research and not replay:
        return None
    if not research or not replay:
        shown = replay or research
        quote = _quote(_first_line(shown.get("text", "")))
        message = (
            f"the cell {label} {quote} now; it {label} nothing in research"
            if replay
            else f"the cell {label} {quote} in research, nothing now"
        )
        cause = "nan-or-inf" if shown.get("nan_or_inf") else "output-changed"
        return OutputDifference(cause, stream, message)
    if research.get("sha256") == replay.get("sha256"):
        return None
    if research.get("masked_sha256") == replay.get("masked_sha256") and research.get(
        "numbers_total"
    ) == replay.get("numbers_total"):
        return _compare_numbers(stream, label, research, replay, rtol=rtol, atol=atol)
    text_a, text_b = research.get("text", ""), replay.get("text", "")
    line_no, line_a, line_b = _first_difference(text_a, text_b)
    if research.get("text_withheld") or replay.get("text_withheld"):
        detail = "(the text is withheld by the privacy policy)"
    elif line_no is None:
        detail = (
            f"after the first {normalise.EXCERPT_CHARS} characters "
            f"({research.get('chars')} characters in research, {replay.get('chars')} now)"
        )
    else:
        detail = f"at line {line_no}: {_quote(line_a)} in research, {_quote(line_b)} now"
    if research.get("nan_or_inf") or replay.get("nan_or_inf"):
        flags_a = ["nan or inf"] if research.get("nan_or_inf") else []
        flags_b = ["nan or inf"] if replay.get("nan_or_inf") else []
        lead = _nan_sentence(f"the text the cell {label}", flags_a, flags_b)
        return OutputDifference("nan-or-inf", stream, f"{lead}; it differs {detail}")
    return OutputDifference("output-changed", stream, f"the text the cell {label} differs {detail}")


def _compare_numbers(
    stream: str, label: str, research: dict[str, Any], replay: dict[str, Any], *, rtol: float, atol: float
) -> OutputDifference | None:
    nums_a = [float(v) for v in research.get("numbers", [])]
    nums_b = [float(v) for v in replay.get("numbers", [])]
    changed = [
        (i, a, b) for i, (a, b) in enumerate(zip(nums_a, nums_b)) if not close(a, b, rtol=rtol, atol=atol)
    ]
    total = int(research.get("numbers_total") or 0)
    if not changed:
        if total <= len(nums_a):
            return None  # only the formatting of equal-within-tolerance numbers differs
        return OutputDifference(
            "metric-changed",
            stream,
            f"the text the cell {label} differs in its numbers after the first {len(nums_a)} "
            f"(those were within tolerance; {total} numbers in all)",
        )
    text_a, text_b = research.get("text", ""), replay.get("text", "")
    parts = []
    for i, a, b in changed[:NAMED_NUMBERS]:
        context, token_a = _number_in_text(text_a, i)
        _, token_b = _number_in_text(text_b, i)
        parts.append(f"{context} {token_a or _fmt(a)} in research, {token_b or _fmt(b)} now")
    more = f" (and {len(changed) - NAMED_NUMBERS} more numbers)" if len(changed) > NAMED_NUMBERS else ""
    involved = [v for _, a, b in changed for v in (a, b)]
    cause = "nan-or-inf" if any(not math.isfinite(v) for v in involved) else "metric-changed"
    return OutputDifference(cause, stream, f"{label} " + "; ".join(parts) + more)


def _number_in_text(text: str, index: int) -> tuple[str, str | None]:
    """The words before the ``index``-th number on its line (its name, usually) and the number as printed."""
    for i, match in enumerate(normalise.NUMBER.finditer(text)):
        if i == index:
            start = text.rfind("\n", 0, match.start()) + 1
            words = text[start : match.start()].replace("=", " ").replace(":", " ").split()
            words = [w.strip(",;()[]{}|'\"") for w in words[-3:]]
            context = " ".join(w for w in words if w)
            return (context or f"number {index + 1}"), match.group(0)
    return f"number {index + 1}", None


def _first_difference(text_a: str, text_b: str) -> tuple[int | None, str, str]:
    """1-based line number and the two lines where the excerpts first differ (None: the excerpts agree)."""
    lines_a, lines_b = text_a.split("\n"), text_b.split("\n")
    for i in range(max(len(lines_a), len(lines_b))):
        a = lines_a[i] if i < len(lines_a) else ""
        b = lines_b[i] if i < len(lines_b) else ""
        if a != b:
            complete = len(text_a) < normalise.EXCERPT_CHARS and len(text_b) < normalise.EXCERPT_CHARS
            last = i >= min(len(lines_a), len(lines_b)) - 1
            if not complete and last:
                return None, "", ""  # the excerpts were cut mid-line: the lines may well be equal
            return i + 1, a, b
    return None, "", ""


def _renormalised(summary: dict[str, Any] | None, rules: tuple[tuple[str, ...], ...]) -> dict[str, Any] | None:
    """Apply the user's rules to a complete stored excerpt (the builtin rules are idempotent)."""
    if not summary or summary.get("truncated") or summary.get("chars", 0) > len(summary.get("text", "")):
        return summary
    again = normalise.summarise_text(summary.get("text", ""), rules)
    return again


def _first_line(text: str) -> str:
    return next((line for line in text.split("\n") if line.strip()), "")


def _quote(text: str) -> str:
    text = text.strip()
    if len(text) > QUOTE_CHARS:
        text = text[: QUOTE_CHARS - 1] + "…"
    return repr(text)


def _fmt(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.10g}"
