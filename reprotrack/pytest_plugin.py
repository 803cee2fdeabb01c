"""``pytest --reprotrack PATH…``: verify every locked notebook under PATH as one pytest test.

Why a pytest plugin when ``reprotrack verify`` exists: CI already runs pytest, and pytest already knows how to
select (``-k``), parallelise (``-n``), and report (``--junitxml``) tests. Each notebook that has a research lock
becomes one test item that calls ``reprotrack.verify.verify_notebook`` (a fresh kernel, the same diff as the CLI);
a difference fails it with the plain-text report (no colour: it lands in logs and JUnit XML), an execution
failure (CLI exit 3) fails it with the execution error, bad input (a corrupt lock, an unknown kernel) fails it
with the one-line error.

Which notebooks are collected (only with ``--reprotrack``):

* a notebook with its own lock (``<stem>.reprotrack.lock``, see ``reprotrack.store.find_lock_for``);
* a notebook beside a shared ``reprotrack.lock`` that was recorded from that notebook;
* a notebook named explicitly on the command line without a lock is collected as a *skipped* test that says
  how to record one. A notebook without a lock found while walking a folder is not collected at all: folders
  hold exploratory notebooks nobody promised to reproduce, and a skip for each would bury the real results.

Cost when ``--reprotrack`` is not given: pytest loads ``pytest11`` plugins in every run of the environment, so
this module imports only pytest and the standard library at load time, and its hooks return at once; the
verify machinery (nbclient, the diff) is imported by the first test that runs.

The plugin also gives production test suites the ``reprotrack_research`` fixture (``reprotrack.testing``): each
stage of the production code asserted against the research checkpoint of its name. It imports reprotrack's
machinery only when a test asks for it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

SUFFIX = ".ipynb"
SHARED_LOCK = "reprotrack.lock"  # reprotrack.store.DEFAULT_LOCK_NAME, without importing it at plugin load


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("reprotrack", "reprotrack: verify notebooks against their research locks")
    group.addoption("--reprotrack", action="store_true", default=False,
                    help="collect every .ipynb under the given paths that has a reprotrack lock and verify it in a "
                         "fresh kernel (one test per notebook)")
    group.addoption("--reprotrack-kernel", default=None, metavar="NAME",
                    help="kernelspec to replay in, i.e. the staging environment (default: the notebook's, else "
                         "python3)")
    group.addoption("--reprotrack-timeout", type=_positive, default=None, metavar="S",
                    help="seconds allowed per cell (default: reprotrack's)")
    group.addoption("--reprotrack-against", default=None, metavar="LOCK",
                    help="the research lock the reprotrack_research fixture checks production stages against "
                         "(default: the reprotrack_against ini option)")
    parser.addini("reprotrack_against", "the research lock of the reprotrack_research fixture (relative to the "
                  "rootdir)", default="")


@pytest.fixture(scope="session")
def reprotrack_research(pytestconfig: pytest.Config):
    """The research lock (``--reprotrack-against`` or ini ``reprotrack_against``) as a
    ``reprotrack.testing.Research``: ``reprotrack_research.assert_matches("features", df, rtol=1e-9)`` fails
    a test with the checkpoint diagnosis. Without a lock configured, the test fails saying how to give one
    (a regression guard that silently skips guards nothing)."""
    raw = pytestconfig.getoption("reprotrack_against") or pytestconfig.getini("reprotrack_against")
    if not raw:
        pytest.fail("reprotrack_research needs the research lock: pass --reprotrack-against LOCK or set "
                    "reprotrack_against = \"path/to/research.reprotrack.lock\" in the pytest ini options",
                    pytrace=False)
    from reprotrack.errors import ReprotrackError
    from reprotrack.testing import Research

    path = Path(raw)
    if not path.is_absolute():
        path = pytestconfig.rootpath / path
    try:
        return Research(path, config_from=pytestconfig.rootpath)
    except ReprotrackError as exc:
        pytest.fail(f"reprotrack: error: {' '.join(str(exc).split())}", pytrace=False)


def _positive(text: str) -> float:
    import argparse

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} must be a finite number > 0")
    return value


def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    if file_path.suffix != SUFFIX or not parent.config.getoption("reprotrack"):
        return None
    lock = _lock_for(file_path)
    explicit = parent.session.isinitpath(file_path)
    if lock is None and not explicit:
        return None
    return NotebookFile.from_parent(parent, path=file_path, lock=lock)


def _lock_for(notebook: Path) -> Path | None:
    """The research lock of ``notebook``, or None. A shared ``reprotrack.lock`` counts only when it was
    recorded from this notebook (its top-level ``notebook`` is this file's name): a folder of notebooks must
    not all be checked against one of them."""
    from reprotrack.store import find_lock_for

    lock = find_lock_for(notebook)
    if not lock.is_file():
        return None
    if lock.name != SHARED_LOCK:
        return lock
    try:
        recorded = json.loads(lock.read_text(encoding="utf-8")).get("notebook")
    except (OSError, ValueError, AttributeError):
        return lock  # a broken lock is for verify to report, not for collection to hide
    return lock if recorded in (None, notebook.name) else None


class NotebookFile(pytest.File):
    """One notebook: yields its single verify item."""

    def __init__(self, *, lock: Path | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.lock = lock

    def collect(self):
        yield NotebookItem.from_parent(self, name=self.path.name, lock=self.lock)


class VerifyFailure(Exception):
    """Raised by a notebook item whose replay differs, failed, or whose input was bad; ``text`` is what a
    user reads instead of a traceback."""

    def __init__(self, headline: str, text: str) -> None:
        super().__init__(headline)
        self.headline = headline
        self.text = text


class NotebookItem(pytest.Item):
    def __init__(self, *, lock: Path | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.lock = lock
        self.add_marker(pytest.mark.reprotrack)

    def runtest(self) -> None:
        if self.lock is None:
            pytest.skip(f"{self.path.name} has no reprotrack lock; record one with "
                        f"`reprotrack record {self.path.name}` (or %reprotrack save in the notebook)")
        from reprotrack.errors import ReprotrackError
        from reprotrack.report import render
        from reprotrack.verify import verify_notebook

        config = self.config
        try:
            result = verify_notebook(self.path, lock=self.lock, kernel=config.getoption("reprotrack_kernel"),
                                     timeout=config.getoption("reprotrack_timeout"))
        except ReprotrackError as exc:
            message = " ".join(str(exc).split())
            raise VerifyFailure(f"reprotrack: error: {message}", f"reprotrack: error: {message}") from None
        report = result.report
        self.user_properties.append(("reprotrack_status", report.status))
        self.user_properties.append(("reprotrack_lock", _relative(self.lock, config.rootpath)))
        first = report.first_divergence or {}
        if first.get("cell_index") is not None:
            from reprotrack.core.text import cell_name

            self.user_properties.append(("reprotrack_first_divergence", cell_name(first["cell_index"])))
        if result.exit_code == 0:
            return
        text = render(report, "text", color=False)
        error = result.replay.execution_error
        if error:
            headline = f"the notebook could not be executed: {' '.join(str(error).split())}"
            raise VerifyFailure(headline, f"reprotrack: {headline}\n\n{text}")
        raise VerifyFailure(text.splitlines()[0] if text else "reprotrack: DIFFERS", text)

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, VerifyFailure):
            return excinfo.value.text.rstrip("\n")
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self):
        return self.path, None, f"reprotrack verify {self.path.name}"


def _relative(path: Path, root: Path) -> str:
    """``path`` relative to pytest's rootdir when inside it: JUnit XML is read on other machines."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "reprotrack: a notebook verified against its reprotrack lock")
