"""``%reprotrack expect`` in a real IPython shell: the requirement and the research value go into the lock, a
value that already breaks its own requirement warns (never raises), bad expressions are one line."""

from __future__ import annotations

import numpy as np
from conftest import run

from reprotrack import store


def test_expect_records_the_requirement_and_the_research_value(ip, tmp_path, capsys):
    run(ip, "%reprotrack start --lock research.lock")
    run(ip, "import numpy as np\nauc = np.float64(0.8642)\nrmse = 1.25")
    run(ip, "%reprotrack expect auc >= 0.80")
    run(ip, "%reprotrack expect rmse within 0.1")
    out = capsys.readouterr().out
    assert "requirement auc >= 0.8 (research value 0.8642)" in out
    run(ip, "%reprotrack save")
    lock = store.read_lock(tmp_path / "research.lock")
    assert lock.requirements == {"auc": {"value": 0.8642, "min": 0.8}, "rmse": {"value": 1.25, "within": 0.1}}


def test_a_broken_or_unreadable_requirement_never_breaks_the_cell(ip, tmp_path, capsys):
    run(ip, "%reprotrack start --lock research.lock")
    run(ip, "auc = 0.71\nlabel = 'high'")
    result = run(ip, "%reprotrack expect auc >= 0.80")
    assert result.success
    assert "requirement not met: auc = 0.71 is below the minimum 0.8" in capsys.readouterr().err
    for line, message in (("%reprotrack expect auc > 0.8", "write NAME >= VALUE"),
                          ("%reprotrack expect missing >= 1", "no variable 'missing'"),
                          ("%reprotrack expect label >= 1", "requirement 'label' not recorded: label must be a number")):
        assert run(ip, line).success
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0], err
    run(ip, "%reprotrack save")
    assert set(store.read_lock(tmp_path / "research.lock").requirements) == {"auc"}
    assert np.isclose(store.read_lock(tmp_path / "research.lock").requirements["auc"]["value"], 0.71)
