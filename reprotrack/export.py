"""Export a lock's environment for engineering: pinned ``requirements.txt`` or a PEP 751 ``pylock.toml``.

Staging can only reproduce research if it installs what research ran. The lock records every distribution
the notebook imported (``environment.packages``, name → version); this module turns that into files pip
and other installers read.

- ``export_requirements(lock)``: ``name==version`` lines, sorted, with a header naming the research Python
  and platform. Only imported distributions are pinned (pip resolves their other dependencies), plus
  reprotrack itself at the version that wrote the lock, since staging replays with it.
- ``export_pylock(lock, find_links=…)``: a PEP 751 lock. PEP 751 requires every package to name a file
  and its hash (or a VCS commit / local directory), which a reprotrack lock cannot know: the archives
  come from ``find_links`` folders (``pip download -r requirements.txt -d wheels/``) and from how a
  package is installed here (``direct_url.json``). A package with no source is an error, never an entry
  an installer would reject later. Validated with ``packaging.pylock`` when that module exists.

Every name and version is checked before it is written: a lock is input, and a crafted "version" must
not become an ``--index-url`` line or a TOML injection. No paths or secrets from the lock are written.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence
from urllib.parse import unquote, urlparse

from reprotrack._version import __version__
from reprotrack.core.lockfile import Lock
from reprotrack.core.text import one_line
from reprotrack.errors import ReprotrackError

FORMATS = ("requirements", "pylock")

_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)
_LEGACY_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+!_-]*$")
_ARCHIVE_SUFFIXES = (".whl", ".tar.gz", ".zip")


class ExportError(ReprotrackError):
    """The lock cannot be exported in the requested format (what is missing and what to do)."""


@dataclass
class Pin:
    """One distribution to install: canonical name, version, and the ``==``/``===`` operator it needs."""

    name: str
    version: str
    operator: str = "=="

    @property
    def line(self) -> str:
        return f"{self.name}{self.operator}{self.version}"


def canonical_name(name: str) -> str:
    """PEP 503 normalised name: what pylock requires and what makes pins sort predictably."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(lock: Lock, warn: Callable[[str], None] | None = None) -> list[Pin]:
    """The lock's packages as pins, sorted by name; malformed names or versions are skipped with a warning."""
    from packaging.version import InvalidVersion, Version

    packages = (lock.environment or {}).get("packages") or {}
    found: dict[str, Pin] = {}
    for raw_name, raw_version in packages.items():
        if not isinstance(raw_name, str) or not _NAME.match(raw_name) or not isinstance(raw_version, str):
            _say(warn, f"skipped a package entry with an invalid name or version: {str(raw_name)[:60]!r}")
            continue
        version = raw_version.strip()
        try:
            Version(version)
            operator = "=="
        except InvalidVersion:
            if not _LEGACY_VERSION.match(version):
                _say(warn, f"skipped {raw_name}: its version {version[:40]!r} cannot be pinned")
                continue
            operator = "==="  # arbitrary equality: a non-PEP 440 version pinned exactly as recorded
        name = canonical_name(raw_name)
        found[name] = Pin(name, version, operator)
    generator = lock.generator if isinstance(lock.generator, dict) else {}
    own = generator.get("version")
    if "reprotrack" not in found and generator.get("name") == "reprotrack" and isinstance(own, str):
        try:  # staging replays with reprotrack: pin the version that wrote the lock
            found["reprotrack"] = Pin("reprotrack", str(Version(own)))
        except InvalidVersion:
            pass
    return [found[name] for name in sorted(found)]


def describe_environment(lock: Lock) -> tuple[str, str]:
    """(Python, platform) of the research run, as short printable text for headers."""
    env = lock.environment or {}
    python = one_line(f"{env.get('python', 'unknown')} ({env.get('implementation', 'unknown')})", 120)
    plat = env.get("platform") or {}
    platform_text = one_line(" ".join(str(plat.get(k, "")) for k in ("system", "machine")).strip() or "unknown", 120)
    return python, platform_text


def export_requirements(lock: Lock, warn: Callable[[str], None] | None = None) -> str:
    """Pinned requirements (``name==version`` lines, sorted) with a header naming the research environment."""
    python, platform_text = describe_environment(lock)
    lines = [
        f"# Pinned by reprotrack {__version__} from the lock of {one_line(lock.notebook or 'a script run', 120)}.",
        f"# Research ran on Python {python}, {platform_text}.",
        "# Only the distributions the notebook imported are pinned; pip resolves their other dependencies.",
    ]
    lines.extend(pin.line for pin in pins(lock, warn))
    return "\n".join(lines) + "\n"


# -- pylock.toml ---------------------------------------------------------------------------------------
def export_pylock(
    lock: Lock,
    *,
    find_links: Sequence[str | Path] = (),
    base: str | Path | None = None,
    warn: Callable[[str], None] | None = None,
    installed: Callable[[str], metadata.Distribution | None] | None = None,
) -> str:
    """A PEP 751 ``pylock.toml`` for the lock's packages.

    Each package's files come from ``find_links`` folders (wheels and sdists matching name and version,
    with their sha256), else from how this environment installed that exact version (VCS commit, local
    directory, archive with hash). Paths are written relative to ``base`` (the output file's folder) when
    given. Raises ``ExportError`` naming the packages that have no source.
    """
    installed = installed or _installed
    archives = _scan_archives(find_links)
    python, platform_text = describe_environment(lock)
    blocks: list[str] = []
    missing: list[str] = []
    for pin in pins(lock, warn):
        block = ["[[packages]]", f"name = {_toml_str(pin.name)}"]
        if pin.operator == "==":  # optional in PEP 751, and only a PEP 440 version may stand there
            block.append(f"version = {_toml_str(pin.version)}")
        files = archives.get((pin.name, _version_key(pin.version)), [])
        if files:
            block.extend(_file_tables(files, base))
        else:
            direct = _direct_source(pin, installed(pin.name), base, warn)
            if direct is None:
                missing.append(pin.line)
                continue
            block.extend(direct)
        blocks.append("\n".join(block))
    if missing:
        shown = ", ".join(missing[:8]) + (f" and {len(missing) - 8} more" if len(missing) > 8 else "")
        raise ExportError(
            f"a pylock.toml must name a file and its hash for every package (PEP 751); no file found for {shown}. "
            "Download them first (`reprotrack export LOCK --format requirements -o requirements.txt`, then "
            "`pip download --no-deps -r requirements.txt -d wheels/`) and pass `--find-links wheels/`."
        )
    major_minor = ".".join(str((lock.environment or {}).get("python", "")).split(".")[:2])
    head = [
        f"# Generated by reprotrack {__version__} from the lock of {one_line(lock.notebook or 'a script run', 120)}.",
        f"# Research ran on Python {python}, {platform_text}.",
        'lock-version = "1.0"',
        'created-by = "reprotrack"',
    ]
    if re.fullmatch(r"\d+\.\d+", major_minor):
        head.append(f"requires-python = {_toml_str(f'=={major_minor}.*')}")
    if not blocks:
        head.append("packages = []")  # required by PEP 751, even when the notebook imported nothing
    tool = ["[tool.reprotrack]", f"python = {_toml_str(python)}", f"platform = {_toml_str(platform_text)}"]
    text = "\n".join(head) + "\n\n" + "\n\n".join(blocks + ["\n".join(tool)]) + "\n"
    validate_pylock(text)
    return text


def validate_pylock(text: str) -> None:
    """Parse the TOML back and, when ``packaging.pylock`` exists, validate it against PEP 751."""
    import tomllib

    data = tomllib.loads(text)
    try:
        from packaging.pylock import Pylock, PylockValidationError
    except ImportError:  # packaging < 25.1: TOML well-formedness is all we can check
        return
    try:
        Pylock.from_dict(data)
    except PylockValidationError as exc:  # pragma: no cover - would be a bug in this module
        raise ExportError(f"the generated pylock.toml is not valid PEP 751: {exc}") from exc


@dataclass
class _Archive:
    path: Path
    kind: str  # "wheel" | "sdist"
    size: int
    sha256: str


def _scan_archives(folders: Iterable[str | Path]) -> dict[tuple[str, str], list[_Archive]]:
    from packaging.utils import InvalidSdistFilename, InvalidWheelFilename, parse_sdist_filename, parse_wheel_filename

    found: dict[tuple[str, str], list[_Archive]] = {}
    for folder in folders:
        folder = Path(folder)
        if not folder.is_dir():
            raise ExportError(f"--find-links {folder} is not a folder of wheels/sdists.")
        for path in sorted(folder.iterdir()):
            if not path.is_file() or not path.name.endswith(_ARCHIVE_SUFFIXES):
                continue
            try:
                if path.name.endswith(".whl"):
                    name, version, _, _ = parse_wheel_filename(path.name)
                    kind = "wheel"
                else:
                    name, version = parse_sdist_filename(path.name)
                    kind = "sdist"
            except (InvalidWheelFilename, InvalidSdistFilename):
                continue
            digest = hashlib.sha256()
            with path.open("rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(chunk)
            archive = _Archive(path.resolve(), kind, path.stat().st_size, digest.hexdigest())
            found.setdefault((canonical_name(name), str(version)), []).append(archive)
    return found


def _version_key(version: str) -> str:
    from packaging.version import InvalidVersion, Version

    try:
        return str(Version(version))
    except InvalidVersion:
        return version


def _file_tables(files: list[_Archive], base: str | Path | None) -> list[str]:
    out: list[str] = []
    sdists = [f for f in files if f.kind == "sdist"]
    for wheel in (f for f in files if f.kind == "wheel"):
        out += ["", "[[packages.wheels]]", f"name = {_toml_str(wheel.path.name)}"]
        out += _path_size_hash(wheel, base)
    if sdists:
        out += ["", "[packages.sdist]", f"name = {_toml_str(sdists[0].path.name)}"]
        out += _path_size_hash(sdists[0], base)
    return out


def _path_size_hash(archive: _Archive, base: str | Path | None) -> list[str]:
    return [
        f"path = {_toml_str(_relative(archive.path, base))}",
        f"size = {archive.size}",
        f"hashes = {{sha256 = {_toml_str(archive.sha256)}}}",
    ]


def _relative(path: Path, base: str | Path | None) -> str:
    if base is None:
        return path.as_posix()
    import os

    try:
        return Path(os.path.relpath(path, Path(base).resolve())).as_posix()
    except ValueError:  # another drive on Windows
        return path.as_posix()


def _installed(name: str) -> metadata.Distribution | None:
    try:
        return metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return None


def direct_url(dist: metadata.Distribution | None) -> dict[str, Any] | None:
    """The PEP 610 ``direct_url.json`` of an installed distribution (installed from a URL/path), if any."""
    if dist is None:
        return None
    try:
        raw = dist.read_text("direct_url.json")
        data = json.loads(raw) if raw else None
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("url"), str) else None


def local_source_warnings(lock: Lock, installed: Callable[[str], metadata.Distribution | None] | None = None) -> list[str]:
    """Packages of the lock installed here, at the locked version, from a local ``file://`` path: staging
    cannot get them from an index, so an engineer must be told before the build fails."""
    installed = installed or _installed
    found = []
    for pin in pins(lock):
        dist = installed(pin.name)
        info = direct_url(dist)
        if info and info["url"].startswith("file:") and _same_version(dist, pin):
            how = "an editable checkout" if (info.get("dir_info") or {}).get("editable") else "a local path"
            found.append(f"{pin.name} {pin.version} is installed here from {how}; staging needs that source too")
    return found


def _same_version(dist: metadata.Distribution | None, pin: Pin) -> bool:
    try:
        return dist is not None and _version_key(dist.version) == _version_key(pin.version)
    except Exception:  # noqa: BLE001 - broken metadata is "not the same"
        return False


def _direct_source(
    pin: Pin, dist: metadata.Distribution | None, base: str | Path | None, warn: Callable[[str], None] | None
) -> list[str] | None:
    """``[packages.vcs|directory|archive]`` from how this environment installed the pinned version."""
    info = direct_url(dist)
    if info is None or not _same_version(dist, pin):
        return None
    url = info["url"]
    local = url.startswith("file:")
    path = _relative(Path(unquote(urlparse(url).path)), base) if local else None
    if isinstance(info.get("vcs_info"), dict) and isinstance(info["vcs_info"].get("commit_id"), str):
        vcs = info["vcs_info"]
        out = ["", "[packages.vcs]", f"type = {_toml_str(str(vcs.get('vcs', 'git')))}"]
        out.append(f"path = {_toml_str(path)}" if local else f"url = {_toml_str(url)}")
        out.append(f"commit-id = {_toml_str(vcs['commit_id'])}")
    elif isinstance(info.get("dir_info"), dict) and local:
        editable = bool(info["dir_info"].get("editable"))
        out = ["", "[packages.directory]", f"path = {_toml_str(path)}", f"editable = {'true' if editable else 'false'}"]
    elif isinstance(info.get("archive_info"), dict):
        hashes = _archive_hashes(info["archive_info"])
        if not hashes:
            return None
        out = ["", "[packages.archive]"]
        out.append(f"path = {_toml_str(path)}" if local else f"url = {_toml_str(url)}")
        inline = ", ".join(f"{_toml_key(k)} = {_toml_str(v)}" for k, v in sorted(hashes.items()))
        out.append(f"hashes = {{{inline}}}")
    else:
        return None
    if local:
        _say(warn, f"{pin.name} {pin.version} comes from a local path; the pylock.toml points at it on this machine")
    return out


def _archive_hashes(archive_info: dict[str, Any]) -> dict[str, str]:
    hashes = archive_info.get("hashes")
    found = {k: v for k, v in hashes.items() if isinstance(k, str) and isinstance(v, str)} if isinstance(hashes, dict) else {}
    legacy = archive_info.get("hash")
    if not found and isinstance(legacy, str) and "=" in legacy:
        algorithm, _, value = legacy.partition("=")
        found[algorithm] = value
    return {k: v for k, v in found.items() if re.fullmatch(r"[a-z0-9_]+", k) and re.fullmatch(r"[0-9a-fA-F]+", v)}


# -- TOML by hand (tomllib reads, it does not write) ------------------------------------------------------
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def _toml_str(value: str) -> str:
    """A TOML basic string: quotes, backslashes and every control character escaped."""
    out = []
    for ch in value:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_str(key)




def _say(warn: Callable[[str], None] | None, message: str) -> None:
    if warn is not None:
        warn(message)


def render(
    lock: Lock,
    fmt: str,
    *,
    find_links: Sequence[str | Path] = (),
    output: str | Path | None = None,
    warn: Callable[[str], None] | None = None,
) -> str:
    """The export text in ``fmt`` (``requirements`` | ``pylock``), warnings going to ``warn``: the CLI's one call."""
    if fmt == "requirements":
        for message in local_source_warnings(lock):
            _say(warn, message)
        return export_requirements(lock, warn)
    if fmt == "pylock":
        base = Path(output).resolve().parent if output else None
        return export_pylock(lock, find_links=find_links, base=base, warn=warn)
    raise ExportError(f"unknown export format {fmt!r}; use one of: {', '.join(FORMATS)}")
