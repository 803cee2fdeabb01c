"""What the session captures around each cell run, one module per kind of fact.

Each capture is a ``Capture``: ``install``/``uninstall`` put in and take out whatever instrumentation it
needs (reversibly: ``uninstall`` restores every original), ``before_cell``/``after_cell`` fill the running
cell's record, ``on_save`` adds to the lock. The session calls every hook inside a guard, so an exception
here becomes a warning and a note in the lock, never an error in the user's cell.

Captures must stay cheap per cell: a cell that touches no data costs well under a millisecond in total.
"""

from __future__ import annotations

import importlib
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from ..lockfile import Lock
    from ..session import CellContext, Session


class Capture:
    """Base class with no-op hooks; subclasses override what they need."""

    name = "capture"

    def install(self, session: Session) -> None:
        """Called by ``start``: patch libraries, remember originals."""

    def uninstall(self) -> None:
        """Called by ``stop``: restore every original patched in ``install``."""

    def before_cell(self, ctx: CellContext) -> None:
        """Called from ``pre_run_cell`` of a tracked cell."""

    def after_cell(self, ctx: CellContext) -> None:
        """Called from ``post_run_cell`` of a tracked cell; write into ``ctx.record``."""

    def on_save(self, lock: Lock) -> None:
        """Called when the lock is built; add top-level facts."""


#: ``module:Class`` of every capture the session runs, in this order. A module that is missing or
#: fails to import is reported once as a warning; the others still run.
REGISTRY: tuple[str, ...] = (
    "reprotrack.capture.environment:EnvironmentCapture",
    "reprotrack.capture.git:GitCapture",
    "reprotrack.capture.seeds:SeedCapture",
    "reprotrack.capture.randomness:RandomnessCapture",
    "reprotrack.capture.splits:SplitCapture",
    "reprotrack.capture.files:FileCapture",
    "reprotrack.capture.data:DataCapture",
    "reprotrack.capture.outputs:OutputCapture",
)


def exception_text(exc: BaseException, limit: int = 120) -> str:
    """``Type: message`` of an exception raised by a user's object, for a note: one line, bounded, and safe
    even when the exception's own ``__str__`` raises (hostile objects raise hostile exceptions)."""
    try:
        text = " ".join(str(exc).split())
    except Exception:  # noqa: BLE001
        text = "<unprintable>"
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f"{type(exc).__name__}: {text}"


_USERINFO = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.-]*://)[^/\s@'\"<>]*@")
_QUERY_VALUE = re.compile(r"([?&][A-Za-z0-9_.~%-]+=)[^&#\s'\"<>]+")


def redact(text: str) -> str:
    """``text`` (an exception message, printed output) without the credentials a URL may carry: the
    ``user:password@`` part and the values of query parameters (tokens, signatures) are removed. A reader
    that fails echoes its URL; the URL itself is recorded through ``files.clean_url``."""
    if "://" not in text and "=" not in text:
        return text
    return _QUERY_VALUE.sub(r"\1<redacted>", _USERINFO.sub(r"\1", text))


def load_captures(warn: Any) -> list[Capture]:
    captures: list[Capture] = []
    for spec in REGISTRY:
        module_name, _, cls_name = spec.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue  # not built (yet): nothing to capture of that kind
            warn(f"capture {module_name} could not be loaded: {exc}")
            continue
        except Exception as exc:  # noqa: BLE001 - a broken capture must not stop the others
            warn(f"capture {module_name} could not be loaded: {type(exc).__name__}: {exc}")
            continue
        try:
            captures.append(getattr(module, cls_name)())
        except Exception as exc:  # noqa: BLE001
            warn(f"capture {spec} could not be created: {type(exc).__name__}: {exc}")
    return captures
