"""``reprotrack demo`` (the README's first command) and the quickstart notebook it runs."""

from __future__ import annotations

import importlib.util
import json

import nbformat
import pytest

from reprotrack import cli, demo, store


def test_the_quickstart_is_a_seeded_research_workflow():
    nb = nbformat.read(str(demo.quickstart_notebook()), as_version=4)
    nbformat.validate(nb)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    for needle in ("%load_ext reprotrack", "%reprotrack start", "np.random.seed", "train_test_split",
                   "random_state=SEED", "accuracy_score", "%reprotrack save"):
        assert needle in code
    assert all(isinstance(c.get("id"), str) for c in nb.cells)


@pytest.mark.skipif(
    any(importlib.util.find_spec(m) is None for m in ("reprotrack.core.diff", "reprotrack.report", "reprotrack.config")),
    reason="the diff and its report are not built yet",
)
@pytest.mark.kernel
def test_demo_records_verifies_and_prints_a_reproduced_report(tmp_path, capsys):
    assert cli.main(["demo", "--workdir", str(tmp_path), "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["status"] == "reproduced" and report["findings"] == []
    lock = store.read_lock(tmp_path / "quickstart.reprotrack.lock")
    assert [c.id for c in lock.cells] == ["seeds", "load", "features", "split", "model", "metric"]
    assert "test_predictions" in lock.checkpoints
    assert any("accuracy" in json.dumps(c.outputs) for c in lock.cells if c.id == "metric")


@pytest.mark.kernel
def test_the_text_demo_also_shows_a_notebook_broken_on_purpose(tmp_path, capsys):
    assert cli.main(["demo", "--workdir", str(tmp_path)]) == 0  # the quickstart's verdict sets the exit code
    out = capsys.readouterr().out
    assert out.index("REPRODUCED") < out.index("DIFFERS")
    for cause in ("input-file-changed", "seed-changed", "source-changed", "unseeded-randomness"):
        assert cause in out
