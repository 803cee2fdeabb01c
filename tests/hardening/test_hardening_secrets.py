"""Hardening: the tracker never leaks a secret.

Canaries planted where secrets live — secret-looking environment variables, credentials in git remote URLs
(fetch and push, https and scp-like), credentials and signed query strings in URLs and file URLs passed to
``read_csv``, and the cell sources themselves (comments, literals, a traceback that quotes the code, a
``traceback.print_exc()``, a syntax error, ``logging.exception``) — appear nowhere in the lock, in any report
format (text, json, junit, html), in ``show``/``env check``/``export`` output, or in the live panel's widget
state. ``CANARIES`` per place is the figure reported for this kind.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run

from reprotrack import cli, store
from reprotrack.kernel import session

ENV_CANARIES = {
    "GITHUB_TOKEN": "ghp_CANARYenv0000000000000000000001",
    "AWS_SECRET_ACCESS_KEY": "CANARYenvAWSsecret0000000002",
    "AWS_SESSION_TOKEN": "CANARYenvSESSION0000003",
    "DATABASE_PASSWORD": "CANARYenvPASSWORD0004",
    "OPENAI_API_KEY": "sk-CANARYenvOPENAI00005",
    "HF_TOKEN": "hf_CANARYenvHF00006",
    "MY_APP_SECRET": "CANARYenvAPPSECRET0007",
    "DATABASE_URL": "postgres://admin:CANARYenvDBURL0008@db.invalid/prod",
    "PIP_INDEX_URL": "https://user:CANARYenvPIP0009@pypi.invalid/simple",
    "JUPYTER_TOKEN": "CANARYenvJUPYTER0010",
}
REMOTE_CANARIES = {
    "origin": "https://alice:ghp_CANARYremote0001@git.invalid/team/repo.git",
    "token": "https://oauth2:CANARYremote0002@gitlab.invalid/team/repo.git?private_token=CANARYremote0003",
    "scp": "deploy:CANARYremote0004@git.invalid:team/repo.git",
    "userinfo": "ssh://git:CANARYremote0005@git.invalid:2222/team/repo.git",
}
PUSH_CANARY = "https://bob:CANARYremote0006@git.invalid/push.git"
URL_CANARIES = [
    "https://bob:CANARYurl0001@127.0.0.1:9/data.csv?sig=CANARYurl0002#CANARYurl0003",
    "s3://AKIAEXAMPLE:CANARYurl0004@bucket/key.csv?versionId=CANARYurl0005",
    "ftp://u:CANARYurl0006@127.0.0.1:9/x.csv",
    "gs://svc:CANARYurl0007@bucket/k.csv",
]
SOURCE_CANARIES = [
    "# api key: CANARYsrc0001",
    "token = 'CANARYsrc0002'",
    "password = f\"{'CANARYsrc0003'}\"",
    "connect('postgres://u:CANARYsrc0004@db')",  # raises: the traceback quotes this line
    "def helper():\n    return undefined_name + 'CANARYsrc0005'",  # defined here, raises in a later cell
    "try:\n    1 / 0  # CANARYsrc0006\nexcept ZeroDivisionError:\n    import traceback\n    traceback.print_exc()",
    "import logging\ntry:\n    {}['CANARYsrc0007']\nexcept KeyError:\n    logging.getLogger('t').exception('failed')",
    "x = (  # CANARYsrc0008 syntax error below\n",
    "%time secret_value = 'CANARYsrc0009'",
    "%%capture\nsecret2 = 'CANARYsrc0010'\nprint(len(secret2))",
]
ALL = list(ENV_CANARIES.values()) + list(REMOTE_CANARIES.values()) + [PUSH_CANARY] + URL_CANARIES + SOURCE_CANARIES


def _secrets(text: str) -> list[str]:
    """Every canary fragment found in ``text`` (each canary contains ``CANARY`` and a unique tag)."""
    import re

    return sorted(set(re.findall(r"CANARY[A-Za-z]*\d{4}", text)))


@pytest.fixture
def research(ip, git_repo, monkeypatch, tmp_path):
    """A tracked session in a git repository with every canary planted; returns (lock path, session)."""
    for name, value in ENV_CANARIES.items():
        monkeypatch.setenv(name, value)
    for name, url in REMOTE_CANARIES.items():
        git_repo.create_remote(name, url)
    with git_repo.config_writer() as cw:
        cw.set_value('remote "origin"', "pushurl", PUSH_CANARY)
    folder = Path(git_repo.working_tree_dir)
    monkeypatch.chdir(folder)
    run(ip, "%reprotrack start")
    assert run(ip, "import numpy as np\nimport pandas as pd\nnp.random.seed(0)\n"
                   "pd.DataFrame({'a': [1.0, 2.0, 3.0]}).to_csv('local.csv', index=False)").success
    run(ip, f"pd.read_csv('file://al:CANARYurl0008@localhost{folder / 'local.csv'}')")  # urllib refuses it
    run(ip, f"pd.read_csv('file://localhost{folder / 'local.csv'}?token=CANARYurl0009')")  # echoed by the error
    assert run(ip, "df = pd.read_csv('local.csv')").success
    for url in URL_CANARIES:
        run(ip, f"pd.read_csv({url!r})")  # no network: each raises, recorded as an error
    run(ip, "def connect(url):\n    raise ConnectionError('refused')")
    for source in SOURCE_CANARIES:
        run(ip, source)
    run(ip, "helper()")
    assert run(ip, "features = df * 2\nscore = float(features.a.mean())\nprint('score', score)\nscore").success
    run(ip, "%reprotrack checkpoint features features")
    s = session.active()
    path = s.save(tmp_path / "research.lock")
    assert path is not None
    return path, s


def _replay_of(research: Path, tmp_path: Path) -> Path:
    """A second lock that differs (data changed, a package version moved): findings to render."""
    raw = json.loads(research.read_text("utf-8"))
    for cell in raw["cells"]:
        for fp in cell["data"].values():
            if fp.get("content"):
                fp["content"] = "xxh3-128:" + "0" * 32
    raw["environment"]["packages"]["numpy"] = "0.0.1"
    out = tmp_path / "replay.lock"
    out.write_text(json.dumps(raw), "utf-8")
    return out


def test_no_canary_in_the_lock(research):
    path, s = research
    text = path.read_text("utf-8")
    assert _secrets(text) == []
    lock = store.read_lock(path)
    assert lock.git and set(lock.git["remotes"]) == set(REMOTE_CANARIES)  # remotes kept, credentials gone
    assert lock.git["remotes"]["origin"] == "https://git.invalid/team/repo.git"
    inputs = [i["path"] for c in lock.cells for i in c.inputs]
    assert "https://127.0.0.1:9/data.csv" in inputs and "local.csv" in inputs
    assert len(lock.cells) >= len(SOURCE_CANARIES)
    # the traceback that quoted a canary line was recorded, with the line replaced
    printed = " ".join(c.outputs.get(k, {}).get("text", "") for c in lock.cells for k in ("stdout", "stderr"))
    assert "<cell source line>" in printed and "ZeroDivisionError" in printed
    assert _secrets(repr(s.cells)) == [] and _secrets(repr(s.notes)) == []  # nor in memory for a later save


REPORT_FORMATS = ["text", "json", "junit", "html"]
LOCK_COMMANDS = [["show"], ["show", "--format", "json"], ["env", "check"], ["env", "check", "--format", "json"],
                 ["export"], ["export", "--format", "pylock"]]


def test_no_canary_in_any_report_or_command_output(research, tmp_path, capsys):
    path, _ = research
    other = _replay_of(path, tmp_path)
    capsys.readouterr()
    for fmt in REPORT_FORMATS:
        assert cli.main(["diff", str(path), str(other), "--format", fmt]) == 1
        out = capsys.readouterr()
        assert out.out.strip() and _secrets(out.out + out.err) == [], fmt
        assert cli.main(["diff", str(path), str(other), "--format", fmt, "--output", str(tmp_path / f"r.{fmt}")]) == 1
        assert _secrets((tmp_path / f"r.{fmt}").read_text("utf-8")) == [], fmt
    for argv in LOCK_COMMANDS:
        cli.main([*argv, str(path)])
        out = capsys.readouterr()
        assert _secrets(out.out + out.err) == [], argv


def test_no_canary_in_the_panel_widget_state(research):
    from reprotrack.kernel.widget import attach_panel

    _, s = research
    for mode in ("widget", "text"):
        panel = attach_panel(s, mode=mode)
        if panel is None:
            continue
        state = json.dumps({k: label.get_state() for k, label in panel.labels.items()}, default=str) \
            if panel.labels else json.dumps(panel.state.texts())
        assert _secrets(state) == [] and _secrets(json.dumps(panel.state.texts())) == []


def test_printed_text_keeps_what_is_not_source(ip):
    """The source scrub removes only lines that quote tracked code: ordinary output is untouched."""
    run(ip, "%reprotrack start")
    assert run(ip, "message = 'hello output world'\nprint(message)\nprint('message = 1234567')").success
    text = session.active().cells[-1].outputs["stdout"]["text"]
    assert text.splitlines() == ["hello output world", "message = 1234567"]
