"""Content first: a large frame's content is hashed in the cell, the rest of its fingerprint in the background,
never racing the user's next code, and reused when the content shows the value is the one recorded last."""

from __future__ import annotations

import time

from conftest import run

from reprotrack.core import lockfile
from reprotrack.core.fingerprint import fingerprint
from reprotrack.kernel import session
from reprotrack.kernel.capture.data import BACKGROUND_BYTES, DataCapture

ROWS = BACKGROUND_BYTES // 8 + 1000  # one float column is past the threshold


def ok(ip, source):
    result = run(ip, source)
    assert result.success, result.error_in_exec or result.error_before_exec
    return result


def slow_capture(delay: float) -> list:
    """The session's data capture with full fingerprints slowed down (so a race would show), calls counted."""
    capture = next(c for c in session.active().captures if isinstance(c, DataCapture))
    calls = []

    def slow(obj, **kwargs):
        calls.append(kwargs.get("parts"))
        if kwargs.get("parts") is None:
            time.sleep(delay)
        return fingerprint(obj, **kwargs)

    capture._fingerprint = slow
    return calls


def test_the_background_fingerprint_never_races_the_next_cell(ip, tmp_path):
    ok(ip, "import numpy as np\nimport pandas as pd")
    run(ip, "%reprotrack start")
    calls = slow_capture(0.4)
    ok(ip, f"df = pd.DataFrame({{'a': np.arange({ROWS}, dtype=float)}})")
    record = session.active().cells[-1]
    expected = fingerprint(ip.user_ns["df"].copy())
    assert record.data["df"]["content"] == expected["content"]
    assert calls == [("content",), None]  # the content in the cell, the rest queued
    before = session.active().tracker_seconds
    ok(ip, "df['a'] *= 2")  # changes the value in place: only after the background work finished
    assert session.active().tracker_seconds - before >= 0.3  # the wait is the tracker's time
    assert record.data["df"] == expected
    path = session.active().save(tmp_path / "bg.lock")
    lock = lockfile.loads(path.read_text())
    assert lock.cells[-2].data["df"] == expected
    assert lock.cells[-1].data["df"] == fingerprint(ip.user_ns["df"])


def test_an_equal_content_reuses_the_full_fingerprint(ip):
    ok(ip, "import numpy as np\nimport pandas as pd")
    run(ip, "%reprotrack start")
    calls = slow_capture(0.0)
    cell = f"df = pd.DataFrame({{'a': np.arange({ROWS}, dtype=float)}})\ndf['b'] = df['a'] * 2"
    ok(ip, cell)
    ok(ip, cell)  # the same value rebuilt: proven by its content alone
    assert calls == [("content",), None, ("content",)]
    cells = session.active().cells
    assert cells[-1].data["df"] == cells[-2].data["df"] == fingerprint(ip.user_ns["df"])
    ok(ip, "df.loc[3, 'b'] = -1.0")  # a possible change in place: the content tells, the rest follows
    ok(ip, "pass")
    assert session.active().cells[-2].data["df"] == fingerprint(ip.user_ns["df"])


def test_a_failing_background_fingerprint_keeps_the_content_and_notes_it(ip):
    ok(ip, "import numpy as np")
    run(ip, "%reprotrack start")
    capture = next(c for c in session.active().captures if isinstance(c, DataCapture))

    def broken(obj, **kwargs):
        if kwargs.get("parts") is None:
            raise MemoryError("no room")
        return fingerprint(obj, **kwargs)

    capture._fingerprint = broken
    ok(ip, f"arr = np.ones({ROWS})")
    ok(ip, "pass")
    record = session.active().cells[-2]
    assert record.data["arr"]["content"] == fingerprint(ip.user_ns["arr"])["content"]
    assert record.data["arr"]["stats"] is None
    assert any("left at its content" in note for note in record.notes)
