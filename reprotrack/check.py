"""``reprotrack check PROD.lock --against RESEARCH.lock``: a production run checked against the research run
by named checkpoints (``reprotrack.core.diff.checkpoints``), never by cells.

This module reads the two locks, refuses what is no contract (a replay's lock, a partial run, a lock without
checkpoints), resolves names (``--map`` over ``[tool.reprotrack] checkpoints``) and tolerances, and returns the
``Report``. A production lock that did not finish gives a ``failed`` report (exit 3), never a comparison of
half a run. Bad input is a ``ReprotrackError`` (exit 2).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from reprotrack import store
from reprotrack.config import load_checkpoint_options
from reprotrack.core.diff.checkpoints import CheckOptions, check
from reprotrack.core.diff.model import Report
from reprotrack.core.lockfile import Lock
from reprotrack.errors import LockfileError, UsageError


def load_research(path: str | os.PathLike[str]) -> Lock:
    """The research lock, or one clear error saying why this lock is no contract."""
    lock = store.read_lock(path)
    name = Path(path).name
    if lock.mode == "replay":
        raise LockfileError(f"{name} is a replay's lock (written by verify --save-replay), not a research lock; "
                            "pass the lock research recorded.")
    if not lock.complete:
        raise LockfileError(f"{name} is a partial lock: the run that wrote it did not finish, so it is no contract; "
                            "record it again.")
    if not lock.checkpoints:
        raise LockfileError(f"{name} has no checkpoints to check against; mark the stages in the notebook with "
                            "%reprotrack checkpoint NAME VAR (or reprotrack.checkpoint) and record it again.")
    return lock


def by_checkpoints(research: Lock, other: Lock) -> bool:
    """Whether two locks can only be compared by checkpoints: one side is a script's run (``reprotrack run``,
    ``reprotrack.start()`` outside IPython) or has checkpoints and no cells. ``diff`` then checks instead."""
    return other.mode == "script" or (not other.cells and bool(other.checkpoints)) or \
        (research.mode != "replay" and not research.cells and bool(research.checkpoints))


def parse_maps(pairs: Iterable[str]) -> dict[str, str]:
    """``--map PROD=RESEARCH`` values as a dict."""
    out: dict[str, str] = {}
    for pair in pairs or ():
        prod, sep, research = str(pair).partition("=")
        if not sep or not prod.strip() or not research.strip():
            raise UsageError(f"--map takes PRODUCTION_NAME=RESEARCH_NAME, not {pair!r}")
        out[prod.strip()] = research.strip()
    return out


def checkpoint_options(start: Path | None, *, maps: Iterable[str] = (), rtol: float | None = None,
                       atol: float | None = None, env_policy: str | None = None) -> CheckOptions:
    return load_checkpoint_options(start, names=parse_maps(maps), rtol=rtol, atol=atol, env_policy=env_policy)


def check_names(research: Lock, options: CheckOptions) -> None:
    """A mapping to a research checkpoint that does not exist is a typo, not a finding."""
    for prod, name in options.names.items():
        if name not in research.checkpoints:
            raise UsageError(f"--map/checkpoints maps {prod!r} to {name!r}, which the research lock has no checkpoint "
                             f"of; it has: {', '.join(sorted(research.checkpoints))}")


def check_lock(production: Lock, research: Lock, options: CheckOptions) -> Report:
    """The report of ``production`` against ``research`` (both already loaded)."""
    check_names(research, options)
    error = None
    if not production.complete:
        notes = [n for n in production.notes if n.startswith("the script did not finish")]
        error = notes[-1] if notes else "the production run did not finish (its lock is partial)"
    return check(research, production, options, execution_error=error)


def check_locks(production: str | os.PathLike[str], research: str | os.PathLike[str], *,
                options: CheckOptions | None = None, maps: Iterable[str] = (), rtol: float | None = None,
                atol: float | None = None, env_policy: str | None = None) -> Report:
    """``reprotrack check``: options default to ``[tool.reprotrack]`` of the production lock's nearest
    pyproject.toml, with ``maps``/``rtol``/``atol``/``env_policy`` on top."""
    if Path(production).resolve() == Path(research).resolve():
        raise UsageError("the production lock and the research lock are the same file")
    research_lock = load_research(research)
    production_lock = store.read_lock(production)
    if production_lock.mode == "replay":
        raise LockfileError(f"{Path(production).name} is a replay's lock; check a production run's lock "
                            "(reprotrack run, or reprotrack.save in the production code), or use verify.")
    if not production_lock.checkpoints and not production_lock.requirements and production_lock.complete:
        raise LockfileError(f"{Path(production).name} has no checkpoints and no requirement values; call "
                            "reprotrack.checkpoint(NAME, obj) where the production stages meet (and "
                            "reprotrack.expect(NAME, value) for its metrics), then run it again.")
    if options is None:
        options = checkpoint_options(Path(production).resolve().parent, maps=maps, rtol=rtol, atol=atol,
                                     env_policy=env_policy)
    return check_lock(production_lock, research_lock, options)
