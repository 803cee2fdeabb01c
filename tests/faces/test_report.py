"""The renderers: text, json, junit, html from real diff reports; hostile strings from a lock never reach a
terminal, an XML parser or a browser unescaped."""

from __future__ import annotations

import copy
import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest
from lockbuilders import ENV, cell, frame, lock, pipeline

from reprotrack.core.diff import compare  # noqa: E402
from reprotrack.core.fingerprint import fingerprint  # noqa: E402
from reprotrack.core.text import escaped as clean  # noqa: E402
from reprotrack.report import render  # noqa: E402

HOSTILE = "<script>alert('x')</script>\x1b[2J\x1b]8;;http://evil\x07link\x9b31m\u202egnp.exe\x00&amp;\"'"
ESCAPES = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def differing():
    a = pipeline(frame())
    changed = frame()
    changed["a"] = changed["a"] + 3
    b = pipeline(changed, inputs_content="sha256:bbb", metric=0.5)
    b.environment["packages"]["numpy"] = "2.0.0"
    return compare(a, b)


def hostile():
    """Every lock-derived string position holds hostile text: ids, paths, variable and column names,
    exception messages, package names and versions, checkpoint names, notebook name."""
    name = HOSTILE
    df = frame()
    df.columns = [name, "b", "c"]
    shifted = df.copy()
    shifted[name] = shifted[name] + 10
    env = copy.deepcopy(ENV)
    env["packages"][name] = "1.0" + HOSTILE
    a = lock(cell(0, cid=name, inputs=[{"path": name, "bytes": 1, "content": "x"}], data={name: fingerprint(df)}),
             cell(1, cid="ok"), env=env, checkpoints={name: fingerprint(1)})
    env2 = copy.deepcopy(env)
    env2["packages"][name] = "2.0" + HOSTILE
    b = lock(cell(0, cid=name, inputs=[{"path": name, "bytes": 2, "content": "y"}], data={name: fingerprint(shifted)}),
             cell(1, cid="ok", status="error", error={"type": name, "message": HOSTILE}), env=env2,
             checkpoints={name: fingerprint(2)})
    a.notebook = b.notebook = name
    return compare(a, b)


def test_clean_makes_controls_visible_and_leaves_text_alone():
    assert clean("accuracy: 0.91 — café ✓") == "accuracy: 0.91 — café ✓"
    assert clean("a\x1b[31mb") == "a\\x1b[31mb"
    assert clean("x\u202ey") == "x\\u202ey"
    assert clean("a\nb") == "a\\x0ab" and clean("a\nb", newlines=True) == "a\nb"
    assert clean(None) == ""


def test_text_leads_with_root_causes_and_folds_consequences():
    report = differing()
    text = render(report, "text")
    assert text.startswith("reprotrack: DIFFERS — first divergence at cell")
    root_section = text.split("Root causes", 1)[1]
    assert "input-file-changed" in root_section.split("consequences", 1)[0]
    assert "Fix:" in root_section and "\x1b" not in text
    coloured = render(report, "text", color=True)
    assert "\x1b[31m" in coloured and clean(coloured) != coloured


def test_text_of_a_reproduced_report():
    a = pipeline(frame())
    text = render(compare(a, copy.deepcopy(a)), "text")
    assert text.startswith("reprotrack: REPRODUCED") and "Root causes" not in text


def test_json_has_exactly_the_design_keys():
    report = differing()
    data = json.loads(render(report, "json"))
    assert set(data) == {"status", "first_divergence", "findings"}
    assert data["status"] == "differs"
    assert data["first_divergence"]["finding"] in [f["id"] for f in data["findings"] if f["severity"] == "error"]
    for f in data["findings"]:
        assert set(f) >= {"cell_index", "cell_id", "kind", "cause", "subject", "message", "upstream_of", "fix",
                          "severity"}
    assert data == report.to_dict()


def test_junit_has_one_testcase_per_cell_and_failures_carry_the_messages():
    report = differing()
    root = ET.fromstring(render(report, "junit"))
    names = [c.get("name") for c in root.iter("testcase")]
    assert names == ["environment", "cell 1 (c0)", "cell 2 (c1)", "cell 3 (c2)", "cell 4 (c3)"]
    failed = {c.get("name"): c.find("failure") for c in root.iter("testcase") if c.find("failure") is not None}
    assert set(failed) == {"environment", "cell 2 (c1)", "cell 4 (c3)"}
    assert "input-file-changed" in failed["cell 2 (c1)"].text and "root cause" in failed["cell 2 (c1)"].text
    assert root.get("failures") == "3"


def test_html_is_self_contained_with_timeline_histograms_and_environment_table():
    page = render(differing(), "html")
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"<script|<link|@import|url\(|src=", page, re.I)
    assert page.count('class="cell c-') == 4 and "c-error" in page and "c-ok" in page
    assert "<svg" in page and "<rect" in page
    assert "<h2>Environment</h2>" in page and "2.0.0" in page
    assert page.index("input-file-changed") < page.index("consequence(s)")


@pytest.mark.parametrize("fmt", ["text", "json", "junit", "html"])
def test_hostile_strings_are_escaped_in_every_format(fmt):
    report = hostile()
    assert report.findings
    out = render(report, fmt, color=(fmt == "text"))
    if fmt == "text":
        stripped = re.sub(r"\x1b\[[0-9;]*m", "", out)  # our own colour codes
        assert not ESCAPES.search(stripped.replace("\n", ""))
    else:
        assert not ESCAPES.search(out.replace("\n", ""))
    if fmt == "json":
        data = json.loads(out)
        assert any(HOSTILE in f["subject"] for f in data["findings"])  # lossless for machines
    if fmt == "junit":
        ET.fromstring(out)
        assert "<script>" not in out
    if fmt == "html":
        assert "<script" not in out.lower() and "alert(" in out
        tags = _tags(out)
        assert tags <= {"html", "head", "meta", "title", "style", "body", "h1", "h2", "span", "table", "tr", "th",
                        "td", "p", "strong", "div", "details", "summary", "ul", "li", "br", "svg", "rect", "line",
                        "text"}


def _tags(page: str) -> set[str]:
    found: set[str] = set()

    class Collect(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.add(tag)

    Collect().feed(page)
    return found


def test_unknown_format_is_a_usage_error():
    from reprotrack.errors import UsageError

    with pytest.raises(UsageError):
        render(differing(), "pdf")
