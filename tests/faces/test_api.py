"""The Python API for scripts and production code: start, checkpoint, save, outside IPython."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from reprotrack import store


def test_script_checkpoints_and_save(tmp_path):
    script = tmp_path / "job.py"
    script.write_text(
        textwrap.dedent(
            """
            import numpy as np
            import reprotrack
            reprotrack.start(lock="prod.lock")
            features = np.arange(12, dtype=float).reshape(4, 3)
            reprotrack.checkpoint("features", features)
            print(reprotrack.status())
            print(reprotrack.save())
            """
        )
    )
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "1 checkpoint(s)" in proc.stdout
    lock = store.read_lock(tmp_path / "prod.lock")
    assert lock.mode == "script"
    # a plain script is tracked in stages: the one before the checkpoint is recorded and attributed to it
    assert [c.id for c in lock.cells] == ["stage-1"] and lock.checkpoint_at == {"features": 1}
    assert lock.complete is True
    fp = lock.checkpoints["features"]
    assert fp["shape"] == [4, 3]
    import numpy as np

    import reprotrack

    assert fp["content"] == reprotrack.fingerprint(np.arange(12, dtype=float).reshape(4, 3))["content"]
    assert lock.environment["packages"]["numpy"] == np.__version__
