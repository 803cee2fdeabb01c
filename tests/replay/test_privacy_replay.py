"""A replay records under the research lock's privacy policy and salt (real kernels): hashed labels compare,
so a new category is still found, and no label reaches the locks or the report."""

from __future__ import annotations

import json

import pytest
from conftest import write_notebook

from reprotrack import cli, store

pytestmark = pytest.mark.kernel

CELLS = [
    "import os\nimport pandas as pd",
    "extra = ['Lyon'] * 20 if os.environ.get('NEW_CITY') else []\n"
    "df = pd.DataFrame({'city': ['Paris'] * 50 + ['Nantes'] * 30 + extra})",
]


def test_a_hashed_research_lock_is_replayed_with_its_salt_and_new_categories_are_still_found(
        tmp_path, capsys, monkeypatch, no_orphans):
    nb = write_notebook(tmp_path / "cities.ipynb", CELLS, ids=["imp", "frame"])
    assert cli.main(["record", str(nb), "--privacy", "hashed"]) == 0
    research = store.read_lock(tmp_path / "cities.reprotrack.lock")
    assert research.privacy["policy"] == "hashed" and research.privacy["salt"]

    monkeypatch.setenv("NEW_CITY", "1")
    replay = tmp_path / "replay.lock"
    capsys.readouterr()
    assert cli.main(["verify", str(nb), "--format", "json", "--save-replay", str(replay)]) == 1
    report = json.loads(capsys.readouterr().out)
    assert store.read_lock(replay).privacy == research.privacy  # the research lock's salt: keys compare
    new = [f for f in report["findings"] if f["cause"] == "new-categories"]
    assert new and "1 new category (labels withheld by the privacy policy)" in new[0]["message"]
    for text in ((tmp_path / "cities.reprotrack.lock").read_text(), replay.read_text(), json.dumps(report)):
        assert "Paris" not in text and "Lyon" not in text and "Nantes" not in text
