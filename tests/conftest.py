"""Shared fixtures: real IPython shells, real kernels (nbclient), real git repositories, generated notebooks."""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path
from typing import Iterable

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _no_leftover_session():
    """Every test starts and ends with no active tracking session."""
    from reprotrack.kernel import session

    yield
    current = session.active()
    if current is not None:
        current.stop()


@pytest.fixture
def ip(tmp_path, monkeypatch):
    """A fresh real ``InteractiveShell`` with the extension loaded, working in a temporary folder."""
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    InteractiveShell.clear_instance()
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    shell = InteractiveShell.instance(config=config)
    shell.run_line_magic("load_ext", "reprotrack")
    yield shell
    try:
        shell.run_line_magic("unload_ext", "reprotrack")
    except Exception:
        pass
    InteractiveShell.clear_instance()


def run(shell, source: str):
    """Run one cell like a frontend would (history stored, events fired); return the ExecutionResult."""
    return shell.run_cell(source, store_history=True)


def make_notebook(cells: Iterable[str], *, ids: Iterable[str] | None = None) -> nbformat.NotebookNode:
    """A v4.5 notebook of code cells (cell ids included, as JupyterLab writes them)."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    ids = list(ids) if ids is not None else None
    for i, source in enumerate(cells):
        cell = nbformat.v4.new_code_cell(source)
        cell.id = ids[i] if ids else f"cell-{i}"
        nb.cells.append(cell)
    return nb


def write_notebook(path: Path, cells: Iterable[str], **kwargs) -> Path:
    nbformat.write(make_notebook(cells, **kwargs), str(path))
    return path


def execute_notebook(path: Path, *, timeout: int = 120, allow_errors: bool = False, env: dict | None = None):
    """Execute a notebook in a real kernel (nbclient) with the notebook's folder as working directory."""
    nb = nbformat.read(str(path), as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=allow_errors,
        resources={"metadata": {"path": str(path.parent)}},
    )
    if env is not None:
        merged = dict(os.environ)
        merged.update(env)
        client.execute(env=merged)
    else:
        client.execute()
    return nb


@pytest.fixture
def git_repo(tmp_path):
    """A real git repository with one commit, in a temporary folder."""
    import git

    repo = git.Repo.init(tmp_path / "repo")
    with repo.config_writer() as cw:
        cw.set_value("user", "name", "Test")
        cw.set_value("user", "email", "test@example.invalid")
    (Path(repo.working_tree_dir) / "README").write_text("hello\n")
    repo.index.add(["README"])
    repo.index.commit("first")
    yield repo
    repo.close()


@pytest.fixture
def python() -> str:
    return sys.executable


#: Statistics a distributed engine merges in another grouping than pandas sums them: equal up to rounding.
ROUNDED_STATS = ("mean", "std")


def assert_same_fingerprint(distributed: dict, pandas_fp: dict) -> None:
    """A Dask/Spark fingerprint equals the pandas one of the same data: every key exactly (but ``engine``,
    which says where it was computed), ``ROUNDED_STATS`` within 1e-12 relative."""
    a = {k: v for k, v in distributed.items() if k != "engine"}
    assert set(a) == set(pandas_fp)
    for key in a:
        if key != "stats":
            assert a[key] == pandas_fp[key], key
    for x, y in zip(a["stats"], pandas_fp["stats"], strict=True):
        assert set(x) == set(y), x["name"]
        for k in x:
            if k in ROUNDED_STATS and isinstance(x[k], float):
                assert math.isclose(x[k], y[k], rel_tol=1e-12, abs_tol=1e-300), (x["name"], k)
            else:
                assert x[k] == y[k], (x["name"], k, x[k], y[k])


def _kernels() -> set[int]:
    """ipykernel processes descending from this test process."""
    import psutil

    found = set()
    for child in psutil.Process().children(recursive=True):
        try:
            if "ipykernel" in " ".join(child.cmdline()) and child.status() != psutil.STATUS_ZOMBIE:
                found.add(child.pid)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


@pytest.fixture
def no_orphans():
    """The test leaves no kernel process behind (shutdown is asynchronous: it gets a moment)."""
    import time

    before = _kernels()
    yield
    deadline = time.monotonic() + 10
    while _kernels() - before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _kernels() - before == set(), "orphaned kernel processes"
