"""Whether a lock was recorded from a notebook: the lock belongs to the notebook whose cells it records.

A lock names the notebook it was saved from (``notebook``), but names change (a rename in JupyterLab, a
copy for a colleague) and one folder can hold several notebooks beside one ``reprotrack.lock``. What does
not change with a name are the cells: their front-end ids (kept by a rename) and their source hashes. A
lock *matches* a notebook when at least half of the distinct cells it recorded are found in the notebook by
id or by source, so a notebook edited since the research run (the reason to verify) still matches.
Pure: cell identities in, a share out.
"""

from __future__ import annotations

from typing import Iterable

from reprotrack.core.lockfile import Lock

#: The share of a lock's recorded cells a notebook must hold for the lock to be its.
MATCH_SHARE = 0.5


def shared_cells(lock: Lock, notebook_cells: Iterable[tuple[str | None, str]]) -> float:
    """The share (0…1) of the lock's distinct recorded cells found in the notebook, whose code cells are
    given as ``(id, source sha256)`` pairs. A lock with no cells shares nothing."""
    ids, hashes = set(), set()
    for cell_id, sha in notebook_cells:
        if cell_id:
            ids.add(cell_id)
        hashes.add(sha)
    recorded = {(c.id, c.source_sha256) for c in lock.cells}
    if not recorded:
        return 0.0
    found = sum(1 for cell_id, sha in recorded if cell_id in ids or sha in hashes)
    return found / len(recorded)


def belongs_to(lock: Lock, notebook_name: str, notebook_cells: Iterable[tuple[str | None, str]]) -> bool:
    """Whether ``lock`` may be used for the notebook named ``notebook_name``: it was saved from a notebook
    of that name (or names none), or its recorded cells are the notebook's."""
    if not lock.notebook or lock.notebook == notebook_name:
        return True
    return shared_cells(lock, notebook_cells) >= MATCH_SHARE
