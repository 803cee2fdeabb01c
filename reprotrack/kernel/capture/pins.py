"""Pinning a replay's unseeded randomness to what the research run drew (``--pin-seeds``).

An unseeded run cannot be reproduced, only re-enacted: the research lock records, for each cell that drew
unseeded randomness, what a replay needs to draw the same numbers, and ``install_pins`` (called by the
replay engine in the replay kernel, with the research lock's cells as dicts) makes the replay use it:

* the entropy of every unseeded ``numpy.random.default_rng()`` (``randomness[].entropy``, a decimal
  string): the n-th unseeded ``default_rng()`` of the cell gets ``SeedSequence(entropy)``;
* the state of the Python and numpy global generators at the start of a cell that drew from them while
  unseeded (``randomness[].run.state``; under ``run`` because it differs on every honest run and is never
  a finding by itself): the replay sets that state before the cell runs (without counting it as a seed).

Cells are matched by id and source sha256, else by source sha256 alone; the k-th execution of a cell in the
replay uses the k-th research record of it (the last one once they run out).

What cannot be pinned: generators constructed without a seed (``RandomState()``, ``PCG64()``,
``SeedSequence()``, ``random.Random()``), numpy's cached second normal deviate (a pinned numpy state has
none), more than 100 unseeded sources in one cell (the record's bound), torch/tensorflow generators, and
anything drawn in worker processes. Pinned values are noted as ``run.pinned`` in the replay's records.
"""

from __future__ import annotations

import base64
import sys
from typing import Any

DEFAULT_RNG = "numpy.random.default_rng"
NUMPY_GLOBAL = "numpy.random (global generator)"
PYTHON_GLOBAL = "random (Python global generator)"

_PINS: dict[Any, list[dict[str, Any]]] = {}
_STATE: dict[str, Any] = {"record": None, "queue": [], "uses": {}}


def install_pins(cells: list[dict[str, Any]]) -> None:
    """Pin the replay's unseeded draws to the research run's (see the module docstring). Calling it again
    replaces earlier pins; ``install_pins([])`` removes them."""
    _PINS.clear()
    _STATE.update(record=None, queue=[], uses={})
    for cell in cells or []:
        if not isinstance(cell, dict):
            continue
        run: dict[str, Any] = {"entropies": [], "numpy": None, "random": None}
        for entry in cell.get("randomness") or []:
            if not isinstance(entry, dict) or entry.get("seeded"):
                continue
            source = entry.get("source")
            if source == DEFAULT_RNG and isinstance(entry.get("entropy"), str):
                run["entropies"].append(entry["entropy"])
            state = (entry.get("run") or {}).get("state") if isinstance(entry.get("run"), dict) else None
            if state is not None and source == NUMPY_GLOBAL:
                run["numpy"] = state
            elif state is not None and source == PYTHON_GLOBAL:
                run["random"] = state
        sha = cell.get("source_sha256")
        _PINS.setdefault((cell.get("id"), sha), []).append(run)
        _PINS.setdefault(sha, []).append(run)


def begin_cell(record: Any) -> set[str]:
    """At the start of a tracked cell: choose this execution's pins and set the pinned global states.
    Returns the global generators whose state was set."""
    if not _PINS:
        return set()
    runs = _PINS.get((record.id, record.source_sha256)) or _PINS.get(record.source_sha256) or []
    uses = _STATE["uses"]
    k = uses.get(record.source_sha256, 0)
    uses[record.source_sha256] = k + 1
    run = runs[min(k, len(runs) - 1)] if runs else {"entropies": []}
    _STATE.update(record=record, queue=list(run["entropies"]))
    pinned = set()
    if run.get("numpy") is not None and _set_numpy_state(run["numpy"]):
        pinned.add("numpy")
    if run.get("random") is not None and _set_python_state(run["random"]):
        pinned.add("random")
    return pinned


def next_entropy(record: Any) -> int | None:
    """The recorded entropy for the cell's next unseeded ``default_rng()``, or None."""
    if not _PINS or _STATE["record"] is not record or not _STATE["queue"]:
        return None
    return int(_STATE["queue"].pop(0))


# -- global generator states --------------------------------------------------------------------------
def numpy_state(raw: bytes) -> dict[str, Any]:
    """The JSON form of numpy's raw MT19937 state struct (624 native uint32 words and an int position)."""
    import numpy as np

    key = np.frombuffer(raw[: 624 * 4], dtype=np.uint32).astype("<u4")
    return {"kind": "MT19937", "key": base64.b64encode(key.tobytes()).decode("ascii"), "pos": int.from_bytes(raw[624 * 4 :], sys.byteorder, signed=True)}


def python_state(state: tuple[Any, ...]) -> dict[str, Any]:
    """The JSON form of ``random.getstate()``: version, the 625 words as little-endian uint32, gauss_next."""
    version, words, gauss = state
    data = b"".join(int(w).to_bytes(4, "little") for w in words)
    return {"kind": "random", "version": version, "words": base64.b64encode(data).decode("ascii"), "gauss": gauss}


def _set_numpy_state(state: dict[str, Any]) -> bool:
    try:
        import numpy as np

        key = np.frombuffer(base64.b64decode(state["key"]), dtype="<u4").astype(np.uint32)
        if key.size != 624:
            return False
        import numpy.random  # a replay pins the state a cell that imports numpy itself will draw from

        rs = sys.modules["numpy.random.mtrand"]._rand
        rs.set_state(("MT19937", key, int(state["pos"]), 0, 0.0))  # the method itself: not a user seed
        return True
    except Exception:  # noqa: BLE001 - a bad pin must not break the replay's cell
        return False


def _set_python_state(state: dict[str, Any]) -> bool:
    try:
        data = base64.b64decode(state["words"])
        words = tuple(int.from_bytes(data[i : i + 4], "little") for i in range(0, len(data), 4))
        gauss = state.get("gauss")
        sys.modules["random"]._inst.setstate((int(state["version"]), words, gauss if isinstance(gauss, float) else None))
        return True
    except Exception:  # noqa: BLE001
        return False
