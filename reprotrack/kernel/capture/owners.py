"""Which installed distribution owns which top-level module: ``importlib.metadata.packages_distributions()``,
computed once per process (on a background thread from ``start``) and again only when distribution metadata
appears in or leaves a ``sys.path`` folder. The environment capture (``environment.packages``) and the user
packages (``environment.user_packages``) share it: reading every installed distribution's file list costs
~0.3 s, which a save paid once per reader before.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Mapping
from importlib import metadata
from typing import Any

_OWNERS: dict[str, Any] = {"stamp": None, "owners": None}
_OWNERS_LOCK = threading.Lock()
#: distribution name → version, for the owners computed last
_VERSIONS: dict[str, str] = {}


#: ``sys.path`` folder → (its mtime, the distribution metadata folders in it) when last listed.
_LISTED: dict[str, tuple[int, frozenset[str]]] = {}
_METADATA_SUFFIXES = (".dist-info", ".egg-info")


def _path_stamp() -> tuple[tuple[str, frozenset[str] | None], ...]:
    """What ``packages_distributions()`` depends on: the distribution metadata in each ``sys.path`` folder.
    A folder is listed again only when its mtime moved, and a new file that is not metadata (a notebook writing
    its results into its own folder, which is ``sys.path[0]`` in a kernel) leaves the stamp as it was: ~0.3 s
    of every save otherwise."""
    stamp = []
    for entry in list(sys.path):
        folder = entry or "."
        try:
            mtime = os.stat(folder).st_mtime_ns
        except OSError:
            stamp.append((entry, None))
            continue
        listed = _LISTED.get(folder)
        if listed is None or listed[0] != mtime:
            try:
                names = frozenset(n for n in os.listdir(folder) if n.endswith(_METADATA_SUFFIXES))
            except OSError:  # a zip file on sys.path, an unreadable folder
                names = frozenset({str(mtime)})
            listed = _LISTED[folder] = (mtime, names)
        stamp.append((entry, listed[1]))
    return tuple(stamp)


def distribution_owners() -> Mapping[str, list[str]]:
    """``metadata.packages_distributions()``, cached until a ``sys.path`` folder changes."""
    stamp = _path_stamp()
    with _OWNERS_LOCK:  # a caller arriving while the warm-up computes waits for it instead of computing twice
        if _OWNERS["owners"] is None or _OWNERS["stamp"] != stamp:
            _OWNERS["owners"] = packages_distributions()
            _OWNERS["stamp"] = stamp
            _VERSIONS.clear()
        return _OWNERS["owners"]


def packages_distributions() -> dict[str, list[str]]:
    """``importlib.metadata.packages_distributions()`` made ~4x faster: the top-level names are read off each
    distribution's ``top_level.txt`` or RECORD with string operations (not one ``PackagePath`` per installed
    file), and a ``*.dist-info`` folder's name gives the distribution's name (not an email parse of its
    METADATA). Names are as the folder spells them (``scikit_learn``): every reader canonicalises them.
    A distribution without RECORD (old egg-info) takes the standard path."""
    owners: dict[str, list[str]] = {}
    for dist in metadata.distributions():
        folder = getattr(getattr(dist, "_path", None), "name", "") or ""
        name = folder.split("-", 1)[0] if folder.endswith(".dist-info") and "-" in folder else None
        if name is None:
            name = dist.metadata["Name"]
        declared = (dist.read_text("top_level.txt") or "").split()
        tops = declared or _inferred(dist)
        for top in tops:
            owners.setdefault(top, []).append(name)
    return owners


def _inferred(dist: Any) -> set[str]:
    """The top-level names of a distribution's ``.py`` files, as ``importlib.metadata`` infers them."""
    record = dist.read_text("RECORD")
    if record is None:
        return {f.parts[0] if len(f.parts) > 1 else f.with_suffix("").name
                for f in (dist.files or ()) if f.suffix == ".py"}
    tops = set()
    for line in record.splitlines():
        path = line.rsplit(",", 2)[0] if line.count(",") >= 2 else line.split(",", 1)[0]
        if not path.endswith(".py"):
            continue
        path = path.strip('"')
        first, sep, _ = path.partition("/")
        tops.add(first if sep else first[:-3])
    return tops


def version(dist: str) -> str:
    """``metadata.version(dist)``, kept until the owners are computed again (parsing a distribution's
    METADATA costs ~1 ms; a save asks for every imported distribution, twice in a replay). Raises
    ``metadata.PackageNotFoundError`` as ``metadata.version`` does."""
    found = _VERSIONS.get(dist)
    if found is None:
        found = _VERSIONS[dist] = metadata.version(dist)
    return found


def warm_up() -> None:
    """Compute ``distribution_owners`` on a background thread (it reads files only, never user objects)."""
    def run() -> None:
        try:
            distribution_owners()
        except Exception:  # noqa: BLE001 - the save computes it again and reports what goes wrong there
            pass

    threading.Thread(target=run, name="reprotrack-distributions", daemon=True).start()


