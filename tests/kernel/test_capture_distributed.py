"""Dask frames in tracked cells (real IPython shells, real Dask): fingerprinted after the cell only with
``%reprotrack start --distributed``; without it nothing is computed and they are named as left to
``%reprotrack checkpoint``, once on stderr and in the status line and panel."""

from __future__ import annotations

import pytest
from conftest import run

from reprotrack.core.fingerprint import fingerprint
from reprotrack.kernel import session
from reprotrack.kernel.widget import PanelState

dask = pytest.importorskip("dask", reason="dask is not installed (pip install 'reprotrack[dask]')")
pytest.importorskip("dask.dataframe", reason="dask[dataframe] is not installed (pip install 'reprotrack[dask]')")
from dask.callbacks import Callback  # noqa: E402

SETUP = "import pandas as pd, dask.dataframe as dd\npdf = pd.DataFrame({'a': range(1000), 'b': [0.5] * 1000})"


@pytest.fixture
def computations():
    """Every Dask computation started in the test (a global scheduler callback)."""
    started = []
    cb = Callback(start=lambda dsk: started.append(len(dsk)))
    cb.register()
    with dask.config.set(scheduler="threads", num_workers=2):
        yield started
    cb.unregister()


def ok(ip, source):
    result = run(ip, source)
    assert result.success, result.error_in_exec or result.error_before_exec


def test_without_the_flag_nothing_is_computed_and_the_frames_are_named_once(ip, computations, capsys):
    ip.run_line_magic("reprotrack", "start")
    ok(ip, SETUP)
    ok(ip, "ddf = dd.from_pandas(pdf, npartitions=3)\nsmall = ddf[ddf.a > 10]")
    record = session.active().cells[-1]
    assert "ddf" not in record.data and "small" not in record.data
    assert record.run["distributed"] == {"skipped": ["ddf", "small"]}
    ok(ip, "other = ddf.assign(c=1)")
    assert computations == []
    err = capsys.readouterr().err
    assert err.count("distributed (Dask/Spark) frame") == 1 and "--distributed" in err
    assert "3 distributed object(s) left to %reprotrack checkpoint" in session.active().summary()
    ip.run_line_magic("reprotrack", "checkpoint whole ddf")  # the explicit way computes, on request
    assert computations
    expected = fingerprint(ip.user_ns["pdf"])
    got = {k: v for k, v in session.active().checkpoints["whole"].items() if k != "engine"}
    assert got["content"] == expected["content"] and got["rows"] == expected["rows"]


def test_with_the_flag_frames_the_cell_made_are_fingerprinted_and_timed(ip, computations):
    ip.run_line_magic("reprotrack", "start --distributed")
    ok(ip, SETUP)
    ok(ip, "ddf = dd.from_pandas(pdf, npartitions=3)")
    record = session.active().cells[-1]
    assert record.data["ddf"]["engine"] == "dask"
    assert record.data["ddf"]["content"] == fingerprint(ip.user_ns["pdf"])["content"]
    info = record.run["distributed"]
    assert info["fingerprinted"] == ["ddf"] and info["seconds"] >= 0
    assert "distributed data: 1 frame(s) fingerprinted in" in session.active().summary()
    started = len(computations)
    ok(ip, "def noop(x):\n    return x\nnoop(ddf);")  # a possible candidate, still the same (immutable) frame
    assert "ddf" not in session.active().cells[-1].data and len(computations) == started
    ok(ip, "ddf['c'] = ddf.a * 2")
    assert session.active().cells[-1].data["ddf"]["shape"] == [1000, 3]


def test_a_running_session_can_be_switched_on(ip, computations):
    ip.run_line_magic("reprotrack", "start")
    ip.run_line_magic("reprotrack", "start --distributed")
    ok(ip, SETUP + "\nddf = dd.from_pandas(pdf, npartitions=2)")
    assert "ddf" in session.active().cells[-1].data


def test_the_panel_says_what_happened_to_distributed_frames():
    class Record:
        status, seeds, data, splits, randomness = "ok", [], {}, [], []
        run = {"distributed": {"skipped": ["ddf"]}}

    state = PanelState()
    state.add(Record())
    assert "1 distributed object(s) left to %reprotrack checkpoint" in state.texts()["data"]
    Record.run = {"distributed": {"fingerprinted": ["a", "b"], "seconds": 1.25}}
    state.add(Record())
    assert "2 frame(s) fingerprinted in 1.2 s" in state.texts()["data"]
