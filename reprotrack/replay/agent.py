"""The kernel side of ``reprotrack record`` / ``verify``: what the replay injects into the fresh kernel.

``reprotrack.replay.driver`` drives a kernel from outside (nbclient); it calls into this module with silent
executes (silent runs fire no ``pre_run_cell``, so they are never recorded as cells):

- ``setup(mode=..., lock_out=..., notebook=..., partial=..., pins=...)`` starts a ``Session`` before the first
  cell, so tracking is on even in a notebook without the magics, and registers ``%reprotrack`` without
  marking the extension loaded (the notebook's own ``%load_ext reprotrack`` then stays silent);
- ``pause(True|False)`` brackets cells the research run did not track (the preamble before its
  ``%reprotrack start``);
- ``finish()`` writes the lock to ``lock_out``; in replay mode the session's lock path *is* the replay path,
  so the notebook's own ``%reprotrack save`` can never overwrite the research lock.

Each finished cell record is also appended to a JSON-lines side file (``partial``) as it is made: a kernel
that dies mid-run (``os._exit``, a segfault, the OOM killer) takes its memory with it, and the side file is
what the partial report is built from. It must never raise into a user's cell: the session guards listeners.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from reprotrack.core.lockfile import cell_view
from reprotrack.kernel.capture import randomness
from reprotrack.kernel.capture.environment import (
    environment_facts,
    imported_distributions,
)
from reprotrack.kernel.magics import ReprotrackMagics
from reprotrack.kernel.session import Session, active

_STATE: dict[str, Any] = {"partial": None, "modules": -1, "packages": None, "session": None, "lock_out": None,
                          "unwritten": []}


def setup(
    *,
    mode: str,
    lock_out: str,
    notebook: str | None = None,
    partial: str | None = None,
    pins: list[dict[str, Any]] | None = None,
    policy: str | None = None,
    salt: str | None = None,
) -> None:
    """Start tracking in this kernel for a headless record (``mode="record"``) or a replay. ``policy`` and
    ``salt``: the privacy a replay records under (the research lock's), or a record's ``--privacy``."""
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None:
        raise RuntimeError("reprotrack.replay.agent.setup must run inside an IPython kernel")

    shell.register_magics(ReprotrackMagics)
    current = active()
    if current is not None:
        current.stop()
    session = Session(shell, mode=mode, lock_path=lock_out, notebook=notebook, privacy=policy, salt=salt)
    session.driven = True
    session.start()
    _STATE.update(partial=Path(partial) if partial else None, modules=-1, packages=None, session=session,
                  lock_out=Path(lock_out), unwritten=[])
    if partial:
        Path(partial).write_text("", encoding="utf-8")
        session.listeners.append(_append_partial)
        # registered after the session's captures: the data capture has put its background fingerprints into
        # the records by the time a record is written (it settles on pre_execute too)
        shell.events.register("pre_execute", _write_partial)
    if pins and mode == "replay":
        _install_pins(session, pins)


def _install_pins(session: Session, pins: list[dict[str, Any]]) -> None:
    session.guard(randomness.install_pins, pins, what="pin seeds")


def pause(paused: bool) -> None:
    """Untracked stretches of the replay (cells the research run ran before its ``%reprotrack start``)."""
    current = _STATE["session"]
    if current is not None:
        current.paused = bool(paused)


def finish() -> str:
    """Write the lock; returns its path. Raises if it could not be written (the driver reports it)."""
    current: Session | None = _STATE["session"]
    if current is None:
        raise RuntimeError("reprotrack.replay.agent.setup was not called in this kernel")
    current.paused = False
    _write_partial()
    target = _STATE["lock_out"]
    written = current.save(target)
    if written is None:
        raise RuntimeError(f"could not write the lock to {target}: {'; '.join(current.notes[-1:])}")
    return str(written)


def _append_partial(session: Session, record: Any) -> None:
    """Session listener: a finished cell record, written to the side file before the next execution."""
    if _STATE["partial"] is not None and record is not None:
        _STATE["unwritten"].append(record)


def _write_partial(*_: Any) -> None:
    """One JSON line per finished cell, plus the environment whenever imports changed. Run before every
    execution (IPython's ``pre_execute``) and at ``finish``: a record is complete by then (its large values'
    fingerprints are made after the cell, see ``capture.deferred``), and the kernel has not yet run the code
    that may kill it. Never raises: an event handler's exception would be printed into the user's cell."""
    path, records = _STATE["partial"], _STATE["unwritten"]
    if path is None or not records:
        return
    _STATE["unwritten"] = []
    try:
        lines = []
        if len(sys.modules) != _STATE["modules"]:  # new modules: the environment again, if they brought packages
            _STATE["modules"] = len(sys.modules)
            packages = imported_distributions()
            if packages != _STATE["packages"]:
                _STATE["packages"] = packages
                lines.append(json.dumps({"environment": environment_facts(packages)}, default=str))
        lines.extend(json.dumps({"cell": cell_view(record)}, default=str) for record in records)
        with open(path, "a", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")
            fh.flush()
    except Exception as exc:  # noqa: BLE001 - a full disk must not break the replay's cells
        session = _STATE["session"]
        if session is not None:
            session.warn(f"could not write the partial record ({type(exc).__name__}: {exc})")


def read_partial(path: str | Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The environment and cell records a (dead) kernel got to append; torn last lines are ignored."""
    environment: dict[str, Any] = {}
    cells: list[dict[str, Any]] = []
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError:
        return environment, cells
    for line in text.splitlines():
        try:
            item = json.loads(line)
        except ValueError:
            continue
        if isinstance(item, dict) and isinstance(item.get("environment"), dict):
            environment = item["environment"]
        elif isinstance(item, dict) and isinstance(item.get("cell"), dict):
            cells.append(item["cell"])
    return environment, cells
