"""A notebook that never imports pandas does not get it from the tracker (pandas' import is ~0.4 s of a
kernel), and its fingerprints are the ones a process with pandas loaded makes."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap


def test_a_session_without_pandas_never_imports_it(tmp_path):
    script = textwrap.dedent('''
        import json, sys
        from IPython.core.interactiveshell import InteractiveShell
        from traitlets.config import Config

        config = Config()
        config.HistoryManager.hist_file = ":memory:"
        shell = InteractiveShell.instance(config=config)
        shell.run_line_magic("load_ext", "reprotrack")
        shell.run_cell("%reprotrack start --lock run.lock", store_history=True)
        for cell in ["x = 1", "import numpy as np\\nnp.random.seed(0)\\na = np.random.rand(50, 3)",
                     "names = ['a', None, 'b', float('nan')]", "d = {'k': a[:3], 'label': 'x'}", "a * 2",
                     "import datetime\\nwhen = datetime.date(2024, 1, 2)\\nstamp = datetime.datetime(2024, 1, 2, 3, 4)"]:
            shell.run_cell(cell, store_history=True)
        shell.run_cell("%reprotrack save", store_history=True)
        from reprotrack.core.fingerprint import fingerprint
        ns = shell.user_ns
        without = {k: fingerprint(ns[k]) for k in ("x", "a", "names", "d", "when", "stamp")}
        loaded = "pandas" in sys.modules
        import pandas  # noqa: F401
        with_pandas = {k: fingerprint(ns[k]) for k in ("x", "a", "names", "d", "when", "stamp")}
        print(json.dumps({"loaded": loaded, "same": without == with_pandas}))
    ''')
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"loaded": False, "same": True}
    lock = json.loads((tmp_path / "run.lock").read_text())
    assert {"a", "names", "d"} <= {name for cell in lock["cells"] for name in cell["data"]}


def test_python_dates_and_durations_hash_alike_with_and_without_pandas(monkeypatch):
    """A Python datetime or timedelta gets the nanoseconds ``pd.Timestamp``/``pd.Timedelta`` give it (computed by
    hand, so without pandas loaded too), and its text exactly where pandas' nanoseconds end."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    import numpy as np
    import pandas as pd

    from reprotrack.core.fingerprint import canonical

    def reference(v):  # pandas' own conversion
        try:
            ts = pd.Timestamp(v) if isinstance(v, dt.datetime) else pd.Timedelta(v)
            if isinstance(ts, pd.Timestamp) and ts.tzinfo is not None:
                ts = ts.tz_convert("UTC").tz_localize(None)
            ns = ts.as_unit("ns").value  # raises outside the nanoseconds
        except (OverflowError, ValueError):  # pandas' OutOfBounds errors are ValueErrors
            return canonical.bytes_scalar_hash(str(v).encode(), "datetime-text")
        return int(canonical.time_hashes(np.array([ns], dtype="M8[ns]" if isinstance(v, dt.datetime) else "m8[ns]"))[0][0])

    berlin = ZoneInfo("Europe/Berlin")
    values = [
        dt.datetime(2024, 1, 2, 3, 4, 5, 678901), dt.datetime(1970, 1, 1), dt.datetime(1, 1, 1),
        dt.datetime(9999, 12, 31, 23, 59, 59, 999999), dt.datetime(1677, 9, 21, 0, 12, 43, 145225),
        dt.datetime(1677, 9, 21, 0, 12, 43, 145224), dt.datetime(2262, 4, 11, 23, 47, 16, 854775),
        dt.datetime(2262, 4, 11, 23, 47, 16, 854776), dt.datetime(2024, 3, 1, tzinfo=dt.timezone.utc),
        dt.datetime(2024, 3, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30))),
        dt.datetime(2024, 10, 27, 2, 30, tzinfo=berlin), dt.datetime(2024, 10, 27, 2, 30, fold=1, tzinfo=berlin),
        dt.datetime(1900, 6, 1, tzinfo=berlin), dt.timedelta(0), dt.timedelta(days=-3, microseconds=7),
        dt.timedelta(days=106751, seconds=86399), dt.timedelta(days=106752), dt.timedelta(days=-106752),
    ]
    expected = [reference(v) for v in values]
    assert [canonical.scalar_hash(v) for v in values] == expected
    monkeypatch.delitem(sys.modules, "pandas")
    assert [canonical.scalar_hash(v) for v in values] == expected


def test_dates_outside_the_nanoseconds_fall_back_to_their_text_never_wrap_around():
    """pandas 3 keeps a year-1 Timestamp in microseconds; numpy's conversion to nanoseconds wrapped it to 1754,
    where it would have met a real 1754 date."""
    import datetime as dt

    import pandas as pd

    from reprotrack.core.fingerprint import canonical

    far = dt.datetime(1, 1, 1)
    assert canonical.scalar_hash(far) == canonical.bytes_scalar_hash(str(far).encode(), "datetime-text")
    assert canonical.scalar_hash(pd.Timestamp(far)) == canonical.scalar_hash(far)
    wrapped = pd.Timestamp("1754-08-30 22:43:41.128654848")
    assert canonical.scalar_hash(wrapped) != canonical.scalar_hash(far)
    exact = pd.Timestamp("2024-01-02 03:04:05.123456789")  # nanoseconds a Python datetime cannot hold
    assert canonical.scalar_hash(exact) != canonical.scalar_hash(exact.to_pydatetime(warn=False))
    assert canonical.scalar_hash(pd.Timestamp("2024-01-02", tz="Asia/Kolkata")) == \
        canonical.scalar_hash(dt.datetime(2024, 1, 1, 18, 30))
