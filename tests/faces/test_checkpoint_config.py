"""``[tool.reprotrack] checkpoints`` / ``tolerances``: the names and tolerances of ``reprotrack check``."""

from __future__ import annotations

import pytest

from reprotrack.config import load_checkpoint_options
from reprotrack.core.diff.checkpoints import CheckpointRule
from reprotrack.errors import UsageError


def write(tmp_path, text: str):
    (tmp_path / "pyproject.toml").write_text(text)
    return tmp_path


def test_names_and_tolerances_are_read_and_map_flags_win(tmp_path):
    folder = write(tmp_path, """
[tool.reprotrack]
rtol = 1e-5
checkpoints = { features_v2 = "features", scored = "predictions" }
[tool.reprotrack.tolerances]
features = { rtol = 1e-9, atol = 0 }
customers = { order = "ignore" }
""")
    options = load_checkpoint_options(folder, names={"scored": "test_predictions"})
    assert options.names == {"features_v2": "features", "scored": "test_predictions"}
    assert options.rules == {"features": CheckpointRule(rtol=1e-9, atol=0.0), "customers": CheckpointRule(order="ignore")}
    assert options.diff.rtol == 1e-5


@pytest.mark.parametrize("table, words", [
    ('checkpoints = ["features"]', "checkpoints must be a table"),
    ('checkpoints = { a = 3 }', "checkpoints must be a table"),
    ('tolerances = { features = { rtol = -1 } }', "rtol must be a finite number"),
    ('tolerances = { features = { order = "sorted" } }', "order must be one of exact, ignore"),
    ('tolerances = { features = { tolerance = 1 } }', "rtol, atol and/or order"),
])
def test_wrong_values_name_the_file_and_key(tmp_path, table, words):
    folder = write(tmp_path, f"[tool.reprotrack]\n{table}\n")
    with pytest.raises(UsageError, match=words) as error:
        load_checkpoint_options(folder)
    assert "pyproject.toml" in str(error.value)
