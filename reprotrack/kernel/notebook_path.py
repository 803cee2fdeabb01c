"""Which notebook this kernel runs *now*: the lock is named after it, and it can be renamed while tracking.

What the front ends really tell a kernel (read in their sources):

- ipykernel sets ``__session__`` in the user namespace from ``JPY_SESSION_NAME``, which jupyter_server puts
  in the kernel's environment when it starts the kernel for a notebook session (JupyterLab, Notebook 7).
  Both are fixed at kernel start: a rename in JupyterLab (``PATCH /api/sessions/<id>`` with the new path)
  reaches the server, never the kernel, and no ``execute_request`` metadata carries a path (JupyterLab
  sends ``cellId``, ``deletedCells``, ``recordTiming``).
- So for JupyterLab and Notebook 7 the current path is the server's: the kernel finds its own id in its
  connection file name (``kernel-<id>.json``), the servers running on this machine in the Jupyter runtime
  folder (``jpserver-<pid>.json``: url, token, root folder), and asks the server that runs it for its
  sessions (``GET api/sessions``): the session whose kernel is this one names the notebook as it is now.
  The server is the user's own, on the address it wrote itself; the question costs one local request per
  save, bounded by a short timeout.
- VS Code sets ``__vsc_ipynb_file__`` in the user namespace to the notebook's file.

When nothing answers, the notebook known at start is kept; if that file is gone (renamed outside any
server), a notebook beside it holding the recorded cells' ids is taken. Never raises.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterable

#: Seconds a Jupyter server may take to list its sessions.
SERVER_TIMEOUT = 1.0
#: Notebooks read in a folder when looking for the one a renamed notebook became.
MAX_SIBLINGS = 200


def find_notebook(shell: Any) -> Path | None:
    """The notebook as the kernel knew it at start: ``__vsc_ipynb_file__`` (VS Code), ``__session__``
    (ipykernel) or ``JPY_SESSION_NAME``; None when none names an existing ``.ipynb``."""
    candidates = []
    if shell is not None:
        candidates += [shell.user_ns.get("__vsc_ipynb_file__"), shell.user_ns.get("__session__")]
    candidates.append(os.environ.get("JPY_SESSION_NAME"))
    for raw in candidates:
        found = _existing(raw)
        if found is not None:
            return found
    return None


def current_notebook(shell: Any, known: Path | None, cell_ids: Iterable[str] = ()) -> Path | None:
    """The notebook as it is named now: VS Code's variable, else the Jupyter server's session of this
    kernel, else ``known`` if it still exists, else a notebook beside it holding ``cell_ids``."""
    try:
        if shell is not None:
            found = _existing(shell.user_ns.get("__vsc_ipynb_file__"))
            if found is not None:
                return found
        found = server_session_path()
        if found is not None:
            return found
        if known is None or known.is_file():
            return known
        return sibling_with_cells(known.parent, cell_ids, exclude=known)
    except Exception:  # noqa: BLE001 - naming the lock must never fail a save
        return known


def server_session_path(kernel_id: str | None = None) -> Path | None:
    """The notebook path a local Jupyter server has for this kernel's session, or None."""
    kernel_id = kernel_id or _kernel_id()
    if not kernel_id:
        return None
    for info in _servers():
        for session in _sessions(info):
            kernel = session.get("kernel") if isinstance(session, dict) else None
            if not isinstance(kernel, dict) or kernel.get("id") != kernel_id:
                continue
            path = session.get("path")
            root = info.get("root_dir") or info.get("notebook_dir")
            if isinstance(path, str) and path.endswith(".ipynb") and isinstance(root, str):
                candidate = Path(root).expanduser() / path
                if candidate.is_file():
                    return candidate.resolve()
    return None


def sibling_with_cells(folder: Path, cell_ids: Iterable[str], *, exclude: Path | None = None) -> Path | None:
    """The one notebook in ``folder`` holding most of ``cell_ids`` (front-end ids survive a rename)."""
    wanted = {c for c in cell_ids if isinstance(c, str) and not c.startswith("src-")}
    if not wanted:
        return None
    best: tuple[int, Path] | None = None
    for path in sorted(folder.glob("*.ipynb"))[:MAX_SIBLINGS]:
        if exclude is not None and path == exclude:
            continue
        try:
            cells = json.loads(path.read_text("utf-8")).get("cells", [])
        except (OSError, ValueError, AttributeError):
            continue
        held = len(wanted & {c.get("id") for c in cells if isinstance(c, dict)})
        if held * 2 > len(wanted) and (best is None or held > best[0]):
            best = (held, path)
    return best[1].resolve() if best else None


def _existing(raw: Any) -> Path | None:
    if not isinstance(raw, str) or not raw.endswith(".ipynb"):
        return None
    path = Path(raw)
    for candidate in (path, Path.cwd() / path, Path.cwd() / path.name):
        try:
            if candidate.is_file():
                return candidate.resolve()
        except OSError:
            continue
    return None


def _kernel_id() -> str | None:
    try:
        from ipykernel.connect import get_connection_file

        name = Path(get_connection_file()).name
    except Exception:  # noqa: BLE001 - not an ipykernel (a plain shell, a script)
        return None
    if name.startswith("kernel-") and name.endswith(".json"):
        return name[len("kernel-"):-len(".json")]
    return None


def _servers() -> list[dict[str, Any]]:
    """The running Jupyter servers' own descriptions (``jpserver-<pid>.json``), live processes only."""
    try:
        from jupyter_core.paths import jupyter_runtime_dir

        files = sorted(Path(jupyter_runtime_dir()).glob("jpserver-*.json"))
    except Exception:  # noqa: BLE001
        return []
    servers = []
    for path in files[:20]:
        try:
            info = json.loads(path.read_text("utf-8"))
            os.kill(int(info["pid"]), 0)
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if isinstance(info.get("url"), str):
            servers.append(info)
    return servers


def _sessions(info: dict[str, Any]) -> list[Any]:
    from urllib.request import ProxyHandler, Request, build_opener

    url = info["url"].rstrip("/") + "/api/sessions"
    headers = {"Authorization": f"token {info['token']}"} if info.get("token") else {}
    try:
        opener = build_opener(ProxyHandler({}))  # the user's own server: never through a proxy
        with opener.open(Request(url, headers=headers), timeout=SERVER_TIMEOUT) as response:
            sessions = json.loads(response.read(1_000_000))
    except Exception:  # noqa: BLE001 - a server that went away, refused or answered nonsense
        return []
    return sessions if isinstance(sessions, list) else []
