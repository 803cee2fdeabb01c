"""``reprotrack run script.py [ARGS…]``: a script (or ``-m`` module) run in a fresh process with tracking on,
as ``record`` runs a notebook, and optionally checked against a research lock at the end.

The child process (``reprotrack.kernel.script.main``) runs the script as ``__main__`` under a script session:
seeds, randomness, file inputs and splits recorded per stage between checkpoints, no reprotrack import needed
in the script (only ``reprotrack.checkpoint(name, obj)`` where stages meet). It writes into a temporary
folder; this module decides what reaches ``--lock``: the complete lock when the script finished, else a lock
marked ``complete: false`` (the last snapshot, or an empty one) with a note saying why -- so a lock from an
earlier run at the same path is never mistaken for this run's. With ``--against`` the script's standard
output goes to standard error (standard output is the report's). Standard input is closed (a script that waits
for input fails instead of hanging); ``timeout`` kills the whole process group. Exit codes as for notebooks:
3 when the script failed, hung, was killed or exited early; else the check's 0/1.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reprotrack import store
from reprotrack.check import check_lock, check_names, checkpoint_options, load_research
from reprotrack.core.diff.checkpoints import CheckOptions
from reprotrack.core.diff.model import Report
from reprotrack.core.lockfile import Lock
from reprotrack.errors import UsageError

EXIT_BY_STATUS = {"reproduced": 0, "differs": 1, "failed": 3}
CHILD = "from reprotrack.kernel.script import main; main()"


@dataclass
class RunResult:
    lock_path: Path
    lock: Lock
    returncode: int | None
    #: why the run is partial (None: the script finished)
    error: str | None
    #: the check against ``--against`` (None without it)
    report: Report | None = None

    @property
    def exit_code(self) -> int:
        if self.error:
            return 3
        return EXIT_BY_STATUS.get(self.report.status, 1) if self.report is not None else 0


def default_lock(target: str, module: bool) -> Path:
    """``train.py`` → ``train.reprotrack.lock`` beside it; a module → ``<module>.reprotrack.lock`` here."""
    if module:
        return Path.cwd().resolve() / f"{target}.reprotrack.lock"
    path = Path(target).resolve()
    return path.with_name(path.stem + ".reprotrack.lock")


def run_script(target: str | os.PathLike[str], args: Sequence[str] = (), *, module: bool = False,
               lock: str | os.PathLike[str] | None = None, against: str | os.PathLike[str] | None = None,
               timeout: float | None = None, options: CheckOptions | None = None, maps: Sequence[str] = (),
               rtol: float | None = None, atol: float | None = None, env_policy: str | None = None) -> RunResult:
    """Run ``target`` tracked in a fresh process, write its lock, check it against ``against`` if given."""
    target = str(target)
    if module:
        if not target or not all(part.isidentifier() for part in target.split(".")):
            raise UsageError(f"{target!r} is not a module name (run -m package.module)")
    else:
        path = Path(target).expanduser()
        if not path.is_file():
            raise UsageError(f"{path} is not a file; pass a Python script (or -m MODULE)")
        if path.suffix == ".ipynb":
            raise UsageError(f"{path.name} is a notebook; record it with `reprotrack record {path.name}`")
        target = str(path.resolve())
    lock_path = Path(lock).expanduser().resolve() if lock else default_lock(target, module)
    if not lock_path.parent.is_dir():
        raise UsageError(f"cannot write {lock_path}: folder {lock_path.parent} does not exist")
    research = None
    if against is not None:
        if Path(against).resolve() == lock_path:
            raise UsageError(f"--lock {lock_path.name} is the research lock given to --against; write the run's "
                             "lock elsewhere")
        research = load_research(against)  # bad input is said before anything runs
        start = Path.cwd() if module else Path(target).parent  # the production code's pyproject.toml
        options = options or checkpoint_options(start, maps=maps, rtol=rtol, atol=atol, env_policy=env_policy)
        check_names(research, options)
    with tempfile.TemporaryDirectory(prefix="reprotrack-run-") as tmp:
        out = Path(tmp) / "run.lock"
        try:
            returncode, error = _spawn(out, target, list(args), module=module, timeout=timeout,
                                       quiet_stdout=research is not None)
        except KeyboardInterrupt:  # the child is gone; what it did is kept, marked partial
            interrupted = _collect(out, None, "it was interrupted (Ctrl-C)")
            interrupted.run["lock_path"] = str(lock_path)
            store.write_lock(lock_path, interrupted)
            raise
        result = _collect(out, returncode, error)
    result.run["script"] = target if module else Path(target).name
    result.run["lock_path"] = str(lock_path)
    store.write_lock(lock_path, result)
    error = None if result.complete else _reason(result)
    report = None
    if research is not None:
        report = check_lock(result, research, options)
    return RunResult(lock_path, result, returncode, error, report)


def _spawn(out: Path, target: str, args: list[str], *, module: bool, timeout: float | None,
           quiet_stdout: bool = False) -> tuple[int | None, str | None]:
    """Run the child; with ``quiet_stdout`` the script's standard output goes to our standard error, so that
    standard output holds only the check report (``--format json`` stays parseable)."""
    command = [sys.executable, "-c", CHILD, str(out), "--module" if module else "--script", target, *args]
    sys.stdout.flush()
    stdout = sys.stderr.fileno() if quiet_stdout and _has_fileno(sys.stderr) else None
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=stdout, start_new_session=True)
    # the child has its own process group (so a timeout kills all it started): a SIGTERM to us must reach it
    previous = _on_sigterm(_interrupt)
    try:
        returncode = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(process)
        return None, f"it ran longer than {timeout:g} s (--timeout) and was stopped"
    except BaseException:  # Ctrl-C or SIGTERM: the child goes with us
        _kill(process)
        raise
    finally:
        _on_sigterm(previous)
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = str(-returncode)
        return returncode, f"it was killed by signal {name}"
    if returncode != 0:
        return returncode, f"it exited with code {returncode}"
    return returncode, None


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _on_sigterm(handler: Any) -> Any:
    """Install ``handler`` for SIGTERM (main thread only); return the previous one."""
    import threading

    if handler is None or threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, handler)


def _has_fileno(stream: Any) -> bool:
    try:
        stream.fileno()
    except (AttributeError, OSError, ValueError):
        return False
    return True


def _kill(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, AttributeError):
        process.kill()
    process.wait()


def _collect(out: Path, returncode: int | None, error: str | None) -> Lock:
    """The run's lock: complete only when the child said so and exited 0."""
    lock = None
    try:
        lock = store.read_lock(out) if out.exists() else None
    except Exception:  # noqa: BLE001 - a torn snapshot is no snapshot
        lock = None
    if lock is None:
        lock = Lock(mode="script", complete=False)
    if error is None and not lock.complete:
        error = "it ended before its last line ran (os._exit, or the process was ended)"
    if error is not None:
        lock.complete = False
        note = f"the script did not finish: {error}"
        if not any(n.startswith("the script did not finish") for n in lock.notes):
            lock.notes.append(note)
    return lock


def _reason(lock: Lock) -> str:
    notes = [n for n in lock.notes if n.startswith("the script did not finish")]
    return notes[-1] if notes else "the script did not finish"
