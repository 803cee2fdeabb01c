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
                     "import datetime\\nwhen = datetime.date(2024, 1, 2)"]:
            shell.run_cell(cell, store_history=True)
        shell.run_cell("%reprotrack save", store_history=True)
        from reprotrack.core.fingerprint import fingerprint
        ns = shell.user_ns
        without = {k: fingerprint(ns[k]) for k in ("x", "a", "names", "d", "when")}
        loaded = "pandas" in sys.modules
        import pandas  # noqa: F401
        with_pandas = {k: fingerprint(ns[k]) for k in ("x", "a", "names", "d", "when")}
        print(json.dumps({"loaded": loaded, "same": without == with_pandas}))
    ''')
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"loaded": False, "same": True}
    lock = json.loads((tmp_path / "run.lock").read_text())
    assert {"a", "names", "d"} <= {name for cell in lock["cells"] for name in cell["data"]}
