"""Which research lock a verify of a notebook uses, and why not when there is none that is its own.

``<stem>.reprotrack.lock`` beside the notebook, else a shared ``reprotrack.lock`` in its folder, else the
lock given with ``--lock``. A lock saved from another notebook is refused (one line, exit 2, naming the
notebook it belongs to) unless its recorded cells are this notebook's (``reprotrack.core.ownership``): a
shared ``reprotrack.lock`` of ``b.ipynb`` silently diffed against ``a.ipynb`` gives a report of nonsense.
When there is no lock at all, the locks beside the notebook are read (bounded) for one recorded from the
same cells (a notebook renamed after the research run) and the error names it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

from reprotrack import store
from reprotrack.core.lockfile import Lock
from reprotrack.core.ownership import MATCH_SHARE, belongs_to, shared_cells
from reprotrack.errors import LockfileError

#: Lock files read beside a notebook when looking for the one recorded from its cells.
MAX_NEIGHBOURS = 50
#: Neighbour locks larger than this are not read for the hint (bytes).
MAX_NEIGHBOUR_BYTES = 32 * 1024 * 1024


def research_lock(notebook: Path, lock: str | os.PathLike[str] | None,
                  cells: Iterable[tuple[str | None, str]]) -> tuple[Lock, Path]:
    """The research lock for ``notebook`` (its code cells as ``(id, sha256)``) and where it was read."""
    cells = list(cells)
    path = Path(lock) if lock else store.find_lock_for(notebook)
    if not lock and not path.exists():
        raise LockfileError(_no_lock_message(notebook, path, cells))
    research = store.read_lock(path)
    if not belongs_to(research, notebook.name, cells):
        raise LockfileError(
            f"{path.name} was recorded from {research.notebook}, not {notebook.name}, and its cells are not this "
            f"notebook's; verify {research.notebook} with it, or record {notebook.name} "
            f"(`reprotrack record {notebook.name}`)."
        )
    return research, path


def _no_lock_message(notebook: Path, expected: Path, cells: list[tuple[str | None, str]]) -> str:
    message = f"no lock file for {notebook.name} (looked for {expected.name} beside it)"
    found = recorded_from_same_cells(notebook.parent, cells)
    if found is not None:
        path, lock = found
        origin = f" (saved from {lock.notebook})" if lock.notebook else ""
        return (f"{message}; {path.name}{origin} was recorded from the same cells: verify with --lock {path.name}, "
                f"or rename it to {expected.name}.")
    return message + "; record one with `reprotrack record NOTEBOOK` or %reprotrack save."


def recorded_from_same_cells(folder: Path, cells: list[tuple[str | None, str]]) -> tuple[Path, Lock] | None:
    """The lock in ``folder`` sharing the most of its recorded cells with ``cells`` (at least half)."""
    best: tuple[float, Path, Lock] | None = None
    for path in sorted(folder.glob("*.lock"))[:MAX_NEIGHBOURS]:
        try:
            if path.stat().st_size > MAX_NEIGHBOUR_BYTES:
                continue
            lock = store.read_lock(path)
        except (OSError, LockfileError):
            continue
        share = shared_cells(lock, cells)
        if share >= MATCH_SHARE and (best is None or share > best[0]):
            best = (share, path, lock)
    return (best[1], best[2]) if best else None
