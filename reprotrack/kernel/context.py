"""What every capture needs to know of the cell being run, and nothing else.

``current_cell()`` is the one question a patched library function asks ("is a tracked cell running, and
which?"); ``CellContext`` is what it gets. The session registers itself here (``set_active``), so the
captures depend on this module, never on the session: the session imports the captures, not the reverse.
"""

from __future__ import annotations

import ast
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from reprotrack.core.lockfile import CellRecord
from reprotrack.core.text import cell_name

if TYPE_CHECKING:  # pragma: no cover
    from reprotrack.kernel.session import Session


class Tracker(Protocol):
    """What this module needs of a session: whether it is paused, and the cell it is running."""

    paused: bool
    current: CellContext | None


_ACTIVE: list[Session | None] = [None]


def active() -> Session | None:
    """The session currently tracking this process, if any."""
    return _ACTIVE[0]


def set_active(session: Session | None) -> None:
    """Register ``session`` as the one tracking this process (None: no session)."""
    _ACTIVE[0] = session


def current_cell() -> CellContext | None:
    """The cell being run right now under tracking (what patched library calls attach their facts to)."""
    session: Tracker | None = _ACTIVE[0]
    if session is None or session.paused:
        return None
    return session.current


@dataclass
class CellContext:
    """What the captures see of the cell being run."""

    record: CellRecord
    source: str
    shell: Any
    started: float = field(default_factory=time.perf_counter)
    result: Any = None
    _tree: ast.Module | None = None
    _parsed: bool = False

    @property
    def user_ns(self) -> dict[str, Any]:
        return self.shell.user_ns if self.shell is not None else {}

    @property
    def tree(self) -> ast.Module | None:
        """The cell's Python AST after IPython's transformations (magics → calls), or None if unparsable."""
        if not self._parsed:
            self._parsed = True
            code = self.source
            if self.shell is not None:
                try:
                    code = self.shell.transform_cell(code)
                except Exception:  # noqa: BLE001 - transformation errors are the user's, not ours
                    code = self.source
            try:
                self._tree = ast.parse(code)
            except (SyntaxError, ValueError):
                self._tree = None
        return self._tree


def cell_label(record: CellRecord) -> str:
    """A running cell as a warning names it: ``cell 6 [12]`` where the notebook position is known, else the
    prompt the front end shows (``In [12]``, the run's order when there is no execution count)."""
    if record.index is not None:
        return cell_name(record.index, record.execution_count)
    return f"In [{record.execution_count if record.execution_count is not None else record.order}]"


def is_control_cell(source: str) -> bool:
    """A cell made only of reprotrack's own magics (start/save/stop…) and comments is not recorded."""
    meaningful = [line.strip() for line in source.splitlines() if line.strip() and not line.strip().startswith("#")]
    if not meaningful:
        return False
    return all(
        line.startswith(("%reprotrack", "%load_ext reprotrack", "%reload_ext reprotrack", "%%reprotrack"))
        for line in meaningful
    )
