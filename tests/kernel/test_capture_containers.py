"""Data inside containers is recorded at the cell that produced it; what cannot be is named in a note."""

from __future__ import annotations

from conftest import run

from reprotrack.core.fingerprint import fingerprint, members
from reprotrack.kernel import session
from reprotrack.kernel.capture import datakinds as data_capture

DATASET = (
    "class Dataset(dict):  # statsmodels' shape: a dict whose attributes are its keys\n"
    "    def __init__(self, **kw):\n"
    "        dict.__init__(self, kw)\n"
    "        self.__dict__ = self\n"
)


def ok(ip, source):
    result = run(ip, source)
    assert result.success, result.error_in_exec
    active = session.active()
    return active.cells[-1] if active is not None else None


def test_loaders_returning_containers_are_recorded_member_by_member(ip):
    ok(ip, "import numpy as np\nimport pandas as pd\nimport types\n" + DATASET)
    run(ip, "%reprotrack start")
    record = ok(ip, "from sklearn.datasets import load_digits\ndigits = load_digits()")
    fp = record.data["digits"]
    assert fp["type"] == "sklearn.utils.Bunch" and fp["members"][".target"]["shape"] == [1797]
    record = ok(ip, "ds = Dataset(data=pd.DataFrame({'y': [1.0, 2.0], 'x': [3, 4]}), endog=pd.Series([1.0, 2.0]),"
                    " names=['y', 'x'])\nns = types.SimpleNamespace(X=np.ones((4, 2)), label='a')\n"
                    "loaded = (np.arange(3), [pd.DataFrame({'a': [1]})])")
    assert list(record.data["ds"]["members"]) == [".data", ".endog"]
    assert record.data["ns"]["content"] == fingerprint(ip.user_ns["ns"])["content"]
    assert list(record.data["loaded"]["members"]) == ["[0]", "[1][0]"]
    assert record.notes == []
    record = ok(ip, "digits.target[:5] = 0")  # changed in place, through the container
    assert record.data["digits"]["members"][".target"]["content"] != fp["members"][".target"]["content"]


def test_a_container_that_cannot_be_fingerprinted_gets_a_note_naming_it(ip):
    ok(ip, "import numpy as np\nimport types")
    run(ip, "%reprotrack start")
    record = ok(ip, f"big = list(range({data_capture.MAX_ITEMS + 1}))\nmixed = {{'fit': print, 'X': np.ones(2)}}\n"
                    "holder = types.SimpleNamespace(X=np.ones(2), opener=len)\nfine = {'X': np.ones(2)}\n"
                    "plain = object()\nlines = [object(), print]\nmodels = {'a': object()}")
    assert set(record.data) == {"fine"}
    assert record.notes == [
        f"data 'big' not fingerprinted: a builtins.list with more than {data_capture.MAX_ITEMS} items",
        "data 'holder' not fingerprinted: a types.SimpleNamespace whose .opener is a "
        "builtins.builtin_function_or_method, not data",
        "data 'mixed' not fingerprinted: a builtins.dict whose .fit is a builtins.builtin_function_or_method, "
        "not data",
    ]


def test_object_graphs_are_not_walked(ip):
    ok(ip, "import numpy as np\nclass Node:\n    pass\n")
    run(ip, "%reprotrack start")
    record = ok(ip, "a = Node()\na.values = np.ones(3)\na.peer = Node()\na.peer.values = np.ones(2)\n"
                    "a.peer.peer = a")
    assert record.data == {}
    assert record.notes == ["data 'a' not fingerprinted: a __main__.Node whose .peer is a __main__.Node, not data"]


def test_the_kernel_bound_on_attributes_is_the_engines():
    assert data_capture.MAX_ATTRIBUTES == members.MAX_ATTRIBUTES
