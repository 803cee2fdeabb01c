"""File inputs in real IPython shells: every reader recorded with a path relative to the notebook folder, the
size and the streamed hash of the real bytes; cached hashes; no secrets from URLs; library and tracker
reads left out; originals restored on stop."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
import xxhash
from conftest import run

from reprotrack.kernel import session
from reprotrack.kernel.capture import files
from reprotrack.kernel.capture.files import FileCapture, clean_url
from reprotrack.kernel.capture.patching import MARK


def ok(ip, source):
    result = run(ip, source)
    assert result.success, result.error_in_exec or result.error_before_exec
    return result


def inputs():
    return session.active().cells[-1].inputs


def expected(path, relative, reader):
    raw = path.read_bytes()
    return {"path": relative, "bytes": len(raw), "content": "xxh3-128:" + xxhash.xxh3_128_hexdigest(raw),
            "reader": reader}


@pytest.fixture
def data_dir(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    frame = pd.DataFrame({"a": [1, 2, 3], "b": [0.5, 1.5, 2.5]})
    frame.to_csv(folder / "x.csv", index=False)
    frame.to_csv(folder / "x.tsv", sep="\t", index=False)
    (folder / "x.fwf").write_text("a  b\n1  2\n3  4\n")
    frame.to_json(folder / "x.json")
    frame.to_pickle(folder / "x.pkl")
    frame.to_xml(folder / "x.xml", parser="etree")
    np.save(folder / "x.npy", np.arange(5))
    np.savetxt(folder / "x.txt", np.eye(3))
    np.arange(4, dtype="<i8").tofile(folder / "x.bin")
    with gzip.open(folder / "x.txt.gz", "wt") as fh:
        fh.write("zipped\n")
    return folder


READERS = [
    ("pd.read_csv('data/x.csv')", "x.csv", "pandas.read_csv"),
    ("pd.read_table('data/x.tsv')", "x.tsv", "pandas.read_table"),
    ("pd.read_fwf('data/x.fwf')", "x.fwf", "pandas.read_fwf"),
    ("pd.read_json('data/x.json')", "x.json", "pandas.read_json"),
    ("pd.read_pickle('data/x.pkl')", "x.pkl", "pandas.read_pickle"),
    ("pd.read_xml('data/x.xml', parser='etree')", "x.xml", "pandas.read_xml"),
    ("np.load('data/x.npy')", "x.npy", "numpy.load"),
    ("np.loadtxt('data/x.txt')", "x.txt", "numpy.loadtxt"),
    ("np.genfromtxt('data/x.txt')", "x.txt", "numpy.genfromtxt"),
    ("np.fromfile('data/x.bin', dtype='<i8')", "x.bin", "numpy.fromfile"),
    ("open('data/x.csv').read()", "x.csv", "open"),
    ("open('data/x.csv', 'rb').read()", "x.csv", "open"),
    ("pathlib.Path('data/x.json').read_text()", "x.json", "open"),
    ("gzip.open('data/x.txt.gz').read()", "x.txt.gz", "open"),
    ("pd.read_csv(open('data/x.csv'))", "x.csv", "pandas.read_csv"),
]


@pytest.mark.parametrize("source, name, reader", READERS, ids=[r[0].split("(")[0] for r in READERS])
def test_each_reader_is_recorded_with_a_relative_path_and_the_hash_of_the_bytes(ip, data_dir, source, name, reader):
    ok(ip, "import gzip\nimport pathlib\nimport pandas as pd\nimport numpy as np")
    run(ip, "%reprotrack start")
    ok(ip, f"value = {source}")
    assert inputs() == [expected(data_dir / name, f"data/{name}", reader)]


@pytest.mark.parametrize("module, reader, writer", [
    ("pyarrow", "read_parquet", "to_parquet"),
    ("pyarrow", "read_feather", "to_feather"),
    ("openpyxl", "read_excel", "to_excel"),
    ("tables", "read_hdf", "to_hdf"),
])
def test_readers_with_optional_engines(ip, data_dir, module, reader, writer):
    pytest.importorskip(module)
    extra = ", key='k'" if writer == "to_hdf" else ""
    getattr(pd.DataFrame({"a": [1, 2]}), writer)(str(data_dir / "opt.bin"), **({"key": "k"} if extra else {}))
    ok(ip, "import pandas as pd")
    run(ip, "%reprotrack start")
    ok(ip, f"value = pd.{reader}('data/opt.bin'{extra})")
    assert inputs() == [expected(data_dir / "opt.bin", "data/opt.bin", f"pandas.{reader}")]


def test_every_reader_is_patched_and_stop_restores_the_originals(ip):
    originals = {name: getattr(pd, name) for name in files.PANDAS_READERS if hasattr(pd, name)}
    originals.update({f"np.{name}": getattr(np, name) for name in files.NUMPY_READERS})
    writers = {name: getattr(pd.DataFrame, name) for name in files.PANDAS_ARROW_WRITERS}
    run(ip, "%reprotrack start")
    for name in files.PANDAS_READERS:
        if hasattr(pd, name):
            assert getattr(getattr(pd, name), MARK) is originals[name]
    for name in files.NUMPY_READERS:
        assert getattr(getattr(np, name), MARK) is originals[f"np.{name}"]
    for name in files.PANDAS_ARROW_WRITERS:
        assert getattr(getattr(pd.DataFrame, name), MARK) is writers[name]
    run(ip, "%reprotrack stop")
    for name, original in originals.items():
        owner, attr = (np, name[3:]) if name.startswith("np.") else (pd, name)
        assert getattr(owner, attr) is original
    assert all(getattr(pd.DataFrame, name) is writer for name, writer in writers.items())
    assert files._STATE is None


def test_nothing_is_recorded_after_stop(ip, data_dir):
    ok(ip, "import pandas as pd")
    run(ip, "%reprotrack start")
    run(ip, "%reprotrack stop")
    ok(ip, "pd.read_csv('data/x.csv')\nopen('data/x.csv').read()")
    assert files._STATE is None and session.active() is None


def test_names_imported_before_start_are_rebound(ip, data_dir):
    ok(ip, "from pandas import read_csv")
    run(ip, "%reprotrack start")
    ok(ip, "v = read_csv('data/x.csv')")
    assert [i["reader"] for i in inputs()] == ["pandas.read_csv"]
    run(ip, "%reprotrack stop")
    assert ip.user_ns["read_csv"] is pd.read_csv and not hasattr(pd.read_csv, MARK)


def test_one_entry_per_file_and_cell_in_order_of_first_read(ip, data_dir):
    ok(ip, "import pandas as pd")
    run(ip, "%reprotrack start")
    ok(ip, "a = pd.read_csv('data/x.csv')\nb = open('data/x.json').read()\nc = pd.read_csv('data/x.csv')\n"
           "d = open('data/../data/x.csv').read()")
    assert [(i["path"], i["reader"]) for i in inputs()] == [("data/x.csv", "pandas.read_csv"), ("data/x.json", "open")]


def test_files_outside_the_notebook_folder_keep_the_path_as_given(ip, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("elsewhere") / "far.csv"
    elsewhere.write_text("a\n1\n")
    ok(ip, "import pandas as pd")
    run(ip, "%reprotrack start")
    ok(ip, f"v = pd.read_csv({str(elsewhere)!r})")
    assert inputs() == [expected(elsewhere, str(elsewhere), "pandas.read_csv")]


def test_a_folder_hashes_its_files(tmp_path):
    folder = tmp_path / "parts"
    (folder / "p=1").mkdir(parents=True)
    (folder / "p=1" / "a.bin").write_bytes(b"abc")
    (folder / "b.bin").write_bytes(b"de")
    capture = FileCapture()
    size, digest = capture.hash_path(str(folder))
    assert size == 5 and digest.startswith("xxh3-128:")
    (folder / "b.bin").write_bytes(b"dx")
    assert capture.hash_path(str(folder))[1] != digest


def test_hashes_are_cached_by_size_and_mtime(ip, data_dir):
    path = data_dir / "x.csv"
    ok(ip, "import pandas as pd")
    run(ip, "%reprotrack start")
    ok(ip, "v = pd.read_csv('data/x.csv')")
    first = inputs()[0]["content"]
    stat = path.stat()
    raw = path.read_bytes()
    path.write_bytes(raw.replace(b"0.5", b"0.7"))  # same size: only the mtime tells the change
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    ok(ip, "v = pd.read_csv('data/x.csv')")
    assert inputs()[0]["content"] == first  # the cache answered: the file was not read again
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    ok(ip, "v = pd.read_csv('data/x.csv')")
    assert inputs()[0] == expected(path, "data/x.csv", "pandas.read_csv") and inputs()[0]["content"] != first


def test_urls_lose_their_credentials_query_and_fragment(ip, tmp_path):
    assert clean_url("https://user:secret@example.invalid:8443/d/x.csv?token=abc#f") == \
        "https://example.invalid:8443/d/x.csv"
    assert clean_url("s3://AKIAKEY:secret@bucket/key.parquet?versionId=1") == "s3://bucket/key.parquet"
    ok(ip, "import pandas as pd")
    run(ip, "%reprotrack start")
    run(ip, "v = pd.read_csv('s3://AKIAKEY:s3cr3t@bucket/key.csv?X-Amz-Signature=zz')")  # fails: no s3 support
    assert inputs() == [{"path": "s3://bucket/key.csv", "bytes": None, "content": None, "reader": "pandas.read_csv"}]
    saved = json.loads(session.active().save(tmp_path / "url.lock").read_text())
    for cell in saved["cells"]:
        cell.pop("outputs")  # the traceback shows the cell's own source line: the outputs capture's matter
    text = json.dumps(saved)
    assert "s3cr3t" not in text and "AKIAKEY" not in text and "X-Amz" not in text


def test_buffers_and_literal_text_are_described_not_hashed(ip):
    ok(ip, "import io\nimport pandas as pd")
    run(ip, "%reprotrack start")
    ok(ip, "a = pd.read_csv(io.StringIO('a\\n1\\n'))\nb = pd.read_json(io.StringIO('[1, 2]'))")
    assert [(i["path"], i["bytes"], i["content"], i["reader"]) for i in inputs()] == [
        ("<StringIO>", None, None, "pandas.read_csv")]  # one entry per description and cell


def test_library_tracker_and_write_opens_are_not_inputs(ip, data_dir, tmp_path):
    (tmp_path / "localmod.py").write_text("VALUE = 1\n")
    run(ip, "%reprotrack start")
    lock = session.active().save()
    ok(ip, "import json, sys\nsys.path.insert(0, '.')\nimport localmod\n"
           "from sklearn.datasets import load_iris\niris = load_iris()\n"
           "open('/proc/self/status').read()\n"
           f"open({str(lock)!r}).read()\n"
           "open('out.txt', 'w').write('x')\nopen('out.txt', 'a').write('y')\n"
           "json.load(open('data/x.json'))")
    # load_iris reads its bundled CSV as data (an input, wherever it lives), its .rst description is not one
    assert [i["path"] for i in inputs()] == ["<site-packages>/sklearn/datasets/data/iris.csv", "data/x.json",
                                             "localmod.py"]  # the user's own module is code (test_capture_code)


def test_opens_from_other_threads_are_not_the_cells(ip, data_dir):
    run(ip, "%reprotrack start")
    ok(ip, "import threading\nt = threading.Thread(target=lambda: open('data/x.csv').read())\nt.start()\nt.join()")
    assert inputs() == []


def test_readers_imported_after_start_are_patched():
    script = textwrap.dedent("""
        import json, os, sys, tempfile
        os.chdir(tempfile.mkdtemp())
        open("x.csv", "w").write("a\\n1\\n")
        from IPython.core.interactiveshell import InteractiveShell
        ip = InteractiveShell.instance()
        ip.run_line_magic("load_ext", "reprotrack")
        ip.run_cell("%reprotrack start", store_history=True)
        assert "pandas" not in sys.modules
        ip.run_cell("import pandas as pd\\nv = pd.read_csv('x.csv')", store_history=True)
        ip.run_cell("w = pd.read_csv('x.csv')", store_history=True)
        from reprotrack.kernel import session
        print(json.dumps([c.inputs for c in session.active().cells]))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    first, second = json.loads(out.stdout.strip().splitlines()[-1])
    # patched the moment pandas is imported, inside the cell that imports it
    assert [(i["path"], i["bytes"], i["reader"]) for i in first] == [("x.csv", 4, "pandas.read_csv")]
    assert [(i["path"], i["bytes"], i["reader"]) for i in second] == [("x.csv", 4, "pandas.read_csv")]


def test_a_cell_that_overwrites_an_input_of_an_earlier_cell_is_told_at_once(ip, data_dir, capsys):
    """The notebook that rewrites its own input cannot reproduce itself: its next run reads other data."""
    ok(ip, "import pandas as pd\nimport numpy as np")
    run(ip, "%reprotrack start")
    ok(ip, "df = pd.read_csv('data/x.csv')\nn = len(df)")
    reader = session.active().cells[-1]
    ok(ip, "df.to_csv('data/x.csv', index=False)")  # the same content: nothing to say
    assert "overwrote" not in session.active().cells[-1].run
    ok(ip, "df.iloc[:2].to_csv('data/x.csv', index=False)\nopen('data/other.csv', 'w').write('a\\n1\\n')")
    writer = session.active().cells[-1]
    assert writer.run["overwrote"] == [{"path": "data/x.csv", "read_by": reader.order}]
    assert any("overwrote data/x.csv, which" in n for n in writer.notes)
    assert "overwrote data/x.csv" in capsys.readouterr().err
    # a writer whose file Arrow opens from C (no open event) is seen through its wrapper
    pd.DataFrame({"a": [1]}).to_parquet(data_dir / "t.parquet")  # there before the run, as raw data is
    ok(ip, "t = pd.read_parquet('data/t.parquet')")
    ok(ip, "pd.DataFrame({'a': [2, 3]}).to_parquet('data/t.parquet')")
    assert [e["path"] for e in session.active().cells[-1].run["overwrote"]] == ["data/t.parquet"]


def test_a_cell_that_reads_and_rewrites_a_file_says_so(ip, data_dir):
    ok(ip, "import pandas as pd")
    run(ip, "%reprotrack start")
    ok(ip, "df = pd.read_csv('data/x.csv')\ndf['c'] = 1\ndf.to_csv('data/x.csv', index=False)")
    record = session.active().cells[-1]
    assert record.notes == ["read and rewrote data/x.csv: recorded as the cell left it"]
    assert [i["path"] for i in record.inputs] == ["data/x.csv"]


def test_a_file_an_earlier_cell_wrote_is_an_intermediate_not_an_input_from_outside(ip, data_dir, capsys):
    ok(ip, "import pandas as pd")
    run(ip, "%reprotrack start")
    ok(ip, "pd.DataFrame({'a': [1, 2]}).to_csv('step1.csv', index=False)")
    writer = session.active().cells[-1]
    ok(ip, "step = pd.read_csv('step1.csv')\nraw = pd.read_csv('data/x.csv')")
    assert {i["path"]: i.get("written_by") for i in inputs()} == {"step1.csv": writer.order, "data/x.csv": None}
    # rewriting an intermediate is the pipeline's own business: the next run writes it again before reading it
    ok(ip, "pd.DataFrame({'a': [3]}).to_csv('step1.csv', index=False)")
    assert "overwrote" not in session.active().cells[-1].run
    assert "overwrote" not in capsys.readouterr().err
