"""``reprotrack drift`` and ``reprotrack expect`` from the command line: verdicts and exit codes on real CSV
and Parquet files, thresholds from pyproject.toml and flags, every report format, one-line errors for bad
input, the ratchet writing the research lock, and the drift HTML page in Debian's chromium."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest
from test_report_browser import _browse, needs_chromium

from reprotrack import cli, store
from reprotrack.core.fingerprint import fingerprint
from reprotrack.core.lockfile import Lock


def table(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    shares = [0.6, 0.3, 0.1] if not shift else [0.3, 0.4, 0.3]  # a shifted market: older, more paying users
    return pd.DataFrame({"age": rng.normal(40 + shift, 8, n).round(1), "plan": rng.choice(["free", "pro", "team"], n, p=shares),
                         "spend": rng.gamma(2.0, 30.0, n)})


@pytest.fixture
def study(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    lock = Lock(checkpoints={"features": fingerprint(table(20_000, 0))},
                requirements={"auc": {"value": 0.86, "min": 0.8}})
    store.write_lock(tmp_path / "research.lock", lock)
    table(3000, 1).to_csv(tmp_path / "same.csv", index=False)
    table(3000, 2, shift=6).to_parquet(tmp_path / "shifted.parquet")
    return tmp_path


def drift(capsys, *args):
    code = cli.main(["drift", "research.lock", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_exit_codes_follow_the_verdict(study, capsys):
    code, out, _ = drift(capsys, "same.csv", "--checkpoint", "features")
    assert code == 0 and out.startswith("reprotrack drift: no drift")
    code, out, _ = drift(capsys, "shifted.parquet", "-c", "features")
    assert code == 1 and "DRIFT age" in out and "DRIFT plan" in out and "ok    spend" in out
    assert "67% of the columns drifted (threshold 50%)" in out.splitlines()[0]
    code, out, _ = drift(capsys, "shifted.parquet", "-c", "features", "-t", "dataset_share=0.9")
    assert code == 0 and out.startswith("reprotrack drift: no drift")
    code, out, _ = drift(capsys, "shifted.parquet", "-c", "features", "-t", "dataset_share=0.9", "--require", "age")
    assert code == 1 and "required column(s) drifted: age" in out


def test_thresholds_from_pyproject_and_the_command_line(study, capsys):
    (study / "pyproject.toml").write_text('[tool.reprotrack.drift]\ndataset-share = 0.6\n'
                                          '[tool.reprotrack.drift.columns.age]\nwasserstein = 5.0\n')
    assert drift(capsys, "shifted.parquet", "-c", "features")[0] == 0  # age's own threshold is wide: 1 of 3
    assert drift(capsys, "shifted.parquet", "-c", "features", "-t", "age:wasserstein=0.1")[0] == 1
    code, _, err = drift(capsys, "shifted.parquet", "-c", "features", "-t", "age:wassertein=1")
    assert code == 2 and "unknown drift threshold 'wassertein'" in err
    (study / "pyproject.toml").write_text('[tool.reprotrack.drift]\nnull-rate = "high"\n')
    code, _, err = drift(capsys, "same.csv", "-c", "features")
    assert code == 2 and "null_rate must be a finite number" in err and len(err.strip().splitlines()) == 1


def test_several_files_a_folder_and_a_glob_are_one_data_set(study, capsys):
    (study / "parts").mkdir()
    whole = table(3000, 1)
    whole.iloc[:1000].to_csv(study / "parts" / "a.csv", index=False)
    whole.iloc[1000:].to_parquet(study / "parts" / "b.parquet")
    outs = [drift(capsys, target, "-c", "features", "--format", "json")[1]
            for target in ("same.csv", "parts", "parts/*.*")]
    reports = [json.loads(o) for o in outs]
    assert [r["rows"] for r in reports] == [3000, 3000, 3000]
    measures = [[c["measures"] for c in r["columns"]] for r in reports]
    assert measures[1] == measures[2]
    assert measures[0][1] == measures[1][1]  # labels count the same from CSV and Parquet


@pytest.mark.parametrize("args,message", [
    (["same.csv", "-c", "nope"], "the lock has no checkpoint 'nope'; it has: features"),
    (["other.csv", "-c", "features"], "the data has none of the columns of checkpoint 'features'"),
    (["broken.parquet", "-c", "features"], "cannot read broken.parquet"),
    (["absent.csv", "-c", "features"], "no data file at absent.csv"),
    (["notes.json", "-c", "features"], "not a CSV or Parquet file"),
    (["same.csv"], "the following arguments are required: --checkpoint"),
    (["same.csv", "-c", "features", "-o", "research.lock"], "is one of the command's inputs"),
])
def test_bad_input_is_one_line_and_exit_2(study, capsys, args, message):
    pd.DataFrame({"x": [1, 2]}).to_csv(study / "other.csv", index=False)
    (study / "broken.parquet").write_bytes(b"PAR1 this is not parquet")
    (study / "notes.json").write_text("{}")
    code, out, err = drift(capsys, *args)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err and message in err, err


def test_junit_json_and_html_reports(study, capsys):
    code, out, _ = drift(capsys, "shifted.parquet", "-c", "features", "--format", "junit")
    suite = ET.fromstring(out)
    assert code == 1 and suite.get("tests") == "3" and suite.get("failures") == "2"
    assert suite.find("testcase").get("name") == "age" and suite.find("testcase/failure") is not None
    report = json.loads(drift(capsys, "shifted.parquet", "-c", "features", "--format", "json")[1])
    assert report["status"] == "drift" and report["checkpoint"] == "features"
    assert {"status", "findings", "columns", "summary"} <= set(report)
    assert report["findings"][0]["kind"] == "drift" and report["findings"][0]["subject"] == "age"
    code, _, err = drift(capsys, "shifted.parquet", "-c", "features", "--format", "html", "-o", "drift.html")
    page = (study / "drift.html").read_text()
    assert code == 1 and "report written" in err and page.count("<svg") == 3 and "<script" not in page


def test_expect_lists_and_ratchets_the_lock(study, capsys):
    assert cli.main(["expect", "research.lock"]) == 0
    assert capsys.readouterr().out.strip() == "auc >= 0.8 (research 0.86)"
    replay = Lock(requirements={"auc": {"value": 0.88, "min": 0.8}})
    store.write_lock(study / "replay.lock", replay)
    assert cli.main(["expect", "research.lock", "--ratchet", "--from", "replay.lock"]) == 0
    assert "auc >= 0.8 -> auc >= 0.88" in capsys.readouterr().out
    assert store.read_lock(study / "research.lock").requirements["auc"] == {"value": 0.88, "min": 0.88}
    before = (study / "research.lock").read_bytes()
    assert cli.main(["expect", "research.lock", "--ratchet", "--set", "auc=0.85"]) == 0  # worse: no change
    assert "unchanged" in capsys.readouterr().out and (study / "research.lock").read_bytes() == before
    assert cli.main(["expect", "research.lock", "--ratchet", "--set", "auc=high"]) == 2
    assert cli.main(["expect", "research.lock", "--set", "auc=0.9"]) == 2
    capsys.readouterr()
    assert cli.main(["show", "research.lock"]) == 0
    assert "requirements: auc >= 0.88" in capsys.readouterr().out


@needs_chromium
def test_the_drift_page_renders_in_chromium(study, capsys):
    drift(capsys, "shifted.parquet", "-c", "features", "--format", "html", "-o", "drift.html")
    measured, console = _browse(study / "browser", (study / "drift.html").read_text()) if \
        (study / "browser").mkdir() is None else ({}, [])
    assert console == [] and measured["scripts"] == 0
    assert measured["title"] == "reprotrack drift: drift"
    assert measured["sections"] == ["Findings", "Columns"]
    assert measured["plots"] == 3  # research vs new, one per column, with a real size
    assert measured["text"].index("plan") < measured["text"].index("spend")  # drifted first


def test_hostile_names_and_labels_stay_text(tmp_path, capsys):
    evil = "<script>alert('x')</script>\x1b[31m"
    rng = np.random.default_rng(0)
    research = pd.DataFrame({evil: rng.normal(size=3000), "kind": rng.choice(["a", "b"], 3000)})
    store.write_lock(tmp_path / "r.lock", Lock(checkpoints={"features": fingerprint(research)}))
    new = research.copy()
    new[evil] += 3
    new.loc[:1500, "kind"] = evil
    new.to_parquet(tmp_path / "new.parquet")
    from reprotrack.report.drift import render_drift

    report = __import__("reprotrack").drift(tmp_path / "r.lock", "features", new)
    page = render_drift(report, "html")
    assert "<script" not in page and "&lt;script&gt;" in page
    for fmt in ("text", "junit"):
        assert "\x1b" not in render_drift(report, fmt)
    ET.fromstring(render_drift(report, "junit"))  # still valid XML
