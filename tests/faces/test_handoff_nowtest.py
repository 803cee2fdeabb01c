"""The now-test walkthrough of ``notebooks/handoff.md`` (section 7), run as written: its scripts are saved
from the page, every ``$`` command of its console blocks runs in a fresh folder, in order, and the output must
be the output the page shows, line for line (a report's ``research: …, Python X.Y`` header line aside: it names
the interpreter that ran it)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

HANDOFF = Path(__file__).resolve().parents[2] / "notebooks" / "handoff.md"


def section() -> str:
    text = HANDOFF.read_text(encoding="utf-8")
    return text[text.index("## 7. In production"):]


def test_the_now_test_walkthrough_runs_as_written(tmp_path):
    text = section()
    for block in re.findall(r"```python\n(.*?)```", text, re.DOTALL):
        name = re.match(r"# (\S+\.py)", block).group(1)
        (tmp_path / name).write_text(block, encoding="utf-8")
    steps: list[tuple[str, list[str]]] = []
    for console in re.findall(r"```console\n(.*?)```", text, re.DOTALL):
        for line in console.splitlines():
            if line.startswith("$ "):
                steps.append((line[2:], []))
            else:
                steps[-1][1].append(line)
    assert any("run --against" in command for command, _ in steps)
    last = 0
    for command, expected in steps:
        if command == "echo $?":
            got = [str(last)]
        else:
            words = command.split()
            argv = [sys.executable, *words[1:]] if words[0] == "python" else \
                [sys.executable, "-m", "reprotrack", *words[1:]]
            done = subprocess.run(argv, check=False, cwd=tmp_path, capture_output=True, text=True, timeout=300,
                                  env={**_env(), "NO_COLOR": "1"})
            last = done.returncode
            got = done.stdout.splitlines()
            assert "Traceback" not in done.stderr, done.stderr
        assert [_portable(line) for line in got] == [_portable(line) for line in expected], (command, got)


def _portable(line: str) -> str:
    return re.sub(r"Python \d+\.\d+\.\d+", "Python X", line) if line.startswith("research: ") else line


def _env() -> dict:
    import os

    root = str(Path(__file__).resolve().parents[2])
    return {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
