"""The HTML report in a real browser: Debian's headless chromium (installed by `bash .ci/setup --test`) loads
it from a file, logs no console message (no script errors, no blocked resource, no CSP violation: the page
has no script and loads nothing), and shows its sections and plots with a real size.

Chromium cannot be asked questions without a driver, so a small harness page (in the test's folder) frames
the report and writes what it measured into its own DOM, which ``--dump-dom`` prints. The report keeps its
own strict CSP; the harness is the only page with a script.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from test_report import differing, hostile  # noqa: E402

from reprotrack.report import render  # noqa: E402

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (bash .ci/setup --test "
                                                             "installs Debian's chromium when run as root)")

HARNESS = """<!DOCTYPE html><html><body><pre id="out">pending</pre>
<iframe id="f" src="report.html" style="width:1200px;height:4000px"></iframe>
<script>
document.getElementById('f').onload = function () {
  var d = this.contentDocument, w = this.contentWindow, out = {};
  function shown(el) {
    var r = el.getBoundingClientRect(), s = w.getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none';
  }
  out.title = d.title;
  out.sections = Array.from(d.querySelectorAll('h2')).filter(shown).map(function (h) { return h.textContent; });
  out.cells = Array.from(d.querySelectorAll('.timeline .cell')).filter(shown).length;
  out.roots = Array.from(d.querySelectorAll('.finding')).filter(shown).length;
  out.plots = Array.from(d.querySelectorAll('svg')).filter(shown).length;
  out.scripts = d.querySelectorAll('script').length;
  out.text = d.body.innerText;
  document.getElementById('out').textContent = JSON.stringify(out);
};
</script></body></html>
"""


def _browse(folder: Path, page: str) -> tuple[dict, list[str]]:
    (folder / "report.html").write_text(page, encoding="utf-8")
    (folder / "harness.html").write_text(HARNESS, encoding="utf-8")
    profile = folder / "profile"
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={profile}", "--allow-file-access-from-files", "--enable-logging=stderr", "--v=0",
           "--virtual-time-budget=5000", "--dump-dom", (folder / "harness.html").as_uri()]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    match = re.search(r'<pre id="out">(.*?)</pre>', done.stdout, re.S)
    assert match, (done.returncode, done.stdout[-2000:], done.stderr[-2000:])
    import html

    measured = json.loads(html.unescape(match.group(1)))
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    return measured, console


@needs_chromium
def test_the_report_renders_with_its_sections_and_no_console_message(tmp_path):
    measured, console = _browse(tmp_path, render(differing(), "html"))
    assert console == []
    assert measured["scripts"] == 0
    assert measured["title"].startswith("reprotrack report")
    for section in ("Cells, in the order they ran", "Root causes", "Data and splits", "Environment"):
        assert section in measured["sections"], measured["sections"]
    assert measured["cells"] == 4 and measured["roots"] >= 1
    assert measured["plots"] >= 1  # research-vs-replay histograms drawn with a real size
    assert "input-file-changed" in measured["text"] and "Fix:" in measured["text"]


@needs_chromium
def test_hostile_lock_strings_stay_text_in_the_browser(tmp_path):
    measured, console = _browse(tmp_path, render(hostile(), "html"))
    assert console == []  # nothing ran: no alert, no script, no blocked load
    assert measured["scripts"] == 0
    assert "<script>alert('x')</script>" in measured["text"]  # shown as the text it is
