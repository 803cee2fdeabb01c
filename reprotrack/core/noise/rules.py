"""Output noise normalisation: the documented rules that make two honest runs print the same text.

A cell's printed text differs between two runs of the same notebook for reasons that say nothing about its
results: durations, progress bars, memory addresses, the kernel's temporary file names, where Python and the
libraries are installed, home and temporary folders, generated display ids, figure sizes, prompt numbers.
Comparing text without removing that noise raises false alarms, and one false alarm is enough for engineers
to stop trusting the verifier. Every rule below is applied, in this order, by ``normalise_text``:

1. ``\\r\\n`` → ``\\n``; ANSI escape sequences (colours, cursor moves) are removed.
2. Carriage-return overwrites (progress output): each line keeps only its final state (its last non-empty
   ``\\r`` segment), as a terminal would show it.
3. Progress bars (tqdm ``42%|████      | 42/100 [00:01<00:02, 35.2it/s]``) are dropped entirely, and so are
   the tracker's own lines (starting with ``reprotrack:``) and ``%timeit``'s sporadic "The slowest run took
   … times longer than the fastest" note.
4. Timestamps (``2026-11-22 10:41:42,123``) → ``<timestamp>``.
5. Timings: IPython ``%time`` (``CPU times: …``, ``Wall time: …``) → ``… <duration>``; ``%timeit`` lines
   (``1.2 ms ± 4 µs per loop (…)``) → ``<timeit>``; any number with a time unit (``1.23 s``, ``3.2s``,
   ``15 ms``, ``2 min``) or a clock duration (``0:00:01.5``) → ``<duration>``; a bare number after
   ``elapsed``/``took``/``time taken``/``runtime`` → ``<duration>``; rates (``35.2it/s``) → ``<rate>``.
   Runs of blanks before ``<duration>`` shrink to one, and to none after ``=`` (sklearn and joblib pad
   their timing columns to the width of the number).
   Fields that hold durations (``reprotrack.core.noise.durations.TIMING_FIELDS``: ``fit_time``, ``mean_fit_time``,
   ``std_score_time``, ``refit_time_``…): in a printed dict (``{'fit_time': array([0.01, …]), …}``) their value
   → ``<durations>``; in a printed table (``print(pd.DataFrame(grid.cv_results_))``) the cells under such a
   column header → ``<duration>``, and the table's runs of blanks shrink to one (its column widths follow
   the widths of those numbers).
6. Kernel cell file names: ``/tmp/ipykernel_12345/1234567.py`` and ``<ipython-input-3-abc>`` → ``<cell>``;
   prompt numbers ``Out[12]:`` / ``Cell In[12], line 3`` → ``Out[<n>]:`` / ``Cell In[<n>], line 3``.
7. Install paths: ``…/site-packages/`` and ``…/dist-packages/`` → ``<site-packages>/``, ``…/lib/python3.X/``
   → ``<stdlib>/``, and the line number after a file in either → ``:<line>`` (library line numbers move
   between versions; the version itself is reported by the environment comparison).
8. Folders: the caller's own paths, given as ``paths`` (the capture passes the notebook folder →
   ``<notebook-dir>``, the working directory → ``<cwd>``, ``sys.prefix`` → ``<prefix>``, home → ``~``); home folders (``/home/x/``, ``/Users/x/``, ``C:\\Users\\x\\``) →
   ``~/``; temporary folders (``/tmp/``, ``/var/folders/…/T/``) → ``<tmp>/``; ``tempfile`` names
   (``tmpab12_x9z``) → ``tmp<random>``; pytest's ``pytest-of-x/pytest-12/`` → ``<pytest>/``.
9. Memory addresses and ids: ``at 0x7f3a1b2c3d40`` and any ``0x`` with 6+ hex digits → ``<address>``;
   ``id=140234567890123`` (``id()`` values) → ``id=<id>``; UUIDs → ``<uuid>``; 32-hex widget/model ids →
   ``<id>``; estimator HTML ids ``sk-container-id-3`` / ``sk-estimator-id-12`` → ``…-id-<n>``.
10. Figures: ``<Figure size 640x480 with 1 Axes>`` → ``<Figure with 1 Axes>`` (the size follows the
    backend's dpi, the axes count follows the code).
11. Trailing blanks on every line and trailing empty lines are removed.
12. The user's own rules, ``(regex, replacement)`` pairs from ``[tool.reprotrack] normalise``, last.

Stream chunking needs no rule here: the capture keeps one buffer per stream, so the kernel's splitting of a
stream into chunks never shows. The rules are idempotent: normalising normalised text changes nothing.

Pure: no IPython, no I/O. Numbers are extracted here too (``numbers``/``mask_numbers``) so that capture and
comparison agree on what a number is; ``summarise_text`` is the stored form of a stream (excerpt, hashes,
numbers), shared by the capture and the comparison.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache

from reprotrack.core.noise.durations import TIMING_FIELDS

_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
# Lines dropped whole: the tracker's own warnings; %timeit's sporadic caching note.
_DROPPED_LINE = re.compile(r"^reprotrack:|^The slowest run took .* times longer than the fastest\.")
# tqdm's bar: "desc:  42%|█████     | 42/100 [00:01<00:02, 35.2it/s]" (ascii bars use '#' or digits).
_PROGRESS = re.compile(
    r"\d+%\|[^|\n]*\|"  # percentage and bar
    r"|\|\s*\d+(?:\.\d+)?[kMG]?/\d*(?:\.\d+)?[kMG]?\??\s*\[[^\]\n]*(?:<|\?)"  # "| 42/100 [00:01<" without %
    r"|\[\d\d:\d\d(?::\d\d)?<(?:\d\d:\d\d(?::\d\d)?|\?)"  # "[00:01<00:02"
)
_TIMESTAMP = re.compile(
    r"\b\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?\b"
)
_CPU_TIMES = re.compile(r"^(\s*CPU times:).*$", re.MULTILINE)
_WALL_TIME = re.compile(r"^(\s*Wall time:).*$", re.MULTILINE)
_TIMEIT = re.compile(r"^.*±.*per loop.*$|^.*\bloops?, best of \d+:.*per loop.*$", re.MULTILINE)
_NUM = r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?"
_UNIT = (
    r"(?:ns|nsec|µs|μs|us|usec|ms|msec|s|sec|secs|second|seconds|min|mins|minute|minutes"
    r"|h|hr|hrs|hour|hours)"
)
# Patterns start with a character class where they can (the engine then skips to candidates quickly); the
# boundary check follows as a two-character lookbehind.
_DURATION = re.compile(rf"\d(?<![\w.]\d)\d*(?:\.\d*)?(?:[eE][-+]?\d+)?\s?{_UNIT}(?![\w/])")
_HMS = re.compile(r"\d:\d\d:\d\d")
_CLOCK = re.compile(r"(?<![\w.:])\d+:\d\d:\d\d(?:\.\d+)?(?![\w.:])")
_AFTER_WORDS = ("elapsed", "took", "time taken", "runtime", "run time")
_AFTER_WORD = re.compile(
    rf"(?i)\b(elapsed(?: time)?|took|time taken|run ?time|time elapsed)(\s*[:=]?\s*){_NUM}(?![\w.])"
)
_RATE = re.compile(rf"(?<![\w.]){_NUM}\s?(?:it|its|items?|samples?|examples?|steps?|batches|batch|rows?)/s(?:ec)?\b")
_PAD = re.compile(r"(?<=\S)[ \t]{2,}(?=<duration>)")
_PAD_AFTER_EQ = re.compile(r"(?<==)[ \t]+(?=<duration>)")
_PAD_AFTER_COLON = re.compile(r"(?<=:)[ \t]{2,}(?=<duration>)")
_FIELDS = "|".join(sorted(TIMING_FIELDS, key=len, reverse=True))
# 'fit_time': array([0.01, 0.02]) / "refit_time_": 0.5 / 'score_time': [0.1, 0.2]
_TIMING_VALUE = re.compile(
    rf"""(['"](?:{_FIELDS})['"]\s*:\s*)(?:array\(\[[^\]]*\]\)|\[[^\]]*\]|{_NUM}(?![\w.]))"""
)
_TIMING_HEADER = re.compile(rf"(?<!\S)(?:{_FIELDS})(?!\S)")
_CELL_TOKEN = re.compile(r"\S+")
_BLANKS = re.compile(r"[ \t]{2,}")
_CELL_FILE = re.compile(
    r"(?:[A-Za-z]:)?[^\s\"'<>()]*?ipykernel_\d+[\\/]\d+\.py"  # ipykernel's compiled cell files
    r"|<ipython-input-\d+-[0-9a-f]+>"  # plain IPython
)
_PROMPT = re.compile(r"\b(Out|Cell In|Input In) ?\[\d+\]")
_SITE = re.compile(r"(?:[A-Za-z]:)?[^\s\"'<>()]*?[\\/](?:site|dist)-packages[\\/]")
_STDLIB = re.compile(r"(?:[A-Za-z]:)?[^\s\"'<>()]*?[\\/]lib[\\/]python3(?:\.\d+)?t?[\\/]")
_LIB_LINE = re.compile(r"(<(?:site-packages|stdlib)>/[^\s\"'<>():]*\.pyx?)(:\d+|\", line \d+)")
_HOME = re.compile(r"(?:/home|/Users)/[^\s/\"'<>]+/|[A-Za-z]:\\Users\\[^\s\\\"'<>]+\\")
_TMPDIR = re.compile(r"(?:/private)?/var/folders/[^\s/]+/[^\s/]+/T/|/var/tmp/|(?<![\w.~>-])/tmp/")
_TMPNAME = re.compile(r"\btmp[a-z0-9_]{8}\b")
_PYTEST = re.compile(r"pytest-of-[^\s/\\]+[\\/]pytest-\d+[\\/]")
_AT_ADDRESS = re.compile(r"\bat 0x[0-9a-fA-F]+")
_ADDRESS = re.compile(r"\b0x[0-9a-fA-F]{6,}\b")
_ID_VALUE = re.compile(r"\bid\s*[=:]\s*\d{9,}\b")
_UUID_HINT = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-")
_UUID = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b")
_HEX_ID = re.compile(r"[0-9a-f](?<![\w][0-9a-f])[0-9a-f]{31}(?!\w)")
_SK_ID = re.compile(r"\b(sk-(?:container|estimator|toggleable__control|[a-z-]+)-id)-\d+\b")
_FIGURE = re.compile(r"<Figure size \d+(?:\.\d+)?x\d+(?:\.\d+)? with (\d+) Axes>")

#: Numbers as the comparison sees them: not inside words or version strings (``float64``, ``1.2.3``).
NUMBER = re.compile(
    r"[-+.\dnNiI](?<![\w.].)"  # a candidate first character not preceded by a word character or a dot
    r"(?:(?<=[-+])(?:(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|(?i:nan|inf(?:inity)?))"  # signed
    r"|(?<=\d)\d*(?:\.\d*)?(?:[eE][-+]?\d+)?"  # 12, 1.5, 1e-3
    r"|(?<=\.)\d+(?:[eE][-+]?\d+)?"  # .5
    r"|(?<=[nN])(?i:an)|(?<=[iI])(?i:nf(?:inity)?))"  # nan, inf, infinity in any case
    r"(?![\w]|\.\d)"
)
NUMBER_MASK = "<num>"


def collapse_carriage_returns(text: str) -> str:
    """Each line keeps its final state: the last non-empty segment between carriage returns."""
    if "\r" not in text:
        return text
    lines = []
    for line in text.split("\n"):
        if "\r" in line:
            segments = [s for s in line.split("\r") if s]
            line = segments[-1] if segments else ""
        lines.append(line)
    return "\n".join(lines)


def compact_tail(text: str) -> str:
    """Shrink text that is still being written without changing how ``collapse_carriage_returns`` will read
    it once complete: complete lines collapse; the unfinished last line keeps its last non-empty segment and
    whether a carriage return follows it (a later write overwrites it then)."""
    head, sep, tail = text.rpartition("\n")
    head = collapse_carriage_returns(head) + sep if sep else ""
    if "\r" in tail:
        segments = tail.split("\r")
        last = segments[-1]
        if last:
            tail = "\r" + last
        else:
            kept = [s for s in segments if s]
            tail = (kept[-1] if kept else "") + "\r"
    return head + tail


def normalise_text(
    text: str,
    rules: Iterable[Sequence[str]] = (),
    *,
    paths: Iterable[tuple[str, str]] = (),
) -> str:
    """Apply the module's rules (see the module docstring), then ``paths`` (absolute folder → placeholder,
    longest first), then the user's ``rules``. Invalid user regexes raise ``re.error``: ``compile_rules``
    checks them once up front.

    Every rule is guarded by a plain substring test: Python's regex engine costs tens of nanoseconds per
    character per pattern, and most cells' text contains none of what most rules look for."""
    if not text:
        return ""
    if "\r" in text:
        text = collapse_carriage_returns(text.replace("\r\n", "\n"))
    if "\x1b" in text:
        text = _ANSI.sub("", text)
    if "reprotrack:" in text or "The slowest run" in text or "|" in text or "<" in text:
        text = "\n".join(line for line in text.split("\n") if not _dropped(line))
    if ":" in text and _HMS.search(text):
        text = _TIMESTAMP.sub("<timestamp>", text)
        text = _CLOCK.sub("<duration>", text)
    if "CPU times:" in text:
        text = _CPU_TIMES.sub(r"\1 <duration>", text)
    if "Wall time:" in text:
        text = _WALL_TIME.sub(r"\1 <duration>", text)
    if "per loop" in text:
        text = _TIMEIT.sub("<timeit>", text)
    if "/s" in text:
        text = _RATE.sub("<rate>", text)
    text = _DURATION.sub("<duration>", text)
    lower = text.lower()
    if any(word in lower for word in _AFTER_WORDS):
        text = _AFTER_WORD.sub(r"\1\2<duration>", text)
    if "<duration>" in text:
        text = _PAD_AFTER_EQ.sub("", text)
        text = _PAD_AFTER_COLON.sub(" ", text)
        text = _PAD.sub(" ", text)
    if "_time" in text:
        text = _timing_fields(text)
    if "ipykernel_" in text or "<ipython-input-" in text:
        text = _CELL_FILE.sub("<cell>", text)
    if "In[" in text or "Out[" in text or "In [" in text:
        text = _PROMPT.sub(r"\1[<n>]", text)
    if "-packages" in text:
        text = _SITE.sub("<site-packages>/", text)
    if "python3" in text:
        text = _STDLIB.sub("<stdlib>/", text)
    if "<site-packages>/" in text or "<stdlib>/" in text:
        text = _LIB_LINE.sub(_lib_line, text)
    for folder, placeholder in sorted(paths, key=lambda p: -len(p[0])):
        if folder and len(folder) > 1 and folder in text:
            text = text.replace(folder, placeholder)
    if "pytest-of-" in text:
        text = _PYTEST.sub("<pytest>/", text)
    if "/home/" in text or "/Users/" in text or ":\\Users\\" in text:
        text = _HOME.sub("~/", text)
    if "/tmp/" in text or "/var/" in text:
        text = _TMPDIR.sub("<tmp>/", text)
    if "tmp" in text:
        text = _TMPNAME.sub("tmp<random>", text)
    if "0x" in text:
        text = _AT_ADDRESS.sub("at <address>", text)
        text = _ADDRESS.sub("<address>", text)
    if "id" in text:
        text = _ID_VALUE.sub("id=<id>", text)
    if "-" in text and _UUID_HINT.search(text):
        text = _UUID.sub("<uuid>", text)
    if _HEX_ID.search(text):
        text = _HEX_ID.sub("<id>", text)
    if "sk-" in text:
        text = _SK_ID.sub(r"\1-<n>", text)
    if "<Figure size" in text:
        text = _FIGURE.sub(r"<Figure with \1 Axes>", text)
    text = "\n".join(line.rstrip(" \t") for line in text.split("\n")).rstrip("\n")
    for pattern, replacement in compile_rules(tuple(tuple(r) for r in rules)):
        text = pattern.sub(replacement, text)
    return text


def _timing_fields(text: str) -> str:
    """Values of the timing fields in printed dicts, and the cells of timing columns in printed tables."""
    if "_time'" in text or '_time"' in text or "_time_'" in text:
        text = _TIMING_VALUE.sub(r"\1<durations>", text)
    if not _TIMING_HEADER.search(text):
        return text
    out: list[str] = []
    spans: list[tuple[int, int]] = []
    for line in text.split("\n"):
        headers = [m.span() for m in _TIMING_HEADER.finditer(line)]
        if headers:
            spans = headers
            out.append(_BLANKS.sub(" ", line))
        elif spans and line.strip():
            out.append(_BLANKS.sub(" ", _mask_cells(line, spans)))
        else:
            spans = []
            out.append(line)
    return "\n".join(out)


def _mask_cells(line: str, spans: list[tuple[int, int]]) -> str:
    """The number under each header span (right-aligned under it, as pandas prints) → ``<duration>``."""
    for start, end in sorted(spans, reverse=True):
        for match in _CELL_TOKEN.finditer(line):
            if match.end() == end or (match.start() < end and match.end() > start):
                if NUMBER.fullmatch(match.group(0)):
                    line = line[: match.start()] + "<duration>" + line[match.end():]
                break
    return line


def _dropped(line: str) -> bool:
    if line.startswith(("reprotrack:", "The slowest run took")):
        return bool(_DROPPED_LINE.match(line))
    return ("|" in line or "<" in line) and _PROGRESS.search(line) is not None


def _lib_line(match: re.Match[str]) -> str:
    suffix = match.group(2)
    return match.group(1) + ('", line <line>' if suffix.startswith('"') else ":<line>")


@lru_cache(maxsize=64)
def compile_rules(rules: tuple[tuple[str, ...], ...]) -> tuple[tuple[re.Pattern[str], str], ...]:
    """The user's ``[[regex, replacement], …]`` compiled (multi-line mode: ``^``/``$`` match at lines)."""
    compiled = []
    for rule in rules:
        if len(rule) != 2 or not all(isinstance(part, str) for part in rule):
            raise ValueError(f"a normalise rule must be a [regex, replacement] pair of strings, got {list(rule)!r}")
        compiled.append((re.compile(rule[0], re.MULTILINE), rule[1]))
    return tuple(compiled)


def numbers(text: str) -> list[float]:
    """Every number in ``text``, in order."""
    return [float(m.group(0)) for m in NUMBER.finditer(text)]


def numbers_and_mask(text: str) -> tuple[list[float], str]:
    """``numbers(text)`` and ``mask_numbers(text)`` in one pass."""
    found: list[float] = []
    parts: list[str] = []
    last = 0
    for match in NUMBER.finditer(text):
        found.append(float(match.group(0)))
        parts.append(text[last : match.start()])
        parts.append(NUMBER_MASK)
        last = match.end()
    parts.append(text[last:])
    return found, "".join(parts)


def mask_numbers(text: str) -> str:
    """``text`` with every number replaced by ``<num>``: equal masks mean only numbers changed."""
    return NUMBER.sub(NUMBER_MASK, text)


def json_number(value: float) -> float | int | str:
    """A float JSON can hold (the lock is written with ``allow_nan=False``): ``nan``/``inf``/``-inf`` become
    those strings; integral values that fit become ints."""
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def from_json_number(value: float | int | str) -> float:
    return float(value)


#: What a text summary keeps: an excerpt for messages and re-normalisation, numbers for tolerant comparison.
EXCERPT_CHARS = 2000
MAX_NUMBERS = 200


def summarise_text(
    raw: str,
    rules: Iterable[Sequence[str]] = (),
    *,
    paths: Iterable[tuple[str, str]] = (),
    truncated: bool = False,
    protect: Callable[[str], str] | None = None,
) -> dict[str, object] | None:
    """The compact, JSON-able record of printed text: the normalised text's first ``EXCERPT_CHARS``
    characters, its length and sha256, the sha256 with numbers masked (equal masks: only numbers changed),
    the first ``MAX_NUMBERS`` numbers (nan/inf as strings), whether any is nan/inf. None when nothing is left
    after normalisation (a cell that printed only progress bars or the tracker's own warnings). ``protect``
    treats the normalised text before anything is kept (the privacy policy's redaction)."""
    text = normalise_text(raw, rules, paths=paths)
    if protect is not None and text:
        text = protect(text)
    if not text:
        return None
    found, masked = numbers_and_mask(text)
    return {
        "text": text[:EXCERPT_CHARS],
        "chars": len(text),
        "sha256": _sha256(text),
        "masked_sha256": _sha256(masked),
        "numbers": [json_number(v) for v in found[:MAX_NUMBERS]],
        "numbers_total": len(found),
        "nan_or_inf": any(math.isnan(v) or math.isinf(v) for v in found),
        "truncated": bool(truncated),
    }


def _sha256(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
