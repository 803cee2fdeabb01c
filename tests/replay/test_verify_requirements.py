"""A requirement through a real record and replay: the research run promises ``auc >= 0.80``; the data file
changes so the replayed auc falls below it; verify names ``output/requirement-failed`` beside the changed
input, and ``reprotrack expect --ratchet --from`` raises the bar from a better replay."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import write_notebook

from reprotrack import cli, store
from reprotrack.verify import record_notebook, verify_notebook

pytestmark = pytest.mark.kernel

CELLS = [
    "%load_ext reprotrack\n%reprotrack start",
    "import pandas as pd\nfrom sklearn.metrics import roc_auc_score\ndf = pd.read_csv('scores.csv')",
    "auc = roc_auc_score(df['label'], df['score'])\nprint(round(auc, 3))",
    "%reprotrack expect auc >= 0.80",
    "%reprotrack save",
]


def scores(path, noise: float) -> None:
    rng = np.random.default_rng(0)
    label = rng.integers(0, 2, 2000)
    pd.DataFrame({"label": label, "score": label + rng.normal(0, noise, 2000)}).to_csv(path, index=False)


def test_a_replay_that_breaks_the_requirement_fails_verify(tmp_path, capsys):
    notebook = write_notebook(tmp_path / "model.ipynb", CELLS)
    scores(tmp_path / "scores.csv", noise=0.5)  # auc ~0.92
    recorded = record_notebook(notebook)
    assert recorded.exit_code == 0, recorded.replay.execution_error
    research = store.read_lock(tmp_path / "model.reprotrack.lock")
    assert research.requirements["auc"]["min"] == 0.8 and research.requirements["auc"]["value"] > 0.9

    scores(tmp_path / "scores.csv", noise=2.5)  # the same rows, much noisier scores: auc ~0.63
    result = verify_notebook(notebook, save_replay=str(tmp_path / "replay.lock"))
    causes = {(f.kind, f.cause, f.subject) for f in result.report.findings}
    assert ("output", "requirement-failed", "auc") in causes
    assert ("data", "input-file-changed") in {(k, c) for k, c, _ in causes}
    assert result.exit_code == 1
    failed = next(f for f in result.report.findings if f.cause == "requirement-failed")
    assert "is below the minimum 0.8" in failed.message

    scores(tmp_path / "scores.csv", noise=0.3)  # better data: a better auc to ratchet to
    better = verify_notebook(notebook, save_replay=str(tmp_path / "better.lock"))
    assert "requirement-failed" not in {f.cause for f in better.report.findings}
    assert cli.main(["expect", str(tmp_path / "model.reprotrack.lock"), "--ratchet", "--from",
                     str(tmp_path / "better.lock")]) == 0
    raised = store.read_lock(tmp_path / "model.reprotrack.lock").requirements["auc"]
    assert raised["min"] == raised["value"] > research.requirements["auc"]["value"]
