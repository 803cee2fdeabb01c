"""What a cell showed: its result value (fingerprinted) and the text it printed (normalised, summarised).

The verifier prefers comparing the values a cell produced over comparing text, so the displayed result is
fingerprinted (``reprotrack.core.fingerprint``) and, when it is a number or a short list of numbers, kept as is
for a tolerant comparison. Printed text is captured by a tee around ``sys.stdout``/``sys.stderr`` installed
for the duration of the cell: a proxy that forwards every attribute and every write unchanged (what the
user sees, ``isatty``, ``fileno``, ``flush``, ``encoding``, ``isinstance`` checks, tqdm) and keeps a bounded
copy. The copy is normalised (``reprotrack.core.noise.rules``) before it is stored: the lock holds an excerpt, the
sha256, the numbers found and whether nan/inf appeared, never raw megabytes.

Rules this module keeps:
- After the cell the original stream is put back when ``sys.stdout`` is still our proxy. A cell that set
  ``sys.stdout`` to something else keeps its choice (an untracked run would too); a proxy that lives on
  (kept by a logging handler, wrapped by another library) keeps forwarding and records into whatever cell
  is running, never twice for one write (nested proxies record only at the outermost one).
- One buffer per stream: the kernel's splitting of a stream into chunks never shows.
- A cell that prints nothing and returns None costs a few microseconds and leaves ``outputs`` empty.
"""

from __future__ import annotations

import math
import numbers as _numbers
import os
import re
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reprotrack.core import privacy
from reprotrack.core.noise import rules as normalise
from reprotrack.core.noise.durations import without_durations
from reprotrack.core.text import exception_text, redact
from reprotrack.kernel.capture import Capture

if TYPE_CHECKING:  # pragma: no cover
    from reprotrack.kernel.context import CellContext
    from reprotrack.kernel.session import Session

#: Characters kept per stream per cell before normalisation (progress output is compacted first).
MAX_CAPTURE_CHARS = 64 * 1024
#: Numbers kept as a result's ``values`` (a short array or tuple of scores): longer ones rely on the fingerprint.
MAX_RESULT_VALUES = 32
STREAMS = ("stdout", "stderr")
#: Cell-source lines at least this long (stripped) are never kept in printed text: a traceback (IPython's
#: ``----> 3 token = "..."``, ``traceback.print_exc()``, ``logging.exception``) quotes the cell's code, and
#: sources are hashed, never stored. Shorter lines (``x = 1``) cannot carry a secret worth hiding.
MIN_SOURCE_LINE = 8
MAX_SOURCE_KEYS = 100_000
_CODE_CONTEXT = re.compile(r"^(?:-*>\s*)?\d*\s?")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")

class _ThreadState(threading.local):
    """Per thread: inside a proxy's write (nested proxies record once), inside the displayhook (muted)."""

    inside = False
    muted = False


_LOCAL = _ThreadState()


class _Buffer:
    """A bounded copy of one stream's text during one cell."""

    __slots__ = ("parts", "size", "truncated")

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.truncated = False

    def add(self, text: str) -> None:
        if self.truncated:
            return
        self.parts.append(text)
        self.size += len(text)
        if self.size > MAX_CAPTURE_CHARS:
            self._compact()

    def _compact(self) -> None:
        # Progress bars rewrite one line thousands of times: collapsing carriage returns keeps their final
        # state in a few bytes. Output that does not shrink by half is cut at the bound and recording stops
        # (compacting again and again would cost more than the cell).
        text = normalise.compact_tail("".join(self.parts))
        if len(text) > MAX_CAPTURE_CHARS // 2:
            text = text[:MAX_CAPTURE_CHARS]
            self.truncated = True
        self.parts = [text]
        self.size = len(text)

    def text(self) -> str:
        return "".join(self.parts)


class StreamTee:
    """Transparent proxy for a text stream: forwards everything, copies writes into the running cell's buffer."""

    # Attributes set on the proxy stay on the proxy (``__dict__``): code that patches ``write`` and calls
    # the original it read from the proxy (IPython's own history tee does) would otherwise patch the wrapped
    # stream with a function that calls itself through the proxy.
    __slots__ = ("_tee_stream", "_tee_name", "_tee_owner", "__dict__")

    def __init__(self, stream: Any, name: str, owner: OutputCapture) -> None:
        self._tee_stream = stream
        self._tee_name = name
        self._tee_owner = owner

    # isinstance(sys.stdout, TextIOBase / OutStream) keeps answering as for the wrapped stream.
    @property  # type: ignore[misc]
    def __class__(self) -> type:
        return type(self._tee_stream)

    def write(self, text: Any) -> Any:
        local = _LOCAL
        buffer = self._tee_owner.buffers.get(self._tee_name)
        if buffer is None or local.inside or local.muted:  # no cell running, a nested proxy, a displayhook
            return self._tee_stream.write(text)
        local.inside = True
        try:
            written = self._tee_stream.write(text)
        finally:
            local.inside = False
        if type(text) is str and not buffer.truncated:
            try:
                buffer.add(text)
            except Exception:  # noqa: BLE001 - the copy is ours; the user's write already happened
                pass
        return written

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tee_stream, name)

    def __dir__(self) -> list[str]:
        return dir(self._tee_stream)

    def __repr__(self) -> str:
        return repr(self._tee_stream)

    def __enter__(self) -> Any:
        return self._tee_stream.__enter__()

    def __exit__(self, *exc: Any) -> Any:
        return self._tee_stream.__exit__(*exc)

    def __iter__(self) -> Any:
        return iter(self._tee_stream)


class OutputCapture(Capture):
    name = "outputs"

    def __init__(self) -> None:
        self.buffers: dict[str, _Buffer] = {}
        self.installed: dict[str, tuple[StreamTee, Any]] = {}
        self.rules: tuple[tuple[str, str], ...] = ()
        self.base_dir: Any = None
        self.patched_hook: tuple[Any, dict[str, Any]] = (None, {})
        self.source_keys: set[int] = set()  # in-memory hashes of the session's source lines, never stored
        self.session: Session | None = None

    def install(self, session: Session) -> None:
        # The user's [tool.reprotrack] normalise rules, read by the session when it starts.
        rules = getattr(session.config, "normalise", None) or ()
        try:
            self.rules = tuple((str(p), str(r)) for p, r in rules)
            normalise.compile_rules(self.rules)
        except (ValueError, TypeError, re.error) as exc:
            self.rules = ()
            warn = getattr(session, "warn", None)
            if callable(warn):
                warn(f"[tool.reprotrack] normalise rules ignored: {exc}; each rule is a [regex, replacement] pair")
        self.base_dir = getattr(session, "base_dir", None)
        self.session = session  # its privacy policy is read per cell: ``%reprotrack start --privacy`` may change it
        self._mute_displayhook(getattr(session, "shell", None))

    def uninstall(self) -> None:
        self._restore()
        self.buffers = {}
        hook, wrappers = self.patched_hook
        self.patched_hook = (None, {})
        for attr, wrapper in wrappers.items():
            if vars(hook).get(attr) is wrapper:  # only ours: someone may have patched it after us
                delattr(hook, attr)

    def _mute_displayhook(self, shell: Any) -> None:
        """A terminal shell's displayhook prints ``Out[n]: repr`` to stdout: that is the result, which is
        fingerprinted, not printed text (a kernel's displayhook sends it as a message instead)."""
        hook = getattr(shell, "displayhook", None)
        if hook is None or not callable(getattr(hook, "start_displayhook", None)):
            return
        start, finish = hook.start_displayhook, hook.finish_displayhook

        def start_displayhook() -> Any:
            _LOCAL.muted = True
            return start()

        def finish_displayhook() -> Any:
            try:
                return finish()
            finally:
                _LOCAL.muted = False

        hook.start_displayhook = start_displayhook
        hook.finish_displayhook = finish_displayhook
        self.patched_hook = (hook, {"start_displayhook": start_displayhook, "finish_displayhook": finish_displayhook})

    def before_cell(self, ctx: CellContext) -> None:
        self._restore()  # a cell whose after_cell never came (a nested run) must not stack proxies
        _LOCAL.muted = False  # a repr that raised inside the displayhook must not mute this cell
        buffers = {}
        for name in STREAMS:
            stream = getattr(sys, name)
            if stream is None:
                continue
            while type(stream) is StreamTee:  # a proxy put back late by the user, or from an earlier session
                stream = stream._tee_stream
            tee = StreamTee(stream, name, self)
            setattr(sys, name, tee)
            self.installed[name] = (tee, stream)
            buffers[name] = _Buffer()
        self.buffers = buffers
        if len(self.source_keys) < MAX_SOURCE_KEYS:
            self.source_keys.update(source_keys(getattr(ctx, "source", "") or ""))

    def after_cell(self, ctx: CellContext) -> None:
        buffers = self.buffers
        self.buffers = {}
        self._restore()
        _LOCAL.muted = False
        outputs = ctx.record.outputs
        paths = None
        for name, buffer in buffers.items():
            if buffer.size:
                paths = paths or _known_paths(self.base_dir)  # now: the cell may have changed directory
                policy, salt = getattr(self.session, "policy", "values"), getattr(self.session, "salt", "")
                text = redact(without_source(buffer.text(), self.source_keys))
                if name == "stdout":
                    text = tool_text(text, getattr(ctx, "source", "") or "")
                hide = None if policy == "values" else (lambda t: privacy.redact_identifying(t, salt))
                summary = normalise.summarise_text(text, self.rules, paths=paths, truncated=buffer.truncated,
                                                   protect=hide)
                if summary is not None:
                    outputs[name] = privacy.protect_text_summary(summary, policy, salt)
        value = getattr(ctx.result, "result", None)
        if value is not None:
            outputs["result"] = summarise_result(value)

    def _restore(self) -> None:
        installed, self.installed = self.installed, {}
        for name, (tee, original) in installed.items():
            current = getattr(sys, name, None)
            if current is tee:
                setattr(sys, name, original)
            elif type(current) is StreamTee:  # the user put back a proxy they had kept: they meant the stream
                while type(current) is StreamTee:
                    current = current._tee_stream
                setattr(sys, name, current)


def tool_text(text: str, source: str) -> str:
    """The text the kernel's own tools print, without what depends on what an earlier run left behind:
    IPython's ``%%writefile f`` prints "Writing f", or "Overwriting f" when the file is there already (the
    second run of the cell, and every replay of a notebook whose research run wrote the file)."""
    if text.startswith("Overwriting ") and source.lstrip().startswith("%%writefile"):
        return "Writing " + text[len("Overwriting "):]
    return text


def source_keys(source: str) -> set[int]:
    return {hash(line.strip()) for line in source.splitlines() if len(line.strip()) >= MIN_SOURCE_LINE}


def without_source(text: str, keys: set[int]) -> str:
    """``text`` with every line that quotes a tracked cell's source (as tracebacks do, with or without
    their ``---->``/line-number gutter and colours) replaced by ``<cell source line>``."""
    if not keys:
        return text
    lines = text.split("\n")
    changed = False
    for i, line in enumerate(lines):
        plain = _ANSI.sub("", line).strip() if "\x1b" in line else line.strip()
        if len(plain) < MIN_SOURCE_LINE:
            continue
        if hash(plain) in keys or hash(_CODE_CONTEXT.sub("", plain, count=1).strip()) in keys:
            lines[i] = "<cell source line>"
            changed = True
    return "\n".join(lines) if changed else text


def summarise_result(value: Any) -> dict[str, Any]:
    """Fingerprint of the displayed value; numbers kept as values; whether nan/inf is in it."""
    summary: dict[str, Any] = {}
    try:
        from reprotrack.core.fingerprint import fingerprint  # on first use: it loads pandas

        shown, durations = without_durations(value)  # cross_validate's fit_time/score_time are not results
        summary["fingerprint"] = fingerprint(shown)
        if durations:
            summary["run"] = {"durations_left_out": durations}
    except ImportError:  # fingerprinting not available: the type (and numbers below) still say something
        summary["fingerprint"] = {"type": _type_name(value)}
    except Exception as exc:  # noqa: BLE001 - an object we cannot fingerprint is described by its type
        summary["fingerprint"] = {"type": _type_name(value)}
        summary["note"] = f"not fingerprinted ({exception_text(exc)})"
    try:  # a hostile result (``len``, ``float`` or ``isinstance`` raising) has no numbers to keep
        scalar = _real(value)
        if scalar is not None:
            summary["value"] = normalise.json_number(scalar)
            flags = _flags([scalar])
        else:
            values = _short_numbers(value)
            if values is not None:
                summary["values"] = [normalise.json_number(v) for v in values]
                flags = _flags(values)
            else:
                flags = _array_flags(value)
    except Exception:  # noqa: BLE001
        summary.pop("value", None)
        summary.pop("values", None)
        flags = []
    if flags:
        summary["nan_or_inf"] = flags
    return summary


def _real(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, _numbers.Real):
        return None
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        return None


def _short_numbers(value: Any) -> list[float] | None:
    """A tuple/list of numbers or a short 1-D numeric numpy array (``cross_val_score``'s scores)."""
    if isinstance(value, (list, tuple)):
        if not 0 < len(value) <= MAX_RESULT_VALUES:
            return None
        out = [_real(v) for v in value]
        return None if any(v is None for v in out) else out  # type: ignore[misc]
    np = sys.modules.get("numpy")
    if np is not None and isinstance(value, np.ndarray):
        if value.ndim == 1 and 0 < value.size <= MAX_RESULT_VALUES and value.dtype.kind in "iuf":
            return [float(v) for v in value.tolist()]
    return None


def _flags(values: list[float]) -> list[str]:
    flags = []
    if any(math.isnan(v) for v in values):
        flags.append("nan")
    if any(math.isinf(v) for v in values):
        flags.append("inf")
    return flags


def _array_flags(value: Any) -> list[str]:
    """nan/inf in a float numpy array or in the float columns of a pandas object (computed, not guessed)."""
    np = sys.modules.get("numpy")
    if np is None:
        return []
    arrays: list[Any] = []
    if isinstance(value, np.ndarray):
        arrays = [value]
    else:
        pd = sys.modules.get("pandas")
        if pd is not None and isinstance(value, pd.DataFrame):
            arrays = [value.iloc[:, i].to_numpy() for i, kind in enumerate(value.dtypes) if getattr(kind, "kind", "") in "fc"]
        elif pd is not None and isinstance(value, pd.Series) and value.dtype.kind in "fc":
            arrays = [value.to_numpy()]
    nan = inf = False
    for array in arrays:
        if getattr(array, "dtype", None) is None or array.dtype.kind not in "fc" or array.size == 0:
            continue
        with np.errstate(all="ignore"):
            # A sum is finite exactly when no value is nan/inf (barring overflow): one pass, no temporary
            # array of the value's size. Only a non-finite sum pays for the precise look.
            if np.isfinite(np.sum(array)):
                continue
            nan = nan or bool(np.isnan(array).any())
            inf = inf or bool(np.isinf(array).any())
    return (["nan"] if nan else []) + (["inf"] if inf else [])


def _type_name(value: Any) -> str:
    cls = type(value)
    return f"{cls.__module__}.{cls.__qualname__}"


def _known_paths(base_dir: Any) -> tuple[tuple[str, str], ...]:
    """Folders that differ between the research machine and staging, as placeholders."""
    try:
        cwd: str | None = os.getcwd()
    except OSError:  # the working directory was deleted
        cwd = None
    try:
        home: str | None = str(Path.home())
    except (OSError, RuntimeError):
        home = None
    candidates = [(base_dir, "<notebook-dir>"), (cwd, "<cwd>"), (sys.prefix, "<prefix>"), (home, "~")]
    seen: set[str] = set()
    paths = []
    for folder, placeholder in candidates:
        if not folder:
            continue
        folder = str(folder).rstrip("/\\")
        # "/usr" or "/tmp" alone would rewrite unrelated text: only folders two levels deep or more.
        if len(Path(folder).parts) >= 3 and folder not in seen:
            seen.add(folder)
            paths.append((folder, placeholder))
    return tuple(paths)
