"""What the session captures around each cell run, one module per kind of fact.

Each capture is a ``Capture``: ``install``/``uninstall`` put in and take out whatever instrumentation it
needs (reversibly: ``uninstall`` restores every original), ``before_cell``/``after_cell`` fill the running
cell's record, ``on_save`` adds to the lock. The session calls every hook inside a guard, so an exception
here becomes a warning and a note in the lock, never an error in the user's cell.

Captures must stay cheap per cell: a cell that touches no data costs well under a millisecond in total.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from reprotrack.core.lockfile import Lock
    from reprotrack.kernel.context import CellContext
    from reprotrack.kernel.session import Session


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
    "reprotrack.kernel.capture.environment:EnvironmentCapture",
    "reprotrack.kernel.capture.git:GitCapture",
    "reprotrack.kernel.capture.seeds:SeedCapture",
    "reprotrack.kernel.capture.randomness:RandomnessCapture",
    "reprotrack.kernel.capture.splits:SplitCapture",
    "reprotrack.kernel.capture.files:FileCapture",
    "reprotrack.kernel.capture.data:DataCapture",
    "reprotrack.kernel.capture.outputs:OutputCapture",
)


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
