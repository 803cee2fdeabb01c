"""Auto-enable: the startup file shipped into <sys.prefix>/etc/ipython/startup registers %reprotrack.

The kernel tests build the real wheel, install it into a fresh virtual environment (its dependencies come
from the project's environment through a .pth file: nothing is downloaded) and start kernels from that
environment through jupyter_client, with an empty IPYTHONDIR so the user's own profile plays no part.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT

from reprotrack import startup

SHIPPED = ROOT / "jupyter-config" / "ipython" / "startup" / "50-reprotrack.py"
TARGET = "etc/ipython/startup/50-reprotrack.py"


# -- the module the startup file delegates to ---------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, True), ("1", True), ("yes", True), ("0", False), ("false", False), (" OFF ", False), ("no", False)],
)
def test_opt_out_variable(value, expected):
    environ = {} if value is None else {startup.OPT_OUT_VARIABLE: value}
    assert startup.enabled(environ) is expected


def test_autoload_registers_only_the_magic():
    from IPython.core.interactiveshell import InteractiveShell

    InteractiveShell.clear_instance()
    shell = InteractiveShell.instance()
    try:
        assert "reprotrack" not in shell.magics_manager.magics["line"]
        assert startup.autoload(shell, environ={}) is True
        assert "reprotrack" in shell.magics_manager.magics["line"]
        assert "reprotrack" not in shell.extension_manager.loaded  # %load_ext stays silent
        from reprotrack.kernel import session

        assert session.active() is None  # registering never starts tracking
        # the notebook's own %load_ext afterwards prints no "already loaded" note
        result = shell.run_cell("%load_ext reprotrack", store_history=False)
        assert result.success
    finally:
        InteractiveShell.clear_instance()


def test_autoload_opted_out_or_without_shell_does_nothing():
    from IPython.core.interactiveshell import InteractiveShell

    InteractiveShell.clear_instance()
    shell = InteractiveShell.instance()
    try:
        assert startup.autoload(shell, environ={"REPROTRACK_AUTOLOAD": "0"}) is False
        assert "reprotrack" not in shell.magics_manager.magics["line"]
    finally:
        InteractiveShell.clear_instance()
    assert startup.autoload(object(), environ={}) is False  # not a shell: no error


def test_autoload_never_raises_on_a_broken_shell():
    class Hostile:
        def register_magics(self, *args):
            raise RuntimeError("boom")

    assert startup.autoload(Hostile(), environ={}) is False


def test_startup_file_leaves_no_names_and_survives_a_missing_package(ip, tmp_path):
    namespace_before = set(ip.user_ns)
    ip.safe_execfile(str(SHIPPED), ip.user_ns, raise_exceptions=True)
    assert set(ip.user_ns) == namespace_before
    # the same file where reprotrack cannot be imported at all: still no exception
    broken = {"__builtins__": {"__import__": _failing_import, "BaseException": BaseException}}
    exec(compile(SHIPPED.read_text(), str(SHIPPED), "exec"), broken)
    assert set(broken) == {"__builtins__"}


def _failing_import(*args, **kwargs):
    raise ImportError("no reprotrack here")


def test_pyproject_ships_the_startup_file():
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    shared = config["tool"]["hatch"]["build"]["targets"]["wheel"]["shared-data"]
    assert shared == {"jupyter-config/ipython/startup/50-reprotrack.py": TARGET}


# -- a fresh virtual environment and real kernels ------------------------------------------------------
def _build(kind: str, out: Path) -> Path:
    """Build reprotrack's wheel with the project's own hatchling (no isolation, no index)."""
    hook = "build_wheel" if kind == "standard" else "build_editable"
    code = f"import sys; from hatchling.build import {hook} as b; print(b(sys.argv[1]))"
    done = subprocess.run([sys.executable, "-c", code, str(out)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return out / done.stdout.strip().splitlines()[-1]


def _fresh_venv(path: Path, wheel: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True, timeout=120)
    site = Path(
        subprocess.run(
            [str(path / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
    )
    # dependencies (ipykernel, numpy…) from the project's environment, after the fresh one's own packages
    (site / "_project_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(path / "bin" / "python"), "install", "-q",
         "--disable-pip-version-check", "--no-deps", "--no-index", str(wheel)],
        check=True, timeout=300,
    )
    return path


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory):
    base = tmp_path_factory.mktemp("startup")
    wheel = _build("standard", base)
    with zipfile.ZipFile(wheel) as zf:
        assert f"reprotrack-0.1.0.data/data/{TARGET}" in zf.namelist()
    return _fresh_venv(base / "a-venv", wheel)


def _kernel_run(venv: Path, code: str, tmp_path: Path, env: dict[str, str] | None = None) -> tuple[str, str]:
    """Start a kernel from ``venv`` through jupyter_client, run ``code``; return (status, text output)."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    spec = tmp_path / "kernels" / "fresh"
    spec.mkdir(parents=True, exist_ok=True)
    argv = [str(venv / "bin" / "python"), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "fresh", "language": "python"}))
    km = KernelManager(kernel_name="fresh", kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(spec.parent)]))
    full_env = {k: v for k, v in os.environ.items() if k != "REPROTRACK_AUTOLOAD"}
    full_env["IPYTHONDIR"] = str(tmp_path / "z-ipython")
    full_env.update(env or {})
    km.start_kernel(env=full_env)
    texts: list[str] = []

    def hook(msg):
        content = msg["content"]
        if msg["msg_type"] == "stream":
            texts.append(content["text"])
        elif msg["msg_type"] == "error":
            texts.append(f"{content['ename']}: {content['evalue']}")

    try:
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=60)
        reply = kc.execute_interactive(code, timeout=60, output_hook=hook)
        kc.stop_channels()
    finally:
        km.shutdown_kernel(now=True)
    return reply["content"]["status"], "".join(texts)


@pytest.mark.kernel
def test_fresh_environment_kernel_has_the_magic_without_load_ext(fresh_venv, tmp_path):
    code = (
        "%reprotrack status\n"
        "import sys\n"
        "print(sys.prefix)\n"
        "print('leaked:', sorted(k for k in globals() if 'reprotrack' in k.lower()))\n"
        "print('extension loaded:', 'reprotrack' in get_ipython().extension_manager.loaded)\n"
    )
    status, out = _kernel_run(fresh_venv, code, tmp_path)
    assert status == "ok", out
    assert "reprotrack: not tracking" in out  # registered, and not started
    assert str(fresh_venv) in out  # the kernel really ran from the fresh environment
    assert "leaked: []" in out and "extension loaded: False" in out


@pytest.mark.kernel
def test_opt_out_leaves_the_kernel_untouched(fresh_venv, tmp_path):
    status, out = _kernel_run(fresh_venv, "%reprotrack status", tmp_path, env={"REPROTRACK_AUTOLOAD": "0"})
    assert status == "error"
    assert "reprotrack` not found" in out


@pytest.mark.kernel
def test_a_broken_reprotrack_does_not_skip_the_users_later_startup_files(fresh_venv, tmp_path):
    # the user's own startup file sorts after ours (IPython sorts all startup files by full path)
    user_startup = tmp_path / "z-ipython" / "profile_default" / "startup"
    user_startup.mkdir(parents=True)
    (user_startup / "99-user.py").write_text("USER_STARTUP_RAN = True\n")
    assert str(fresh_venv / TARGET) < str(user_startup / "99-user.py")
    # a reprotrack that explodes on import shadows the installed one
    shadow = tmp_path / "shadow" / "reprotrack"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise SystemExit('broken install')\n")
    status, out = _kernel_run(
        fresh_venv, "print('user file ran:', USER_STARTUP_RAN)", tmp_path, env={"PYTHONPATH": str(shadow.parent)}
    )
    assert status == "ok", out
    assert "user file ran: True" in out


@pytest.mark.kernel
def test_editable_install_enables_the_magic_too(tmp_path):
    """`pip install -e .` (the README's set-up) must install shared-data as well: hatchling's editable wheel."""
    pytest.importorskip("editables", reason="hatchling's editable build needs `editables` (the test extra)")
    wheel = _build("editable", tmp_path)
    with zipfile.ZipFile(wheel) as zf:
        assert f"reprotrack-0.1.0.data/data/{TARGET}" in zf.namelist()
    venv = _fresh_venv(tmp_path / "a-venv", wheel)
    assert (venv / TARGET).is_file()
    status, out = _kernel_run(venv, "%reprotrack status\nimport reprotrack; print(reprotrack.__file__)", tmp_path)
    assert status == "ok", out
    assert "reprotrack: not tracking" in out and str(ROOT / "reprotrack") in out  # the checkout itself
