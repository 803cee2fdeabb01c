"""A file the user's code reads as data is an input wherever it lives, also inside an installed package;
what libraries read for themselves (code, descriptions, fonts, caches, reads at import) is not."""

from __future__ import annotations

from pathlib import Path

import sklearn
import xxhash
from conftest import run

from reprotrack.core.diff.causality import compare
from reprotrack.kernel import session
from reprotrack.kernel.capture.files import is_data_file

SKLEARN_DATA = Path(sklearn.__file__).parent / "datasets" / "data"


def ok(ip, source):
    result = run(ip, source)
    assert result.success, result.error_in_exec or result.error_before_exec
    return session.active().cells[-1]


def content(path: Path) -> str:
    return "xxh3-128:" + xxhash.xxh3_128_hexdigest(path.read_bytes())


def test_a_bundled_dataset_read_by_its_loader_or_by_the_user_is_an_input(ip):
    run(ip, "%reprotrack start")
    record = ok(ip, "from sklearn.datasets import load_iris, load_digits\niris = load_iris()\ndigits = load_digits()")
    found = {i["path"]: i for i in record.inputs}
    assert sorted(found) == ["<site-packages>/sklearn/datasets/data/digits.csv.gz",
                             "<site-packages>/sklearn/datasets/data/iris.csv"]  # the .rst descriptions are not
    assert found["<site-packages>/sklearn/datasets/data/iris.csv"]["content"] == content(SKLEARN_DATA / "iris.csv")
    record = ok(ip, f"import pandas as pd\nwine = pd.read_csv({str(SKLEARN_DATA / 'wine_data.csv')!r}, skiprows=1)")
    assert [(i["path"], i["reader"]) for i in record.inputs] == [
        ("<site-packages>/sklearn/datasets/data/wine_data.csv", "pandas.read_csv")]


def test_library_files_caches_and_reads_at_import_are_not_inputs(ip, tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "table.csv").write_text("a\n1\n")
    (tmp_path / "reads_at_import.py").write_text("TABLE = open('table.csv').read()\n")
    run(ip, "%reprotrack start")
    record = ok(ip, f"import reads_at_import\nimport sklearn\n"
                    f"text = open({str(SKLEARN_DATA.parent / 'descr' / 'iris.rst')!r}).read()\n"
                    f"code = open({str(Path(sklearn.__file__))!r}).read()\n"
                    "import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
                    "fig = plt.figure()\nplt.plot([1, 2])\nplt.close(fig)")
    # the user's own module is code the cell ran (test_capture_code); what it read at import is not an input
    assert [(i["path"], i["reader"]) for i in record.inputs] == [("reads_at_import.py", "import")]
    assert record.notes == []  # a figure is not data and not a container: no note
    record = ok(ip, "again = open('table.csv').read()")  # the same file read by the user: an input
    assert [i["path"] for i in record.inputs] == ["table.csv"]


def test_data_file_names():
    for name in ("iris.csv", "digits.csv.gz", "x.parquet", "x.npz", "a.feather", "t.tsv.bz2", "DATA.CSV"):
        assert is_data_file(name), name
    for name in ("iris.rst", "x.json", "font.ttf", "matplotlibrc", "x.py", "archive.gz", "notes.txt"):
        assert not is_data_file(name), name


def test_a_changed_bundled_file_is_the_root_cause_at_the_loading_cell():
    from lockbuilders import cell, lock

    path = "<site-packages>/sklearn/datasets/data/iris.csv"
    research = lock(cell(0, "iris = load_iris()", inputs=[{"path": path, "bytes": 10, "content": "xxh3-128:aa"}],
                         data={"iris": {"type": "x", "content": "a"}}))
    replay = lock(cell(0, "iris = load_iris()", inputs=[{"path": path, "bytes": 10, "content": "xxh3-128:bb"}],
                       data={"iris": {"type": "x", "content": "b"}}))
    report = compare(research, replay)
    roots = [f for f in report.findings if not f.upstream_of]
    assert [(f.cause, f.subject, f.cell_index) for f in roots] == [("input-file-changed", path, 0)]
