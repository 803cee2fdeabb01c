"""Which cell run of the replay corresponds to which cell run of the research lock, and in what order.

``cells[]`` is an execution log: a cell run twice has two records. Runs pair up by cell ``id`` (the k-th run of
a cell with its k-th run); what is left pairs by position and source hash; what is still left pairs by
position alone when neither run's id is known to the other lock (ids regenerated, e.g. a script), which then
shows up as ``source-changed``. Unpaired research runs are missing from the replay, unpaired replay runs were
added. ``timeline`` orders the pairs as the replay ran them, missing cells slotted in after the research run
that preceded them. Pure.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from reprotrack.core.lockfile import CellRecord
from reprotrack.core.text import cell_name


@dataclass
class Pair:
    research: CellRecord | None
    replay: CellRecord | None
    position: float = 0.0  # place in the timeline
    run: int = 0  # k: this is the k-th run of the cell (0-based)

    @property
    def index(self) -> int | None:
        rec = self.replay if self.replay is not None and self.replay.index is not None else self.research
        return rec.index if rec is not None else None

    @property
    def cell_id(self) -> str | None:
        rec = self.replay if self.replay is not None else self.research
        return rec.id if rec is not None else None

    @property
    def order(self) -> int | None:
        rec = self.replay if self.replay is not None else self.research
        return rec.order if rec is not None else None


def _by_order(cells: list[CellRecord]) -> list[CellRecord]:
    return sorted(cells, key=lambda c: c.order)


def pair_cells(research: list[CellRecord], replay: list[CellRecord]) -> list[Pair]:
    """All runs of both locks, paired, in timeline order."""
    left, right = _by_order(research), _by_order(replay)
    matched: dict[int, int] = {}  # position in left → position in right
    ids_left, ids_right = {c.id for c in left}, {c.id for c in right}

    def match(key, eligible) -> None:
        queues: dict[object, list[int]] = defaultdict(list)
        taken = set(matched.values())
        for j, cell in enumerate(right):
            if j not in taken and eligible(cell, ids_left):
                queues[key(cell)].append(j)
        for i, cell in enumerate(left):
            if i in matched or not eligible(cell, ids_right):
                continue
            queue = queues.get(key(cell))
            if queue:
                matched[i] = queue.pop(0)

    match(lambda c: c.id, lambda c, other: c.id in other)
    match(lambda c: (c.index, c.source_sha256), lambda c, other: True)
    match(lambda c: c.index, lambda c, other: c.index is not None and c.id not in other)

    pairs: list[Pair] = []
    for i, j in matched.items():
        pairs.append(Pair(left[i], right[j], float(j)))
    seen_replay = set(matched.values())
    for j, cell in enumerate(right):
        if j not in seen_replay:
            pairs.append(Pair(None, cell, float(j)))
    # missing research runs go right after the replay position of the research run before them
    last = -1.0
    for i, cell in enumerate(left):
        if i in matched:
            last = float(matched[i])
        else:
            pairs.append(Pair(cell, None, last + 0.5))
    pairs.sort(key=lambda p: (p.position, p.research.order if p.research else -1))
    runs: dict[str | None, int] = defaultdict(int)
    for pair in pairs:
        pair.run = runs[pair.cell_id]
        runs[pair.cell_id] += 1
    return pairs


def out_of_order(cells: list[CellRecord]) -> tuple[CellRecord, CellRecord] | None:
    """The first run that came after a run of a later cell in the notebook (hidden state), with that run."""
    latest: CellRecord | None = None
    for cell in _by_order(cells):
        if cell.index is None:
            continue
        if latest is not None and cell.index <= latest.index:
            return cell, latest
        if latest is None or cell.index > latest.index:
            latest = cell
    return None


#: Sentences ``order_notes`` gives at most (the rest are counted).
MAX_ORDER_NOTES = 4


def order_notes(cells: list[CellRecord], limit: int = MAX_ORDER_NOTES) -> list[str]:
    """How a run departed from running the notebook once top-down, in plain words: ``cell 5 ran twice``,
    ``cell 3 ran after cell 5``. Runs without a notebook position are told by their id."""
    runs: dict[str, list[CellRecord]] = defaultdict(list)
    for cell in _by_order(cells):
        runs[cell.id].append(cell)
    notes = []
    for records in sorted(runs.values(), key=lambda rs: rs[0].order):
        if len(records) > 1:
            times = "twice" if len(records) == 2 else f"{len(records)} times"
            notes.append(f"{_name(records[0])} ran {times}")
    latest: CellRecord | None = None
    told: set[tuple[int, int]] = set()
    for cell in _by_order(cells):
        if cell.index is None:
            continue
        if latest is not None and cell.index < latest.index and (cell.index, latest.index) not in told:
            told.add((cell.index, latest.index))
            notes.append(f"{_name(cell)} ran after {_name(latest)}")
        if latest is None or cell.index > latest.index:
            latest = cell
    if len(notes) > limit:
        notes = notes[:limit] + [f"{len(notes) - limit} more"]
    return notes


def _name(cell: CellRecord) -> str:
    return cell_name(cell.index, fallback=cell.id)
