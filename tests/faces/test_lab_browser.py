"""reprotrack in JupyterLab, driven in a real browser: open a notebook, run it, rename it, save the lock,
verify it.

A JupyterLab server (from PyPI, the test extra) runs on 127.0.0.1 with a token, in the test's folder, with
its own runtime, config and data folders; Debian's headless chromium is driven by selenium through Debian's
chromium-driver (both installed by ``bash .ci/setup --test``). The notebook is renamed through JupyterLab's
own dialog, as a user does (the front end updates the server's session; the kernel is not told), then the
save cell runs. Checked: the lock is saved under the new name, the panel is rendered as a widget, the lock
records ipywidgets as imported (by the panel) but not as the user's, and ``reprotrack verify`` of the renamed
notebook reproduces with no ipywidgets finding. Everything started here is ended here.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, write_notebook

pytestmark = [pytest.mark.browser, pytest.mark.kernel]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


def _missing() -> str | None:
    if CHROMIUM is None:
        return "chromium is not installed (bash .ci/setup --test installs Debian's chromium when run as root)"
    if DRIVER is None:
        return "chromedriver is not installed (bash .ci/setup --test installs Debian's chromium-driver as root)"
    import importlib.util

    for module in ("selenium", "jupyterlab"):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed (pip install -e '.[test]')"
    return None


pytestmark.append(pytest.mark.skipif(_missing() is not None, reason=_missing() or ""))

CELLS = [
    "%load_ext reprotrack\n%reprotrack start",
    "import numpy as np\nrng = np.random.default_rng(0)\nx = rng.normal(size=200)",
    "total = float(x.sum())\nprint(f'total: {total:.6f}')",
    "%reprotrack save",
]
IDS = ["start", "data", "total", "save"]
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--window-size=1400,1000")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lab(tmp_path):
    """A JupyterLab server in ``tmp_path/work``; yields (url, token, folder, env). Always shut down."""
    work = tmp_path / "work"
    work.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HOME": str(tmp_path / "home"),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
           "IPYTHONDIR": str(tmp_path / "ipython"), "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces")}
    env.pop("JPY_SESSION_NAME", None)
    port, token = _free_port(), secrets.token_hex(16)
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
               f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={work}", "--ServerApp.port_retries=0",
               "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
               "--LabApp.extension_manager=readonly"]
    if os.geteuid() == 0:
        command.append("--allow-root")
    log = open(tmp_path / "lab.log", "wb")
    server = subprocess.Popen(command, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if server.poll() is not None:
                pytest.fail("JupyterLab exited: " + (tmp_path / "lab.log").read_text(errors="replace")[-2000:])
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not start in 90 s")
        yield url, token, work, env
    finally:
        _end(server)
        log.close()


def _end(process: subprocess.Popen) -> None:
    """Stop the server and the kernels it started (its process group), politely first."""
    import signal

    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        if process.poll() is not None:
            break
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(wait)
        except subprocess.TimeoutExpired:
            continue
    try:
        os.killpg(process.pid, signal.SIGKILL)  # kernels left in the group
    except ProcessLookupError:
        pass


@pytest.fixture
def browser(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _wait(what: str, condition, timeout: float = 60.0, every: float = 0.25):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            found = condition()
        except Exception:  # noqa: BLE001 - the page is still building
            found = None
        if found:
            return found
        time.sleep(every)
    pytest.fail(f"timed out waiting for {what}")


def _sessions(url: str, token: str) -> list[dict]:
    """The server's sessions, asked as JupyterLab asks (the REST API, with the token)."""
    from urllib.request import ProxyHandler, Request, build_opener

    request = Request(f"{url}/api/sessions", headers={"Authorization": f"token {token}"})
    with build_opener(ProxyHandler({})).open(request, timeout=5) as response:
        return json.loads(response.read())


def _run_cell(driver, position: int) -> None:
    """Select the cell at ``position`` (command mode) and run it with Shift+Enter, as a user does."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    cells = driver.find_elements(By.CSS_SELECTOR, ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell")
    prompt = cells[position].find_element(By.CSS_SELECTOR, ".jp-InputPrompt")
    ActionChains(driver).move_to_element(prompt).click().perform()
    ActionChains(driver).key_down(Keys.SHIFT).send_keys(Keys.ENTER).key_up(Keys.SHIFT).perform()
    _wait(f"cell {position + 1} to run", lambda: _prompt(driver, position) not in ("", "[ ]:", "[*]:"), 90)


def _prompt(driver, position: int) -> str:
    from selenium.webdriver.common.by import By

    cells = driver.find_elements(By.CSS_SELECTOR, ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell")
    return cells[position].find_element(By.CSS_SELECTOR, ".jp-InputPrompt").text.strip()


def _rename(driver, new_name: str) -> None:
    """File → Rename Notebook…, through JupyterLab's own dialog."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    def menu_item(label: str):
        for item in driver.find_elements(By.CSS_SELECTOR, ".lm-Menu-item"):
            if item.is_displayed() and item.text.strip().startswith(label):
                return item
        return None

    _wait("the File menu", lambda: [m for m in driver.find_elements(By.CSS_SELECTOR, ".lm-MenuBar-itemLabel")
                                     if m.text == "File"])[0].click()
    _wait("Rename Notebook…", lambda: menu_item("Rename Notebook")).click()
    field = _wait("the rename dialog", lambda: driver.find_element(By.CSS_SELECTOR, ".jp-Dialog input"))
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(new_name)
    field.send_keys(Keys.ENTER)


def test_a_notebook_run_and_renamed_in_jupyterlab_saves_and_verifies_its_own_lock(lab, browser):
    from selenium.webdriver.common.by import By

    url, token, work, env = lab
    write_notebook(work / "Untitled.ipynb", CELLS, ids=IDS)
    # a copy with the same cell ids: only the server's session (not a guess from the folder) names the notebook
    write_notebook(work / "a-copy.ipynb", CELLS, ids=IDS)
    browser.get(f"{url}/lab/tree/Untitled.ipynb?token={token}&reset")
    _wait("the kernel to be idle", lambda: browser.find_element(
        By.CSS_SELECTOR, ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell"), 120)
    _wait("the notebook's kernel to be idle", lambda: [s for s in _sessions(url, token)
                                                       if s["kernel"]["execution_state"] == "idle"], 120)
    for position in range(3):
        _run_cell(browser, position)
    panel = _wait("the panel rendered as a widget", lambda: browser.find_element(
        By.CSS_SELECTOR, ".jp-OutputArea .reprotrack-panel.widget-hbox"), 60)
    _wait("the panel to count the runs", lambda: "2 cells tracked" in panel.text, 30)

    _rename(browser, "retention.ipynb")
    _wait("the rename", lambda: (work / "retention.ipynb").exists() and not (work / "Untitled.ipynb").exists())
    _run_cell(browser, 3)
    lock_path = _wait("the lock", lambda: (work / "retention.reprotrack.lock").exists() and
                      work / "retention.reprotrack.lock")
    assert not (work / "Untitled.reprotrack.lock").exists()

    lock = json.loads(lock_path.read_text())
    assert lock["notebook"] == "retention.ipynb"
    assert [c["id"] for c in lock["cells"]] == ["data", "total"]  # JupyterLab's cell ids
    assert "ipywidgets" in lock["environment"]["packages"]  # the panel imported it...
    assert "ipywidgets" not in lock["environment"]["user_packages"]  # ...the user's code did not
    assert "numpy" in lock["environment"]["user_packages"]

    done = subprocess.run([sys.executable, "-m", "reprotrack", "verify", str(work / "retention.ipynb"),
                           "--format", "json"], capture_output=True, text=True, env=env, cwd=work, timeout=300)
    report = json.loads(done.stdout)
    described = [(f["kind"], f["cause"], f["subject"], f["message"]) for f in report["findings"]]
    assert done.returncode == 0 and report["status"] == "reproduced", (described, done.stderr[-2000:])
    assert not [f for f in report["findings"] if "ipywidgets" in str(f["subject"])], described
