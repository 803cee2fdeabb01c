"""The live panel ``%reprotrack start`` shows: one compact line that updates after each cell.

Built the way tqdm's notebook bar is: display one ipywidgets ``HBox`` of ``HTML`` labels once, then only
assign the label values that changed (each assignment is one comm message). Where widgets cannot render
— a kernel without ``ipywidgets`` — a text line is displayed with ``display_id`` and updated in place;
in a terminal IPython (no kernel, nothing could be updated in place) nothing is shown at all.

Every output carries ``metadata={"reprotrack": {"panel": True}}`` so that verify and output diffs can drop
it (``is_panel_output``). The panel is secret-safe: counts, names of randomness APIs and cell numbers
only, never values or paths. It must never raise into a cell: the session guards listeners, and the
panel guards itself once more and goes quiet after an error.
"""

from __future__ import annotations

import html
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from reprotrack.core.text import cell_name
from reprotrack.kernel.capture.datakinds import distributed_text
from reprotrack.kernel.context import active

if TYPE_CHECKING:  # pragma: no cover
    from reprotrack.core.lockfile import CellRecord
    from reprotrack.kernel.session import Session

#: Metadata on every panel output: what verify/diff use to ignore the panel.
PANEL_METADATA = {"reprotrack": {"panel": True}}
#: ``REPROTRACK_PANEL=0`` keeps ``%reprotrack start`` quiet (tracking is unchanged).
OPT_OUT_VARIABLE = "REPROTRACK_PANEL"
#: Unseeded sources named in the panel at most (later ones are counted).
MAX_NAMED_WARNINGS = 3

_LABELS = ("title", "cells", "seeds", "unseeded", "data", "splits", "lock")


def is_panel_output(output: dict[str, Any]) -> bool:
    """True for a notebook output (nbformat dict) that is this panel: verify and output diffs skip it."""
    meta = output.get("metadata") if isinstance(output, dict) else None
    mark = meta.get("reprotrack") if isinstance(meta, dict) else None
    return isinstance(mark, dict) and mark.get("panel") is True


@dataclass
class PanelState:
    """Running totals, updated from each new record only (never a recount of all cells)."""

    cells: int = 0
    errors: int = 0
    seeds: int = 0
    unseeded: int = 0
    unseeded_named: list[str] = field(default_factory=list)
    data: int = 0
    splits: int = 0
    lock: str = "not saved"
    distributed: list[Any] = field(default_factory=list)  # run.distributed of the records that have one
    runs: dict[str, int] = field(default_factory=dict)  # cell id → runs so far
    reran: dict[str, str] = field(default_factory=dict)  # cell id → its label, for cells run more than once
    late: list[str] = field(default_factory=list)  # "cell 3 ran after cell 5", bounded
    latest: tuple[int, str] | None = None  # the furthest notebook position run so far, and its label

    def add(self, record: Any) -> None:
        self.cells += 1
        self._order(record)
        lazy = (getattr(record, "run", None) or {}).get("distributed")
        if lazy:
            self.distributed.append(lazy)
        self.errors += getattr(record, "status", "ok") != "ok"
        self.seeds += len(getattr(record, "seeds", None) or ())
        self.data += len(getattr(record, "data", None) or ())
        self.splits += len(getattr(record, "splits", None) or ())
        for draw in getattr(record, "randomness", None) or ():
            if isinstance(draw, dict) and draw.get("seeded") is False:
                self.unseeded += 1
                if len(self.unseeded_named) < MAX_NAMED_WARNINGS:
                    self.unseeded_named.append(f"{_api_name(draw.get('source'))} in {_cell_label(record)}")

    def _order(self, record: Any) -> None:
        """Re-runs and runs above a cell already run: the hidden state a top-down replay does not recreate."""
        cell_id = str(getattr(record, "id", ""))
        self.runs[cell_id] = self.runs.get(cell_id, 0) + 1
        index = getattr(record, "index", None)
        if self.runs[cell_id] > 1 and (cell_id in self.reran or len(self.reran) < MAX_NAMED_WARNINGS):
            self.reran.setdefault(cell_id, cell_name(index) if isinstance(index, int) else _cell_label(record))
        if not isinstance(index, int):
            return
        if self.latest is not None and index < self.latest[0] and len(self.late) < MAX_NAMED_WARNINGS:
            note = f"{cell_name(index)} ran after {self.latest[1]}"
            if note not in self.late:
                self.late.append(note)
        if self.latest is None or index > self.latest[0]:
            self.latest = (index, cell_name(index))

    def order_text(self) -> str:
        """``cell 5 ran twice; cell 3 ran after cell 5`` (bounded), or '' for a clean top-down run."""
        told = []
        for cell_id, label in self.reran.items():
            times = self.runs.get(cell_id, 0)
            told.append(f"{label} ran {'twice' if times == 2 else f'{times} times'}")
        return "; ".join(told + self.late)

    def texts(self) -> dict[str, str]:
        """Plain text per label (the HTML labels escape it; the text fallback joins it)."""
        unseeded = "no unseeded randomness"
        if self.unseeded:
            more = self.unseeded - len(self.unseeded_named)
            unseeded = "⚠ unseeded: " + ", ".join(self.unseeded_named) + (f" +{more} more" if more > 0 else "")
        errors = f" ({self.errors} with errors)" if self.errors else ""

        lazy = distributed_text(self.distributed)
        return {
            "title": "reprotrack",
            "cells": f"{self.cells} cell{'s' * (self.cells != 1)} tracked{errors}"
                     + (f" ({order})" if (order := self.order_text()) else ""),
            "seeds": f"{self.seeds} seed{'s' * (self.seeds != 1)} set",
            "unseeded": unseeded,
            "data": f"{self.data} data change{'s' * (self.data != 1)}" + (f" ({lazy})" if lazy else ""),
            "splits": f"{self.splits} split{'s' * (self.splits != 1)}",
            "lock": f"lock {self.lock}",
        }


class Panel:
    """One panel per session, registered as a session listener (``callback(session, record_or_None)``)."""

    def __init__(self, session: Session, mode: str) -> None:
        if mode not in ("widget", "text"):
            raise ValueError(f"unknown panel mode {mode!r}")
        self.session = session
        self.mode = mode
        self.state = PanelState()
        self.shown: dict[str, str] = {}
        self.updates = 0  # label values actually sent: the per-cell cost, measured by the tests
        self.failed = False
        self.widget: Any = None
        self.labels: dict[str, Any] = {}
        self.handle: Any = None
        for record in list(getattr(session, "cells", ())):  # a panel attached late starts from the totals
            self.state.add(record)
        self.state.lock = _lock_state(session)

    # -- showing ---------------------------------------------------------------------------------------
    def show(self) -> Panel:
        from IPython.display import display

        texts = self.state.texts()
        if self.mode == "widget" and self.widget is not None:  # shown again (the start cell re-run): same model
            bundle = dict(self.widget._repr_mimebundle_() or {})
            bundle["text/plain"] = _TextLine(texts).line
            display(bundle, raw=True, metadata=PANEL_METADATA)
        elif self.mode == "widget":
            import ipywidgets as widgets

            self.labels = {
                key: widgets.HTML(value=_html(key, text), layout=widgets.Layout(margin="0 1.2em 0 0"))
                for key, text in texts.items()
            }
            self.widget = widgets.HBox(
                [self.labels[key] for key in _LABELS],
                layout=widgets.Layout(flex_flow="row wrap", align_items="center"),
            )
            self.widget.add_class("reprotrack-panel")
            bundle = dict(self.widget._repr_mimebundle_() or {})
            bundle["text/plain"] = _TextLine(texts).line  # what a viewer without widgets shows, not HBox(…)
            display(bundle, raw=True, metadata=PANEL_METADATA)
        else:
            self.handle = display(_TextLine(texts).bundle(), raw=True, display_id=True, metadata=PANEL_METADATA)
        self.shown = texts
        return self

    # -- updating ----------------------------------------------------------------------------------------
    def __call__(self, session: Session, record: CellRecord | None) -> None:
        """After each tracked cell (``record``) and after a save (``None``): send only what changed."""
        if self.failed:
            return
        try:
            if record is not None:
                self.state.add(record)
            self.state.lock = _lock_state(session)
            self.refresh()
        except Exception as exc:  # noqa: BLE001 - a broken frontend must not cost the user their cell
            self.failed = True
            try:
                session.warn(f"the live panel stopped updating ({type(exc).__name__}); tracking continues")
            except Exception:  # noqa: BLE001
                pass

    def refresh(self) -> None:
        texts = self.state.texts()
        changed = [key for key, text in texts.items() if self.shown.get(key) != text]
        if not changed:
            return
        if self.mode == "widget":
            for key in changed:
                self.labels[key].value = _html(key, texts[key])
                self.updates += 1
        elif self.handle is not None:
            self.handle.update(_TextLine(texts).bundle(), raw=True, metadata=PANEL_METADATA)  # raw: no formatter pass
            self.updates += 1
        self.shown = texts

    def text(self) -> str:
        return _TextLine(self.shown or self.state.texts()).line


class _TextLine:
    """The text fallback: one line, as text/plain (and a small HTML span for frontends that prefer it)."""

    def __init__(self, texts: dict[str, str]) -> None:
        self.line = " · ".join(texts[key] for key in _LABELS)

    def bundle(self) -> dict[str, str]:
        span = f'<span class="reprotrack-panel" style="font-family:monospace">{html.escape(self.line)}</span>'
        return {"text/plain": self.line, "text/html": span}


def attach_panel(session: Session, mode: str | None = None) -> Panel | None:
    """Show the live panel for ``session`` and keep it updated. Called by ``%reprotrack start``.

    ``mode`` is ``"widget"``, ``"text"`` or None to choose: widgets in a kernel that has ipywidgets, the
    text line in a kernel without it, nothing outside a kernel (terminal IPython), in a replay, when
    ``REPROTRACK_PANEL=0``. A session that has a panel already shows that one again (``%reprotrack start``
    re-run while tracking: the cell's old output, the panel, was cleared). Never raises.
    """
    try:
        existing = current_panel(session)
        if existing is not None:
            if choose_mode(session) is not None and not existing.failed:
                existing.show()
            return existing
        if mode is None:
            mode = choose_mode(session)
        if mode is None:
            return None
        panel = Panel(session, mode)
        try:
            panel.show()
        except ImportError:
            if mode != "widget":
                raise
            panel = Panel(session, "text").show()
        session.listeners.append(panel)
        return panel
    except Exception:  # noqa: BLE001 - the panel is a nicety; tracking goes on without it
        return None


def choose_mode(session: Session, environ: dict[str, str] | None = None) -> str | None:
    environ = os.environ if environ is None else environ
    if environ.get(OPT_OUT_VARIABLE, "1").strip().lower() in {"0", "false", "no", "off"}:
        return None
    if getattr(session, "mode", "record") != "record":
        return None
    shell = getattr(session, "shell", None)
    if shell is None or getattr(shell, "kernel", None) is None:
        return None  # terminal IPython or a bare shell: no in-place display to update
    try:
        import ipywidgets  # noqa: F401
    except Exception:  # noqa: BLE001 - missing or broken: fall back to text
        return "text"
    return "widget"


def current_panel(session: Session | None = None) -> Panel | None:
    """The panel attached to ``session`` (default: the active session), for tests and notebooks."""
    if session is None:
        session = active()
    for listener in getattr(session, "listeners", ()):
        if isinstance(listener, Panel):
            return listener
    return None


def _lock_state(session: Session) -> str:
    if getattr(session, "saved_path", None) is None:
        return "not saved"
    return "has unsaved cells" if getattr(session, "unsaved_cells", 0) else "saved"


def _api_name(source: Any) -> str:
    """An API name as recorded (``numpy.random.rand()``), cut to something that fits a label."""
    text = "".join(ch for ch in str(source) if ch.isprintable())
    return text if len(text) <= 40 else text[:39] + "…"


def _cell_label(record: Any) -> str:
    """``cell 6 [12]``: the notebook's numbering, with the execution count the notebook shows beside it."""
    index = getattr(record, "index", None)
    count = getattr(record, "execution_count", None)
    if not isinstance(index, int):
        return f"In [{count}]" if isinstance(count, int) else f"run {getattr(record, 'order', '?')}"
    return cell_name(index, count)


def _html(key: str, text: str) -> str:
    escaped = html.escape(text)
    if key == "title":
        return f"<b>{escaped}</b>"
    if key == "unseeded" and text.startswith("⚠"):
        return f'<span style="color:#b45309">{escaped}</span>'
    if key == "lock" and text != "lock saved":
        return f'<span style="color:#6b7280">{escaped}</span>'
    return escaped
