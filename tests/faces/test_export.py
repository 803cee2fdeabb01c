"""Export for engineering: pinned requirements and PEP 751 pylock.toml, checked by pip itself (offline).

pip resolves against what is installed (the project's environment) or against a --find-links folder of
real wheels built here; `--no-index` everywhere, so nothing is downloaded.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import tomllib
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.requirements import Requirement

from reprotrack import export, store
from reprotrack.cli import main
from reprotrack.core.lockfile import Lock
from reprotrack.errors import ReprotrackError
from reprotrack.export import ExportError
from reprotrack.kernel.capture.environment import environment_facts


def _lock(packages: dict[str, str], **env) -> Lock:
    environment = {"python": "3.11.7", "implementation": "CPython", "platform": {"system": "Linux", "machine": "x86_64"}}
    environment.update(env)
    environment["packages"] = packages
    return Lock(environment=environment, notebook="research.ipynb")


def _requirement_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def _make_wheel(folder: Path, name: str, version: str) -> Path:
    """A minimal, valid pure-Python wheel (what `pip download` would have put in the folder)."""
    dist = f"{name.replace('-', '_')}-{version}"
    files = {
        f"{name.replace('-', '_')}/__init__.py": b"VALUE = 1\n",
        f"{dist}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"{dist}.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{dist}.dist-info/RECORD,,")
    wheel = folder / f"{dist}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for path, data in files.items():
            zf.writestr(path, data)
        zf.writestr(f"{dist}.dist-info/RECORD", "\n".join(record) + "\n")
    return wheel


def _pip_dry_run(python: str, *args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--python", python, "install", "--dry-run", "--no-index", "-q",
         "--disable-pip-version-check", "--report", "-", *args],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def empty_venv(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("export") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True, timeout=120)
    return str(path / "bin" / "python")


# -- requirements ---------------------------------------------------------------------------------------
def test_requirements_from_a_real_environment_are_exact_pins_pip_accepts(tmp_path):
    import numpy  # noqa: F401 - imported so the environment capture records them
    import pandas  # noqa: F401
    import sklearn  # noqa: F401

    lock = Lock(environment=environment_facts(), notebook="research.ipynb")
    text = export.export_requirements(lock)
    assert "Python 3.11" in text.splitlines()[1] or sys.version_info[:2] != (3, 11)
    lines = _requirement_lines(text)
    assert [Requirement(line).name for line in lines] == sorted(Requirement(line).name for line in lines)
    names = set()
    for line in lines:
        req = Requirement(line)
        (spec,) = req.specifier
        assert spec.operator == "=="
        names.add(req.name)
    assert {"numpy", "pandas", "scikit-learn", "reprotrack"} <= names
    # pip, offline, against this very environment: every pin is already satisfied, nothing to install
    (tmp_path / "requirements.txt").write_text(text)
    report = _pip_dry_run(sys.executable, "-r", str(tmp_path / "requirements.txt"))
    assert report["install"] == []


def test_requirements_install_into_a_fresh_environment_from_local_wheels(tmp_path, empty_venv):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    _make_wheel(wheels, "demo-pkg", "1.2.3")
    _make_wheel(wheels, "demo-pkg", "2.0.0")  # a newer one must not be chosen
    lock = _lock({"Demo_Pkg": "1.2.3"})
    lock.generator = {"name": "someone-else", "version": "1"}
    (tmp_path / "requirements.txt").write_text(export.export_requirements(lock))
    report = _pip_dry_run(empty_venv, "--find-links", str(wheels), "-r", str(tmp_path / "requirements.txt"))
    assert [(i["metadata"]["name"], i["metadata"]["version"]) for i in report["install"]] == [("demo-pkg", "1.2.3")]


def test_requirements_header_and_legacy_versions():
    text = export.export_requirements(_lock({"numpy": "1.26.4", "oldthing": "2013b.local-build"}))
    assert text.startswith("# Pinned by reprotrack")
    assert "Python 3.11.7 (CPython), Linux x86_64" in text
    assert _requirement_lines(text) == ["numpy==1.26.4", "oldthing===2013b.local-build", "reprotrack==0.1.0"]
    for line in _requirement_lines(text):
        Requirement(line)


def test_a_crafted_lock_cannot_inject_pip_options():
    warnings: list[str] = []
    lock = _lock(
        {
            "good": "1.0",
            "evil\n--index-url http://attacker.invalid/simple": "1.0",
            "also-evil": "1.0 --extra-index-url=http://attacker.invalid",
            "pkg": "1.0\n-e /tmp/x",
        },
        python='3.11"\n--trusted-host attacker.invalid',
    )
    lock.notebook = "nb.ipynb\n--index-url http://attacker.invalid"
    text = export.export_requirements(lock, warnings.append)
    assert not [line for line in text.splitlines() if line.startswith("-")]
    assert _requirement_lines(text) == ["good==1.0", "reprotrack==0.1.0"]
    assert len(warnings) == 3


# -- pylock.toml ----------------------------------------------------------------------------------------
def test_pylock_from_local_wheels_is_valid_pep751_and_installable(tmp_path, empty_venv):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    wheel = _make_wheel(wheels, "demo-pkg", "1.2.3")
    _make_wheel(wheels, "other", "0.1")
    lock = _lock({"demo-pkg": "1.2.3"})
    lock.generator = {"name": "someone-else", "version": "1"}
    text = export.export_pylock(lock, find_links=[wheels], base=tmp_path)
    data = tomllib.loads(text)
    assert data["lock-version"] == "1.0" and data["created-by"] == "reprotrack"
    assert data["requires-python"] == "==3.11.*"
    (package,) = data["packages"]
    assert package["name"] == "demo-pkg" and package["version"] == "1.2.3"
    (entry,) = package["wheels"]
    assert entry["path"] == "wheels/demo_pkg-1.2.3-py3-none-any.whl"
    assert entry["hashes"] == {"sha256": hashlib.sha256(wheel.read_bytes()).hexdigest()}
    assert entry["size"] == wheel.stat().st_size

    pylock = pytest.importorskip("packaging.pylock")
    pylock.Pylock.from_dict(data)  # raises on anything PEP 751 forbids
    (tmp_path / "pylock.toml").write_text(text)
    report = _pip_dry_run(empty_venv, "-r", str(tmp_path / "pylock.toml"))
    assert [(i["metadata"]["name"], i["metadata"]["version"]) for i in report["install"]] == [("demo-pkg", "1.2.3")]


def test_pylock_uses_the_editable_checkout_of_reprotrack_and_warns_it_is_local():
    from importlib import metadata

    info = export.direct_url(metadata.distribution("reprotrack"))
    if not info or not (info.get("dir_info") or {}).get("editable"):
        pytest.skip("reprotrack is not installed editable in this environment")
    warnings: list[str] = []
    lock = _lock({})
    text = export.export_pylock(lock, warn=warnings.append)
    (package,) = tomllib.loads(text)["packages"]
    assert package["name"] == "reprotrack" and package["directory"]["editable"] is True
    assert Path(package["directory"]["path"]).resolve() == Path(__file__).resolve().parents[2]
    assert any("local path" in w for w in warnings)
    assert any("editable checkout" in w for w in export.local_source_warnings(lock))


def _installed_dist(tmp_path: Path, name: str, version: str, direct: dict) -> "metadata.PathDistribution":
    """A real dist-info folder (as pip writes it for a direct-URL install), read by importlib.metadata."""
    from importlib import metadata

    info = tmp_path / "site" / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (info / "direct_url.json").write_text(json.dumps(direct))
    return metadata.PathDistribution(info)


@pytest.mark.parametrize(
    ("direct", "table"),
    [
        ({"url": "https://git.example.invalid/x.git", "vcs_info": {"vcs": "git", "commit_id": "a" * 40}}, "vcs"),
        ({"url": "file:///src/x", "dir_info": {"editable": True}}, "directory"),
        ({"url": "https://files.example.invalid/x-1.tar.gz", "archive_info": {"hash": "sha256=" + "b" * 64}}, "archive"),
    ],
)
def test_pylock_direct_sources_from_direct_url_json(tmp_path, direct, table):
    dist = _installed_dist(tmp_path, "xpkg", "0.4.custom", direct)
    lock = _lock({"xpkg": "0.4.custom"})  # a legacy (non PEP 440) version: pinned with ===, no pylock version key
    lock.generator = {"name": "someone-else", "version": "1"}
    warnings: list[str] = []
    text = export.export_pylock(lock, installed=lambda name: dist if name == "xpkg" else None, warn=warnings.append)
    (package,) = tomllib.loads(text)["packages"]
    assert "version" not in package and table in package
    if table == "vcs":
        assert package["vcs"]["commit-id"] == "a" * 40 and not warnings
    if table == "directory":
        assert package["directory"] == {"path": "/src/x", "editable": True} and warnings
    if table == "archive":
        assert package["archive"]["hashes"] == {"sha256": "b" * 64}
    assert export.export_requirements(lock).splitlines()[-1] == "xpkg===0.4.custom"


def test_pylock_ignores_a_direct_install_of_another_version(tmp_path):
    dist = _installed_dist(tmp_path, "xpkg", "1.0", {"url": "file:///src/x", "dir_info": {}})
    lock = _lock({"xpkg": "2.0"})
    lock.generator = {"name": "someone-else", "version": "1"}
    with pytest.raises(ExportError, match="xpkg==2.0"):
        export.export_pylock(lock, installed=lambda name: dist)
    assert export.local_source_warnings(lock, installed=lambda name: dist) == []


def test_pylock_refuses_packages_it_has_no_file_for():
    with pytest.raises(ExportError) as raised:
        export.export_pylock(_lock({"numpy": "0.0.1", "pandas": "0.0.2"}))
    message = str(raised.value)
    assert "numpy==0.0.1" in message and "pandas==0.0.2" in message and "--find-links" in message
    assert isinstance(raised.value, ReprotrackError)


def test_pylock_escapes_strings_from_the_lock():
    hostile = 'a"b\\c\n[packages]\tz\x00\x7f é'
    lock = _lock({}, python="3.11.7", implementation=hostile)
    lock.generator = {"name": "someone-else", "version": "1"}
    data = tomllib.loads(export.export_pylock(lock))
    # comments and tool values are single printable lines; nothing escaped out of its string
    assert set(data) == {"lock-version", "created-by", "requires-python", "packages", "tool"}
    assert "[packages]" in data["tool"]["reprotrack"]["python"]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",))))
def test_toml_strings_round_trip(value):
    assert tomllib.loads(f"k = {export._toml_str(value)}")["k"] == value


# -- CLI --------------------------------------------------------------------------------------------------
def test_cli_export_writes_files_and_reports_bad_input(tmp_path, capsys):
    lock_path = tmp_path / "research.lock"
    store.write_lock(lock_path, _lock({"numpy": "1.26.4"}))
    out = tmp_path / "requirements.txt"
    assert main(["export", str(lock_path), "--format", "requirements", "-o", str(out)]) == 0
    assert _requirement_lines(out.read_text()) == ["numpy==1.26.4", "reprotrack==0.1.0"]

    assert main(["export", str(lock_path)]) == 0
    assert "numpy==1.26.4" in capsys.readouterr().out

    wheels = tmp_path / "wheels"
    wheels.mkdir()
    _make_wheel(wheels, "numpy", "1.26.4")
    _make_wheel(wheels, "reprotrack", "0.1.0")
    target = tmp_path / "out" / "pylock.toml"
    target.parent.mkdir()
    code = main(["export", str(lock_path), "--format", "pylock", "--find-links", str(wheels), "--output", str(target)])
    assert code == 0
    names = [p["name"] for p in tomllib.loads(target.read_text())["packages"]]
    assert names == ["numpy", "reprotrack"]
    assert tomllib.loads(target.read_text())["packages"][0]["wheels"][0]["path"].startswith("../wheels/")

    capsys.readouterr()
    assert main(["export", str(lock_path), "--format", "pylock", "--find-links", str(tmp_path / "nope")]) == 2
    assert "not a folder" in capsys.readouterr().err
    assert main(["export", str(lock_path), "--format", "yaml"]) == 2
