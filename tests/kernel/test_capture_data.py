"""Per-cell data fingerprints in real IPython shells: the names a cell created or changed are fingerprinted
(also changes in place), the rest of the namespace is not touched, deletions are recorded."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import run

from reprotrack.core import lockfile
from reprotrack.core.fingerprint import fingerprint
from reprotrack.core.privacy import protect
from reprotrack.kernel import session
from reprotrack.kernel.capture.data import DELETED, DataCapture


def ok(ip, source):
    result = run(ip, source)
    assert result.success, result.error_in_exec or result.error_before_exec
    return result


def last_data():
    return session.active().cells[-1].data


def stored(fp):
    """A fingerprint as the session stores it: under its privacy policy (safe by default)."""
    return protect(fp, session.active().policy, session.active().salt)


def counting(ip):
    """The session's data capture, with its fingerprint calls counted (the real fingerprint still runs)."""
    capture = next(c for c in session.active().captures if isinstance(c, DataCapture))
    calls = []

    def counted(obj, **kwargs):
        calls.append((obj, kwargs.get("parts")))
        return fingerprint(obj, **kwargs)

    capture._fingerprint = counted
    return calls


def test_assigned_names_are_fingerprinted(ip):
    ok(ip, "import pandas as pd\nimport numpy as np")
    run(ip, "%reprotrack start")
    ok(ip, "df = pd.DataFrame({'a': [1.0, 2.0], 'b': ['x', 'y']})\nx = 3\na, (b, c) = np.arange(3), ('s', 1.5)")
    data = last_data()
    assert set(data) == {"df", "x", "a", "b", "c"}
    assert data["df"] == stored(fingerprint(ip.user_ns["df"]))
    assert data["df"]["type"] == "pandas.DataFrame" and data["df"]["shape"] == [2, 2]
    assert data["a"]["content"] == fingerprint(np.arange(3))["content"]
    assert data["x"]["content"] == fingerprint(3)["content"]


@pytest.mark.parametrize(
    "setup, change, name",
    [
        ("df = pd.DataFrame({'a': [1.0, None]})", "df['c'] = 1", "df"),
        ("df = pd.DataFrame({'a': [1.0, None]})", "df.fillna(0, inplace=True)", "df"),
        ("df = pd.DataFrame({'a': [1.0, None]})", "df.loc[0, 'a'] = 7.0", "df"),
        ("arr = np.array([3, 1, 2])", "arr.sort()", "arr"),
        ("arr = np.array([3, 1, 2])", "arr[0] = 9", "arr"),
        ("lst = [1, 2]", "lst.append(3)", "lst"),
        ("d = {'k': 1}", "d.update(j=2)", "d"),
        ("arr = np.arange(10)", "np.random.default_rng(0).shuffle(arr[2:])", "arr"),
    ],
)
def test_changes_in_place_are_fingerprinted(ip, setup, change, name):
    ok(ip, "import pandas as pd\nimport numpy as np")
    run(ip, "%reprotrack start")
    ok(ip, setup)
    before = last_data()[name]["content"]
    ok(ip, change)
    data = last_data()
    assert name in data
    assert data[name]["content"] != before
    assert data[name] == stored(fingerprint(ip.user_ns[name]))


def test_untouched_names_are_not_fingerprinted(ip):
    ok(ip, "import pandas as pd\nimport numpy as np\n"
           "frames = None\n" + "\n".join(f"df{i} = pd.DataFrame({{'a': np.arange(1000) * {i}}})" for i in range(20)))
    run(ip, "%reprotrack start")
    calls = counting(ip)
    ok(ip, "y = 2")
    assert set(last_data()) == {"y"} and len(calls) == 1
    calls.clear()
    ok(ip, "df3.head()\ndf4.describe()\nprint(len(df5))\nz = df6.shape")
    assert set(last_data()) == {"z"}
    assert [type(obj) for obj, _ in calls] == [tuple]  # df3..df6 read only: never hashed
    calls.clear()
    ok(ip, "df7['b'] = 1")
    assert set(last_data()) == {"df7"} and len(calls) == 1


def test_an_unchanged_possible_candidate_is_proven_by_its_content_and_not_recorded(ip):
    ok(ip, "def peek(v):\n    return len(v)\ndef grow(v):\n    v.append(0)\nlst = [1, 2]")
    run(ip, "%reprotrack start")
    ok(ip, "lst = [1, 2, 3]")
    calls = counting(ip)
    ok(ip, "peek(lst)")
    assert "lst" not in last_data()
    assert calls == [(ip.user_ns["lst"], ("content",))]  # one content hash proved it unchanged
    ok(ip, "grow(lst)")
    assert last_data()["lst"] == fingerprint([1, 2, 3, 0])


def test_a_possible_candidate_never_seen_before_is_recorded(ip):
    ok(ip, "lst = [1]")
    run(ip, "%reprotrack start")
    ok(ip, "lst.append(2)")
    assert last_data()["lst"]["content"] == fingerprint([1, 2])["content"]


def test_globals_changed_by_a_notebook_function_are_found_through_its_code(ip):
    ok(ip, "import pandas as pd\ndf = pd.DataFrame({'a': [1, 2]})\ncounter = 0")
    run(ip, "%reprotrack start")
    ok(ip, "def add_column():\n    helper()\ndef helper():\n    df['b'] = df['a'] * 2\n"
           "def bump():\n    global counter\n    counter += 1")
    ok(ip, "add_column()")
    assert set(last_data()) == {"df"} and last_data()["df"]["shape"] == [2, 2]
    ok(ip, "bump()")
    assert last_data() == {"counter": fingerprint(1)}


def test_deleted_names_are_recorded_as_deleted(ip):
    ok(ip, "import numpy as np\na = np.zeros(3)\nb = 1\nimport math")
    run(ip, "%reprotrack start")
    ok(ip, "del a\ndel math")
    assert last_data() == {"a": DELETED}  # a module is not data: its deletion is not either
    ok(ip, "c = [1]")
    ok(ip, "c = len")
    assert last_data()["c"]["type"] == "builtin_function_or_method" and last_data()["c"]["content"] is None


def test_namespace_changes_hidden_from_the_ast_are_found_by_identity(ip, tmp_path):
    (tmp_path / "script.py").write_text("from_script = [1, 2, 3]\n")
    run(ip, "%reprotrack start")
    ok(ip, "kept = 1")
    ok(ip, "exec('hidden = 5')")
    assert last_data() == {"hidden": fingerprint(5)}
    ok(ip, "%run script.py")
    assert set(last_data()) == {"from_script"}
    ok(ip, "globals().pop('hidden')")
    assert last_data() == {"hidden": DELETED}


def test_non_data_names_are_never_recorded(ip):
    run(ip, "%reprotrack start")
    ok(ip, "import math\n_private = [1]\ndef f():\n    pass\nclass K:\n    pass\nF = f\nM = math\nk = K()\n"
           "big = 'x' * (2 << 20)\nmixed = [1, object()]")
    assert last_data() == {}
    ok(ip, "1 + 1")
    ok(ip, "_ + 1")
    assert last_data() == {}


def test_an_immutable_scalar_still_bound_to_the_same_object_is_not_hashed_again(ip):
    run(ip, "%reprotrack start")
    ok(ip, "name = 'experiment-1'")
    calls = counting(ip)
    ok(ip, "name = name")
    assert last_data() == {"name": fingerprint("experiment-1")} and calls == []
    ok(ip, "name = 'experiment-' + str(2)")
    assert len(calls) == 1


def test_fitted_estimators_are_data_unfitted_ones_are_not(ip):
    ok(ip, "import numpy as np\nfrom sklearn.linear_model import LinearRegression\n"
           "X = np.arange(10.0).reshape(5, 2)\ny = np.arange(5.0)")
    run(ip, "%reprotrack start")
    ok(ip, "model = LinearRegression()")
    assert last_data() == {}
    ok(ip, "model.fit(X, y)")
    data = last_data()
    assert set(data) == {"model"}  # fit reads X and y
    assert data["model"]["type"] == "sklearn.linear_model.LinearRegression" and data["model"]["content"]


def test_objects_over_the_size_cap_get_content_and_stats_only(ip, monkeypatch):
    monkeypatch.setenv("REPROTRACK_MAX_BYTES", "1000")
    ok(ip, "import numpy as np")
    run(ip, "%reprotrack start")
    ok(ip, "small = np.arange(10.0)\nlarge = np.arange(1000.0)")
    data = last_data()
    assert data["small"]["rows"] and data["small"]["approx"]
    full = fingerprint(ip.user_ns["large"])
    assert data["large"]["content"] == full["content"] and data["large"]["stats"] == full["stats"]
    assert data["large"]["rows"] is None and data["large"]["approx"] is None
    assert data["large"]["skipped"] == ["rows", "approx"]


def test_a_cell_that_raised_records_only_what_it_really_changed(ip):
    run(ip, "%reprotrack start")
    ok(ip, "x = 1\ny = 2")
    assert not run(ip, "x = 5\ny = 1 / 0").success
    assert last_data() == {"x": fingerprint(5)}  # y was never reassigned


def test_a_hostile_object_is_skipped_without_an_error(ip, capsys):
    ok(ip, "class Hostile:\n    def fit(self):\n        pass\n    def get_params(self, deep=True):\n"
           "        pass\n    @property\n    def __dict__(self):\n        raise RuntimeError('no')\n")
    run(ip, "%reprotrack start")
    ok(ip, "h = Hostile()\nfine = 2\nexec('other = Hostile()')")
    record = session.active().cells[-1]
    assert set(record.data) == {"fine"} and record.notes == []
    assert "internal error" not in capsys.readouterr().err


def test_recorded_fingerprints_make_a_valid_lock(ip, tmp_path):
    ok(ip, "import pandas as pd\nimport numpy as np")
    run(ip, "%reprotrack start")
    ok(ip, "df = pd.DataFrame({'a': [1, 2], 't': pd.to_datetime(['2020-01-01', None])})\nv = np.ones((2, 3))")
    ok(ip, "del v")
    path = session.active().save(tmp_path / "data.lock")
    lock = lockfile.loads(path.read_text())
    assert lock.cells[-2].data["df"] == stored(fingerprint(ip.user_ns["df"]))
    assert lock.cells[-1].data == {"v": DELETED}
