"""Content first, the rest later: a large pandas value is frozen at the end of its cell (copy-on-write) and
fingerprinted whole in the background; a large array's content is hashed in the cell and the rest follows.
Either way the record holds what an eager fingerprint of the value *as the cell left it* would hold, the
next cell never runs while the thread reads, and a value provably unchanged is not hashed at all."""

from __future__ import annotations

import time

from conftest import run

from reprotrack.core import lockfile
from reprotrack.core.fingerprint import fingerprint
from reprotrack.core.privacy import protect
from reprotrack.kernel import session
from reprotrack.kernel.capture import data
from reprotrack.kernel.capture.data import BACKGROUND_BYTES, DataCapture

ROWS = BACKGROUND_BYTES // 8 + 1000  # one float column is past the threshold


def ok(ip, source):
    result = run(ip, source)
    assert result.success, result.error_in_exec or result.error_before_exec
    return result


def stored(fp):
    """A fingerprint as the session stores it: under its privacy policy (safe by default)."""
    return protect(fp, session.active().policy, session.active().salt)


def slow_capture(delay: float) -> list:
    """The session's data capture with full fingerprints slowed down (so a race would show), the calls on
    pandas and numpy values counted."""
    capture = next(c for c in session.active().captures if isinstance(c, DataCapture))
    calls = []

    def slow(obj, **kwargs):
        if type(obj).__module__.startswith(("pandas", "numpy")):
            calls.append(kwargs.get("parts"))
        if kwargs.get("parts") is None:
            time.sleep(delay)
        return fingerprint(obj, **kwargs)

    capture._fingerprint = slow
    return calls


def test_a_frame_mutated_by_the_next_cell_is_recorded_as_its_cell_left_it(ip, tmp_path):
    ok(ip, "import numpy as np\nimport pandas as pd")
    run(ip, "%reprotrack start")
    calls = slow_capture(1.0)
    t0 = time.perf_counter()
    ok(ip, f"df = pd.DataFrame({{'a': np.arange({ROWS}, dtype=float), 's': ['x', 'y'] * ({ROWS} // 2)}})")
    assert time.perf_counter() - t0 < 0.8  # nothing hashed in the cell: the whole fingerprint is deferred
    expected = fingerprint(ip.user_ns["df"].copy())
    before = session.active().tracker_seconds
    ok(ip, "df.loc[0, 'a'] = -1.0\ndf['s'] = df['s'].str.upper()")  # in place, while the thread may be reading
    assert session.active().tracker_seconds - before >= 0.2  # the wait before the next code is the tracker's
    first, second = session.active().cells[-2:]
    assert first.data["df"] == stored(expected)  # the value as the first cell left it, to the last key
    ok(ip, "pass")
    assert second.data["df"] == stored(fingerprint(ip.user_ns["df"]))
    assert calls.count(None) == 2
    lock = lockfile.loads(session.active().save(tmp_path / "bg.lock").read_text())
    assert lock.cells[-3].data["df"] == stored(expected)


def test_the_deferred_fingerprint_equals_the_eager_one_under_each_privacy_policy(ip, tmp_path):
    ok(ip, "import numpy as np\nimport pandas as pd")
    for policy in ("values", "safe", "hashed"):
        run(ip, f"%reprotrack start --privacy {policy}")
        source = (f"frame = pd.DataFrame({{'n': np.arange({ROWS}) % 7, 'c': pd.Categorical(['a', 'b'] * "
                  f"({ROWS} // 2)), 'i': pd.array([1, None] * ({ROWS} // 2), dtype='Int64')}})")
        ok(ip, source)
        ok(ip, "pass")
        eager = fingerprint(ip.user_ns["frame"])
        assert session.active().cells[-2].data["frame"] == protect(eager, policy, session.active().salt)
        run(ip, "%reprotrack stop")


def test_a_value_rebuilt_equal_is_proven_without_hashing_and_a_change_is_not(ip):
    ok(ip, "import numpy as np\nimport pandas as pd")
    run(ip, "%reprotrack start")
    calls = slow_capture(0.0)
    cell = f"df = pd.DataFrame({{'a': np.arange({ROWS}, dtype=float)}})\ndf['b'] = df['a'] * 2"
    ok(ip, cell)
    ok(ip, cell)  # the same values rebuilt: proven equal to the frozen ones, bit for bit
    ok(ip, "n = len(df)")  # passed to a call, unchanged: not recorded, not hashed
    assert calls == [None]
    cells = session.active().cells
    assert cells[-2].data["df"] == cells[-3].data["df"] == stored(fingerprint(ip.user_ns["df"]))
    assert "df" not in cells[-1].data
    ok(ip, "df.loc[3, 'b'] = -1.0")  # a change in place: hashed, recorded as it is now
    ok(ip, "pass")
    assert session.active().cells[-2].data["df"] == stored(fingerprint(ip.user_ns["df"]))
    assert calls == [None, ("content",), None]


def test_a_frame_changed_by_a_notebook_function_is_recorded(ip):
    ok(ip, "import numpy as np\nimport pandas as pd")
    ok(ip, f"df = pd.DataFrame({{'a': np.arange({ROWS}, dtype=float)}})\n"
           "def clean():\n    df.loc[df['a'] > 5, 'a'] = 5.0")
    run(ip, "%reprotrack start")
    ok(ip, "df['b'] = 1")
    ok(ip, "clean()")  # a possible change: not provable by the snapshot, so its content tells
    ok(ip, "clean()")  # the same again: the content is the one recorded, nothing new
    cells = session.active().cells
    assert cells[-2].data["df"] == stored(fingerprint(ip.user_ns["df"]))
    assert cells[-2].data["df"]["content"] != cells[-3].data["df"]["content"]
    ok(ip, "pass")
    assert "df" not in cells[-1].data


def test_a_failing_background_fingerprint_keeps_the_content_and_notes_it(ip, monkeypatch):
    ok(ip, "import numpy as np\nimport pandas as pd")
    run(ip, "%reprotrack start")
    capture = next(c for c in session.active().captures if isinstance(c, DataCapture))

    def broken(obj, **kwargs):
        if kwargs.get("parts") is None:
            raise MemoryError("no room")
        return fingerprint(obj, **kwargs)

    capture._fingerprint = broken
    monkeypatch.setattr(data, "FROZEN_BUDGET", 0)  # no room for a copy: the array stays live
    ok(ip, f"arr = np.ones({ROWS})")  # a live array: its content is hashed in the cell
    monkeypatch.undo()
    ok(ip, f"df = pd.DataFrame({{'a': np.ones({ROWS})}})")  # a frozen frame: all of it was left to the thread
    ok(ip, "pass")
    arr_record, df_record = session.active().cells[-3:-1]
    assert arr_record.data["arr"]["content"] == fingerprint(ip.user_ns["arr"])["content"]
    assert arr_record.data["arr"]["stats"] is None
    assert any("left at its content" in note for note in arr_record.notes)
    assert "df" not in df_record.data
    assert any("'df' not fingerprinted" in note and "no room" in note for note in df_record.notes)


def test_a_write_through_a_numpy_buffer_shared_with_a_series_is_seen(ip):
    ok(ip, "import numpy as np\nimport pandas as pd")
    run(ip, "%reprotrack start")
    ok(ip, f"values = np.zeros({ROWS})\ns = pd.Series(values, copy=False)\ndef peek(v):\n    return len(v)")
    ok(ip, "values[0] = 7.0\nn = peek(s)")  # pandas never sees this write; the frozen copy tells
    ok(ip, "pass")
    cells = session.active().cells
    assert cells[-2].data["s"] == stored(fingerprint(ip.user_ns["s"]))
    assert cells[-2].data["s"]["content"] != cells[-3].data["s"]["content"]
    assert cells[-2].data["values"] == stored(fingerprint(ip.user_ns["values"]))
