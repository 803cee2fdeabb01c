"""The live panel: widget state without a browser, the text fallback, silence in a terminal, real kernels."""

from __future__ import annotations

import time

import pytest
from conftest import execute_notebook, run, write_notebook

from reprotrack.core.lockfile import CellRecord
from reprotrack.kernel import widget
from reprotrack.kernel.session import Session
from reprotrack.kernel.widget import PANEL_METADATA, Panel, attach_panel, current_panel, is_panel_output


def _record(order: int, **facts) -> CellRecord:
    record = CellRecord(id=f"c{order}", order=order, source_sha256="0" * 64, execution_count=order)
    for key, value in facts.items():
        setattr(record, key, value)
    return record


def _values(panel: Panel) -> dict[str, str]:
    """Label values as the frontend receives them: from each widget's serialised state."""
    return {key: label.get_state()["value"] for key, label in panel.labels.items()}


@pytest.fixture
def session(ip):
    s = Session(ip).start()
    yield s
    s.stop()


def test_widget_panel_state_follows_the_records(session):
    panel = attach_panel(session, mode="widget")
    assert panel is current_panel(session) and panel.mode == "widget"
    state = panel.widget.get_state()
    assert state["_model_name"] == "HBoxModel" and len(state["children"]) == 7
    assert "0 cells tracked" in _values(panel)["cells"]

    panel(session, _record(1, seeds=[{"api": "numpy.random.seed", "value": 0}]))
    panel(session, _record(2, randomness=[{"source": "random.random()", "seeded": False, "calls": 3}],
                           data={"df": {"type": "DataFrame"}, "y": {"type": "Series"}}))
    panel(session, _record(3, splits=[{"api": "train_test_split"}], status="error"))
    values = _values(panel)
    assert values["cells"] == "3 cells tracked (1 with errors)"
    assert values["seeds"] == "1 seed set"
    assert "unseeded: random.random() in In [2]" in values["unseeded"] and "#b45309" in values["unseeded"]
    assert values["data"] == "2 data changes" and values["splits"] == "1 split"
    assert "lock not saved" in values["lock"]
    assert "reprotrack" in panel.text() and "In [2]" in panel.text()


def test_reruns_and_out_of_order_runs_are_said_in_the_notebooks_numbering(session):
    panel = attach_panel(session, mode="widget")

    def run_of(cell_id: str, index: int, order: int, **facts) -> CellRecord:
        return CellRecord(id=cell_id, order=order, source_sha256="0" * 64, index=index, execution_count=order + 3,
                          **facts)

    for order, (cid, index) in enumerate([("a", 0), ("e", 4), ("e", 4), ("c", 2)], 1):
        panel(session, run_of(cid, index, order, randomness=[{"source": "random.random()", "seeded": False}]))
    values = _values(panel)
    assert values["cells"] == "4 cells tracked (cell 5 ran twice; cell 3 ran after cell 5)"
    assert "random.random() in cell 1 [4]" in values["unseeded"] and "+1 more" in values["unseeded"]
    for order in range(5, 40):  # bounded however the research went
        panel(session, run_of(f"x{order % 9}", order % 7, order))
    assert len(_values(panel)["cells"]) < 200 and len(_values(panel)["unseeded"]) < 200


def test_status_says_how_the_run_departed_from_top_down(ip, tmp_path, capsys):
    nb = write_notebook(tmp_path / "study.ipynb", ["a = 1", "b = 2", "c = 3"], ids=["a", "b", "c"])
    ip.user_ns["__session__"] = str(nb)
    run(ip, "%reprotrack start")
    for cell_id in ("a", "c", "c", "b"):
        ip.run_cell({"a": "a = 1", "b": "b = 2", "c": "c = 3"}[cell_id], store_history=True, cell_id=cell_id)
    capsys.readouterr()
    run(ip, "%reprotrack status")
    assert "4 cell run(s) (cell 3 ran twice; cell 2 ran after cell 3)" in capsys.readouterr().out


def test_only_changed_labels_are_sent(session):
    panel = attach_panel(session, mode="widget")
    before = panel.updates
    panel(session, _record(1))
    assert panel.updates == before + 1  # only "cells" changed
    session.saved_path = session.lock_path
    session.unsaved_cells = 0
    panel(session, None)
    assert panel.updates == before + 2 and _values(panel)["lock"] == "lock saved"
    session.unsaved_cells = 1
    panel(session, _record(2))
    panel(session, _record(3))
    assert panel.updates == before + 5  # cells twice, lock once (its text says "unsaved", no count)
    assert "unsaved" in _values(panel)["lock"]


def test_unseeded_warnings_are_bounded_and_secret_safe(session):
    panel = attach_panel(session, mode="widget")
    for i in range(1, 7):
        panel(session, _record(i, randomness=[{"source": "<script>x</script>" * 9, "seeded": False, "value": "s3cr3t"}]))
    html = _values(panel)["unseeded"]
    assert "+3 more" in html and "<script>" not in html and "s3cr3t" not in html


def test_panel_never_raises_into_a_cell(session):
    panel = attach_panel(session, mode="widget")

    class Hostile:
        @property
        def seeds(self):
            raise RuntimeError("boom")

    panel(session, Hostile())  # swallowed; the panel goes quiet and says so once
    assert panel.failed
    assert any("live panel stopped updating" in note for note in session.notes)
    panel(session, _record(2))
    result = run(session.shell, "x = 1")
    assert result.success


def test_real_cells_update_the_panel_and_save(session, tmp_path):
    panel = attach_panel(session, mode="widget")
    run(session.shell, "import random\nrandom.seed(1)\nv = random.random()")
    run(session.shell, "w = 2")
    values = _values(panel)
    assert values["cells"] == "2 cells tracked"
    session.save(tmp_path / "x.lock")
    assert _values(panel)["lock"] == "lock saved"
    # the per-cell cost of the panel is small next to any cell
    t0 = time.perf_counter()
    for i in range(200):
        panel(session, _record(i + 10))
    assert (time.perf_counter() - t0) / 200 < 0.005


def test_text_fallback_updates_one_display_in_place(session, capsys):
    panel = attach_panel(session, mode="text")
    assert panel.mode == "text" and panel.handle is not None
    first = panel.text()
    panel(session, _record(1, seeds=[{"api": "random.seed", "value": 1}]))
    assert panel.updates == 1 and "1 cell tracked" in panel.text() and panel.text() != first
    panel(session, None)  # nothing changed: nothing sent
    assert panel.updates == 1


def test_terminal_ipython_shows_nothing_extra(ip, capsys):
    ip.run_line_magic("reprotrack", "start")
    out = capsys.readouterr().out
    assert out.strip().splitlines() == [line for line in out.strip().splitlines() if line.startswith("reprotrack:")]
    assert current_panel() is None  # no kernel: no panel
    assert widget.choose_mode(Session(ip), environ={}) is None


def test_one_panel_per_session_and_opt_out(session, monkeypatch):
    first = attach_panel(session, mode="widget")
    assert first is not None
    assert attach_panel(session, mode="widget") is first  # kept (shown again where a kernel can show it)
    assert [listener for listener in session.listeners if isinstance(listener, Panel)] == [first]
    other = Session(session.shell)
    assert widget.choose_mode(other, environ={"REPROTRACK_PANEL": "0"}) is None
    other.mode = "replay"
    assert widget.choose_mode(other, environ={}) is None


def test_is_panel_output():
    assert is_panel_output({"output_type": "display_data", "metadata": PANEL_METADATA, "data": {}})
    assert not is_panel_output({"output_type": "display_data", "metadata": {}, "data": {}})
    assert not is_panel_output({"output_type": "stream"})


# -- real kernels ---------------------------------------------------------------------------------------
def _panel_outputs(nb):
    return [(i, out) for i, cell in enumerate(nb.cells) for out in cell.get("outputs", []) if is_panel_output(out)]


@pytest.mark.kernel
def test_kernel_shows_a_widget_panel(tmp_path):
    path = write_notebook(
        tmp_path / "nb.ipynb",
        [
            "%load_ext reprotrack",
            "%reprotrack start",
            "import random\nrandom.random()",
            "from reprotrack.kernel.widget import current_panel\n"
            "p = current_panel()\n"
            "print(p.mode, '|', p.labels['cells'].get_state()['value'], '|', p.labels['unseeded'].value)",
            "%reprotrack start",  # run again while tracking
        ],
    )
    nb = execute_notebook(path)
    found, again = _panel_outputs(nb)
    index, output = found
    assert again[0] == 4 and "already tracking" in "".join(o.get("text", "") for o in nb.cells[4].outputs)
    view = "application/vnd.jupyter.widget-view+json"
    assert again[1]["data"][view]["model_id"] == output["data"][view]["model_id"]  # the same panel, kept
    assert index == 1 and output["output_type"] == "display_data"
    assert "application/vnd.jupyter.widget-view+json" in output["data"]
    assert output["data"]["text/plain"].startswith("reprotrack · 0 cells tracked")  # readable without widgets
    printed = "".join(o.get("text", "") for o in nb.cells[3].outputs)
    assert printed.startswith("widget | 1 cell tracked")
    if "unseeded:" in printed:  # named when the seeds capture saw the draw
        assert "In [3]" in printed


@pytest.mark.kernel
def test_kernel_without_widgets_falls_back_to_text_updated_in_place(tmp_path):
    path = write_notebook(
        tmp_path / "nb.ipynb",
        [
            "import sys\nsys.modules['ipywidgets'] = None  # a kernel without ipywidgets\n%load_ext reprotrack",
            "%reprotrack start",
            "a = 1",
            "b = 2",
            "%reprotrack save",
        ],
    )
    nb = execute_notebook(path)
    (found,) = _panel_outputs(nb)
    index, output = found
    assert index == 1 and output["output_type"] == "display_data"
    assert "application/vnd.jupyter.widget-view+json" not in output["data"]
    text = output["data"]["text/plain"]
    # updated in place by update_display_data: the final state, in the output of the start cell
    assert "2 cells tracked" in text and "lock saved" in text
    assert sum(1 for cell in nb.cells for o in cell.outputs if o.get("output_type") == "display_data") == 1
