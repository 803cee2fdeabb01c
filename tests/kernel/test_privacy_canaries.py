"""Canaries: raw values planted in a real IPython session (a category column, printed text, a logged warning, an
exception message) must not reach the lock, any report format, ``show``, ``export`` or the panel unless the
privacy policy is ``values`` -- and the diagnoses still work under each policy."""

from __future__ import annotations

import json

import pytest
from conftest import run

from reprotrack import cli, store
from reprotrack.kernel import session as sessions
from reprotrack.kernel.session import Session
from reprotrack.kernel.widget import attach_panel

CANARIES = ("canary.one@example.com", "4111 1111 1111 1111", "078-05-1120", "sk_live_4eC39HqLyjWDarjtT1zdp7dc")
CELLS = [
    "import logging, sys\nimport pandas as pd",
    # a low-cardinality column whose labels identify people: frequent, still never stored under safe;
    # the replay (VARIANT = 1) brings two new cities
    "cities = ['Paris'] * 60 if VARIANT == 0 else ['Paris'] * 30 + ['Lyon'] * 15 + ['Nice'] * 15\n"
    "df = pd.DataFrame({'who': ['canary.one@example.com'] * 40 + cities, 'n': range(100)})",
    "print(f'mailed canary.one@example.com, card 4111 1111 1111 1111; accuracy {0.91 - 0.04 * VARIANT:.2f}')",
    "log = logging.getLogger('canary')\nlog.propagate = False\nlog.addHandler(logging.StreamHandler(sys.stderr))\n"
    "log.warning('ssn 078-05-1120 rejected')\nlog.handlers.clear()",  # no handler outlives the test
    "raise ValueError('bad key sk_live_4eC39HqLyjWDarjtT1zdp7dc')",
]


def _record(ip, variant, path, policy, salt=None):
    active = sessions.active()
    if active is not None:
        active.stop()
    ip.user_ns["VARIANT"] = variant
    current = Session(ip, lock_path=path, privacy=policy, salt=salt).start()
    for source in CELLS:
        run(ip, source)
    panel = attach_panel(current, mode="text")
    current.save()
    current.stop()
    return current, panel


def _leaks(text: str) -> list[str]:
    return [c for c in CANARIES if c in text or c.replace(" ", "") in text]


@pytest.mark.parametrize("policy", ["values", "safe", "hashed"])
def test_no_raw_value_leaves_the_kernel_unless_the_policy_is_values(ip, tmp_path, policy, capsys):
    research, panel = _record(ip, 0, tmp_path / "research.lock", policy)
    _record(ip, 1, tmp_path / "replay.lock", policy, salt=research.salt)
    capsys.readouterr()

    outputs = {"lock": (tmp_path / "research.lock").read_text() + (tmp_path / "replay.lock").read_text(),
               "panel": panel.text() if panel is not None else ""}
    for fmt in ("text", "json", "junit", "html"):
        out = tmp_path / f"report.{fmt}"
        assert cli.main(["diff", str(tmp_path / "research.lock"), str(tmp_path / "replay.lock"), "--format", fmt,
                         "-o", str(out)]) == 1
        outputs[fmt] = out.read_text()
    for fmt in ("text", "json"):
        cli.main(["show", str(tmp_path / "research.lock"), "--format", fmt])
        outputs[f"show {fmt}"] = capsys.readouterr().out
    cli.main(["export", str(tmp_path / "research.lock")])
    outputs["export"] = capsys.readouterr().out

    leaks = {where: _leaks(text) for where, text in outputs.items() if _leaks(text)}
    if policy == "values":  # the canaries are real: with values opted in they are stored verbatim
        assert set(leaks["lock"]) == set(CANARIES)  # the label, the print, the log line and the exception
        return
    assert not leaks, leaks

    lock = store.read_lock(tmp_path / "research.lock")
    assert lock.privacy == {"policy": policy, "salt": research.salt}
    report = json.loads(outputs["json"])
    causes = {(f["kind"], f["cause"]) for f in report["findings"]}
    assert ("data", "new-categories") in causes  # found although the labels are keys
    assert ("output", "metric-changed") in causes  # 0.91 → 0.87, numbers kept for the comparison
    new = next(f for f in report["findings"] if f["cause"] == "new-categories")
    if policy == "hashed":
        assert "2 new categories (labels withheld by the privacy policy)" in new["message"]
    else:
        assert "Lyon" in new["message"] and "Nice" in new["message"]


def test_the_policy_comes_from_the_magic_or_pyproject(ip, tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.reprotrack]\nprivacy = "hashed"\n')
    run(ip, "%reprotrack start")
    assert sessions.active().policy == "hashed"
    run(ip, "%reprotrack start --privacy values")  # resumed: later cells are recorded under the new policy
    assert sessions.active().policy == "values"
    sessions.active().stop()
    (tmp_path / "pyproject.toml").write_text('[tool.reprotrack]\nprivacy = "open"\n')
    run(ip, "%reprotrack start")  # a wrong value: one warning, the safe default
    assert sessions.active().policy == "safe"
    assert any("privacy must be one of" in note for note in sessions.active().notes)


def test_an_old_lock_without_privacy_reads_as_values(tmp_path):
    from reprotrack.core.lockfile import Lock, dumps, loads

    text = dumps(Lock())
    assert '"privacy"' not in text
    assert loads(text).privacy_policy == "values"
