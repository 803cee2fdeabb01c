"""The Python API behind ``reprotrack record / verify / diff / env check``: what the CLI, the pytest plugin and
the demo call.

``record_notebook`` runs a notebook headless with tracking on and writes its lock; ``verify_notebook`` replays
it in a fresh kernel (the staging environment is the kernelspec named) and diffs the replay's lock against
the research lock; ``diff_locks`` diffs two locks without running anything; ``check_environment`` compares
this interpreter's installed versions with a lock's. Results carry the exit code the CLI returns:
0 reproduced · 1 differences · 3 the notebook could not be executed. Bad input raises ``ReprotrackError``
(exit 2). Nothing here prints: progress goes through a callback, the report is the caller's to render.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reprotrack import store
from reprotrack.config import load_options as _load
from reprotrack.core import lockfile
from reprotrack.core.diff import (
    DiffOptions,
    Finding,
    Report,
    compare,
    environment_differences,
)
from reprotrack.core.lockfile import Lock
from reprotrack.core.privacy import check_policy
from reprotrack.errors import LockfileError, ReprotrackError, UsageError
from reprotrack.kernel.capture.environment import environment_facts
from reprotrack.notebook_lock import research_lock
from reprotrack.replay import driver as replay

EXIT_BY_STATUS = {"reproduced": 0, "differs": 1, "failed": 3}


@dataclass
class RecordResult:
    lock_path: Path
    lock: Lock | None
    replay: replay.ReplayResult
    #: the previous lock kept before it was replaced (``NAME.1``), None when there was none
    backup: Path | None = None
    #: cells raised and ``allow_errors`` was off: nothing was written
    refused: bool = False

    @property
    def exit_code(self) -> int:
        return 0 if self.replay.ok and not self.refused else 3

    @property
    def errors(self) -> list[replay.CellRun]:
        return [r for r in self.replay.runs if r.status != "ok"]


@dataclass
class VerifyResult:
    report: Report
    research: Lock
    replay: replay.ReplayResult
    replay_path: Path | None = None

    @property
    def exit_code(self) -> int:
        return EXIT_BY_STATUS.get(self.report.status, 1)


def record_notebook(
    notebook: str | os.PathLike[str],
    *,
    lock: str | os.PathLike[str] | None = None,
    kernel: str | None = None,
    timeout: float | None = None,
    progress: replay.Progress | None = None,
    allow_errors: bool = True,
    privacy: str | None = None,
) -> RecordResult:
    """Execute every code cell top-down in a fresh kernel, tracking on; write the lock only if the run
    completed (a kernel that died or timed out leaves an existing lock untouched) and, unless
    ``allow_errors``, only if no cell raised. A lock it replaces is kept as ``NAME.1`` (``store.back_up_lock``).
    ``privacy`` overrides ``[tool.reprotrack] privacy`` for this research run."""
    nb_path = _notebook(notebook)
    lock_path = Path(lock).expanduser().absolute() if lock else store.default_lock_path(nb_path)
    store.check_output(lock_path, inputs=(nb_path,), what="the lock")
    if privacy is not None:
        check_policy(privacy)
    nb, has_ids = replay.read_notebook(nb_path)
    steps = replay.plan(replay.code_cells(nb, with_ids=has_ids))
    with tempfile.TemporaryDirectory(prefix="reprotrack-record-") as tmp:
        job = replay.ReplayJob(
            nb_path, tuple(steps), mode="record", lock_out=Path(tmp) / "record.lock",
            partial=Path(tmp) / "partial.jsonl", kernel=kernel, timeout=timeout,
            privacy={"policy": privacy} if privacy else None, nb=nb, has_ids=has_ids,
        )
        result = replay.run(job, progress=progress)
    written, backup = None, None
    refused = not allow_errors and any(r.status == "error" for r in result.runs)
    if result.ok and result.lock is not None and not refused:
        text = lockfile.relocated(result.lock_text or "", result.lock, str(lock_path))
        backup = store.back_up_lock(lock_path)
        store.write_text_atomic(lock_path, text)
        written = result.lock
    return RecordResult(lock_path, written, result, backup, refused)


def verify_notebook(
    notebook: str | os.PathLike[str],
    *,
    lock: str | os.PathLike[str] | None = None,
    kernel: str | None = None,
    options: DiffOptions | None = None,
    order: str = "recorded",
    pin_seeds: bool = False,
    save_replay: str | os.PathLike[str] | None = None,
    timeout: float | None = None,
    progress: replay.Progress | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    env_policy: str | None = None,
) -> VerifyResult:
    """Replay ``notebook`` in a fresh kernel against its research lock and diff the two runs. ``options``
    default to ``[tool.reprotrack]`` of the notebook's nearest pyproject.toml, with ``rtol``/``atol`` on top."""
    nb_path = _notebook(notebook)
    nb, has_ids = replay.read_notebook(nb_path)
    cells = replay.code_cells(nb, with_ids=has_ids)
    research, lock_path = research_lock(nb_path, lock, [(c.id, c.sha256) for c in cells])
    if research.mode == "replay":
        raise LockfileError(f"{lock_path} is a replay lock (written by `verify --save-replay`), not a research "
                            "lock; verify against the lock `reprotrack record` or %reprotrack save wrote")

    if options is None:
        options = load_options(nb_path.parent, rtol=rtol, atol=atol, env_policy=env_policy)
    if save_replay is not None:
        check_replay_output(save_replay, nb_path, lock_path)
    steps = replay.plan(cells, research, order)
    pins = research.to_dict()["cells"] if pin_seeds else None
    with tempfile.TemporaryDirectory(prefix="reprotrack-replay-") as tmp:
        job = replay.ReplayJob(
            nb_path, tuple(steps), mode="replay", lock_out=Path(tmp) / "replay.lock",
            partial=Path(tmp) / "partial.jsonl", kernel=kernel, timeout=timeout, pins=pins,
            privacy=research.privacy or {"policy": "values"}, nb=nb, has_ids=has_ids,
        )
        result = replay.run(job, progress=progress)
    replay_lock = result.lock if result.lock is not None else Lock(mode="replay")
    replay_lock.mode = "replay"  # whatever the kernel wrote: a replay lock is never taken for a research lock
    saved = None
    if save_replay is not None:
        saved = store.write_lock(Path(save_replay).expanduser().absolute(), replay_lock)
    report = compare(research, replay_lock, options, execution_error=result.execution_error)
    return VerifyResult(report, research, result, saved)


def diff_locks(
    a: str | os.PathLike[str],
    b: str | os.PathLike[str],
    *,
    options: DiffOptions | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    env_policy: str | None = None,
) -> Report:
    """The verify diff between two existing locks (research first), with no execution."""
    research, other = store.read_lock(a), store.read_lock(b)

    if options is None:
        options = load_options(Path(a).resolve().parent, rtol=rtol, atol=atol, env_policy=env_policy)
    return compare(research, other, options)


def current_environment(packages: list[str] | dict[str, Any]) -> dict[str, Any]:
    """This interpreter's facts, with the installed versions of exactly the lock's packages (looked up in
    the metadata, never imported). Thread pools are left out: they are only known once libraries load."""
    from importlib import metadata


    facts = environment_facts()
    found: dict[str, str] = {}
    for name in packages:
        try:
            found[name] = metadata.version(name)
        except (metadata.PackageNotFoundError, ValueError):
            continue
    facts["packages"] = found
    facts.pop("threadpools", None)
    return facts


def check_environment(lock: str | os.PathLike[str], *, options: DiffOptions | None = None) -> list[Finding]:
    """Environment findings of this interpreter against a lock's (the fast pre-flight before a verify)."""
    research = store.read_lock(lock)

    if options is None:
        options = load_options(Path(lock).resolve().parent)
    recorded = {k: v for k, v in research.environment.items() if k != "threadpools"}
    return environment_differences(recorded, current_environment(dict(recorded.get("packages") or {})), options)


def load_options(start: Path | None = None, **overrides: Any) -> DiffOptions:
    """``[tool.reprotrack]`` from the nearest pyproject.toml, with command-line overrides (None = unset)."""
    return _load(start, **{k: v for k, v in overrides.items() if v is not None})


def exit_code_for(report: Report) -> int:
    return EXIT_BY_STATUS.get(report.status, 1)


def _notebook(path: str | os.PathLike[str]) -> Path:
    p = Path(path).expanduser()
    if not p.exists():
        raise ReprotrackError(f"no notebook at {p}")
    if p.is_dir() or p.suffix != ".ipynb":
        raise ReprotrackError(f"{p} is not a .ipynb notebook")
    return p.resolve()


def check_replay_output(save_replay: str | os.PathLike[str], notebook: Path, research_lock: Path) -> None:
    """``--save-replay`` may never name the notebook, the research lock or any other research lock."""
    store.check_output(save_replay, inputs=(notebook, research_lock), what="--save-replay")
    target = Path(save_replay).expanduser()
    if target.is_file():
        try:
            existing = store.read_lock(target)
        except ReprotrackError:
            return
        if existing.mode != "replay":
            raise UsageError(f"--save-replay {target} is a research lock ({existing.mode} mode); a replay never "
                             "writes over one: choose another path")
