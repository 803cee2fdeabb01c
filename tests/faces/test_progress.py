"""Per-cell progress of ``record``/``verify`` on a real terminal (a pty), ``NO_COLOR``, ``TERM=dumb`` and
non-terminals: progress is for people watching a terminal, never for logs, pipes or files.

The first tests call the CLI's progress printer in-process with a real pty as stderr (no kernel); the last
runs the installed command on a pty with real kernels, to check the wiring end to end."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import write_notebook

from reprotrack import cli
from reprotrack.replay.driver import CellRun


class Terminal:
    """The slave side of a real pty as ``stream``; ``read()`` is what reached the master side."""

    def __init__(self) -> None:
        self.master, slave = pty.openpty()
        self.stream = open(slave, "w", encoding="utf-8", closefd=True)

    def progress(self):
        """``cli._progress()`` with this terminal as sys.stderr (set here, in the test's call phase: pytest's
        own capture puts its sys.stderr back between setup and call)."""
        saved, sys.stderr = sys.stderr, self.stream
        try:
            return cli._progress()
        finally:
            sys.stderr = saved

    def read(self) -> str:
        self.stream.flush()
        return os.read(self.master, 65536).decode("utf-8").replace("\r\n", "\n")


@pytest.fixture
def terminal(monkeypatch):
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("NO_COLOR", raising=False)
    term = Terminal()
    yield term
    term.stream.close()
    os.close(term.master)


def test_a_terminal_gets_one_coloured_line_per_cell(terminal):
    show = terminal.progress()
    assert show is not None
    show(1, 3, CellRun(0, "load", "ok", 0.42))
    show(2, 3, CellRun(1, None, "error", 1.0))
    assert terminal.read() == "[1/3] cell 1 (load) … \x1b[32mok\x1b[0m 0.4s\n[2/3] cell 2 … \x1b[33merror\x1b[0m 1.0s\n"


@pytest.mark.parametrize("variable, value", [("NO_COLOR", "1"), ("TERM", "dumb")])
def test_no_color_and_dumb_terminals_get_progress_without_escapes(terminal, monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    terminal.progress()(1, 1, CellRun(0, "load", "timeout", 2.0))
    assert terminal.read() == "[1/1] cell 1 (load) … timeout 2.0s\n"


def test_an_empty_no_color_does_not_disable_colour(terminal, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "")  # no-color.org: only a non-empty value counts
    terminal.progress()(1, 1, CellRun(0, None, "ok", 0.0))
    assert "\x1b[32m" in terminal.read()


def test_a_hostile_cell_id_cannot_drive_the_terminal(terminal, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    terminal.progress()(1, 1, CellRun(0, "x\x1b]0;owned\x07\x1b[2J", "ok", 0.0))
    assert terminal.read() == "[1/1] cell 1 (x\\x1b]0;owned\\x07\\x1b[2J) … ok 0.0s\n"


@pytest.mark.parametrize("stream", [io.StringIO(), subprocess.PIPE], ids=["file", "pipe"])
def test_no_progress_when_stderr_is_not_a_terminal(monkeypatch, tmp_path, stream):
    if stream is subprocess.PIPE:
        read, write = os.pipe()
        stream = open(write, "w")
        os.close(read)
    saved, sys.stderr = sys.stderr, stream
    try:
        assert cli._progress() is None
    finally:
        sys.stderr = saved
    assert cli._use_color(stream) is False


@pytest.mark.kernel
def test_record_and_verify_show_progress_on_a_terminal(tmp_path):
    nb = write_notebook(tmp_path / "nb.ipynb", ["import numpy as np\nnp.random.seed(0)", "x = np.random.normal()"],
                        ids=["seed", "draw"])
    exe = Path(sys.executable).with_name("reprotrack")
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "reprotrack"]
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env["TERM"] = "xterm"
    code, out, err = _on_terminal([*command, "record", str(nb)], env)
    assert code == 0, err
    lines = [line for line in err.splitlines() if line.startswith("[")]
    assert lines[0].startswith("[1/2] cell 1 (seed) … \x1b[32mok\x1b[0m ")
    assert lines[1].startswith("[2/2] cell 2 (draw) … \x1b[32mok\x1b[0m ")
    assert "recorded 2 cell run(s)" in out and "\x1b[" not in out  # stdout is a pipe

    env["NO_COLOR"] = "1"
    code, out, err = _on_terminal([*command, "verify", str(nb)], env, stdout_too=True)
    assert code == 0, out
    assert "[1/2] cell 1 (seed) … ok " in out and "[2/2] cell 2 (draw) … ok " in out
    assert "reprotrack: REPRODUCED" in out and "\x1b[" not in out


def _on_terminal(command: list[str], env: dict[str, str], *, stdout_too: bool = False) -> tuple[int, str, str]:
    """Run ``command`` with stderr (and stdout if asked) on a real pty; (exit code, stdout, terminal text)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=slave if stdout_too else subprocess.PIPE,
                            stderr=slave, env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: every writer of the slave side has closed it
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    out = proc.stdout.read().decode() if proc.stdout else ""
    code = proc.wait(timeout=120)
    terminal = b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")
    return code, (terminal if stdout_too else out), terminal
