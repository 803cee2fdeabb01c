"""``reprotrack demo``: the README's first command. Records the quickstart notebook, verifies it in a fresh
kernel and prints the report, so a new user sees the whole loop (research run → lock → staging replay →
diagnosis) in one step.

The notebook is ``notebooks/quickstart.ipynb`` of the repository, read from there by the editable install
the README sets up (a packaged copy at ``reprotrack/demo_notebooks/quickstart.ipynb`` is used first if a
build puts one there; hatchling's force-include would also drop it into site-packages of editable installs,
so the wheel does not carry it yet). The demo never writes beside the shipped notebook: it works on a copy
in ``--workdir`` or a temporary folder.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path
from typing import Callable

from reprotrack.errors import ReprotrackError
from reprotrack.report import render
from reprotrack.verify import record_notebook, verify_notebook

NOTEBOOK = "quickstart.ipynb"


def quickstart_notebook() -> Path:
    """The shipped quickstart notebook: packaged copy first, else the repository's (editable install)."""
    packaged = Path(__file__).resolve().parent / "demo_notebooks" / NOTEBOOK
    if packaged.is_file():
        return packaged
    repo = Path(__file__).resolve().parents[1] / "notebooks" / NOTEBOOK
    if repo.is_file():
        return repo
    raise ReprotrackError("the quickstart notebook ships with the repository: run the demo from an editable "
                          "install of a checkout (bash .ci/setup && .venv/bin/reprotrack demo)")


def run_demo(
    *,
    workdir: str | Path | None = None,
    fmt: str = "text",
    progress: Callable | None = None,
    log: Callable[[str], None] | None = None,
) -> int:
    """Copy, record, verify, print the report on stdout; return verify's exit code."""

    log = log or (lambda message: print(f"reprotrack: {message}", file=sys.stderr))
    with tempfile.TemporaryDirectory(prefix="reprotrack-demo-") as tmp:
        folder = Path(workdir).expanduser().resolve() if workdir else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        notebook = folder / NOTEBOOK
        shutil.copyfile(quickstart_notebook(), notebook)
        log(f"recording {notebook} (the research run) …")
        recorded = record_notebook(notebook, progress=progress)
        if recorded.exit_code != 0:
            log(f"the quickstart could not be executed: {recorded.replay.execution_error}")
            return recorded.exit_code
        log(f"wrote {recorded.lock_path}; replaying it in a fresh kernel (the staging run) …")
        result = verify_notebook(notebook, lock=recorded.lock_path, progress=progress)
        text = render(result.report, fmt, color=False)
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        if fmt == "text":
            _broken_on_purpose(folder, progress, log)
        if workdir:
            log(f"the notebook and its lock are in {folder}; try `reprotrack verify {notebook}` after editing it")
        return result.exit_code


def _broken_on_purpose(folder: Path, progress: Callable | None, log: Callable[[str], None]) -> None:
    """The other half of the story: a notebook whose replay diverges from its research lock on purpose, so
    the first command also shows what a diagnosis looks like. Informative only: it never sets the exit code."""

    shipped = quickstart_notebook().parent
    names = ("broken-on-purpose.ipynb", "broken-on-purpose.reprotrack.lock", "broken-on-purpose.csv")
    if not all((shipped / n).is_file() for n in names):
        return
    target = folder / "broken-on-purpose"
    target.mkdir(exist_ok=True)
    for n in names:
        shutil.copyfile(shipped / n, target / n)
    log("and a notebook broken on purpose (notebooks/broken-on-purpose.ipynb), replayed against its research "
        "lock …")
    try:
        result = verify_notebook(target / names[0], progress=progress)
    except ReprotrackError as exc:
        log(f"skipped the broken-on-purpose notebook: {exc}")
        return
    sys.stdout.write("\n" + render(result.report, "text", color=False).rstrip("\n") + "\n")
