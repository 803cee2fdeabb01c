"""The git state of the repository holding the notebook: commit, branch, dirty flag, a digest of the
uncommitted diff, untracked-file count and remote URLs with credentials removed.

A notebook outside any repository (or a machine without git) gives ``None``: never an error.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from reprotrack.kernel.capture import Capture

if TYPE_CHECKING:  # pragma: no cover
    from reprotrack.core.lockfile import Lock
    from reprotrack.kernel.session import Session

_SCP_LIKE = re.compile(r"^(?P<user>[^@/:]+(?::[^@/]*)?)@(?P<rest>[^/:]+:.*)$")


def strip_credentials(url: str) -> str:
    """Remove ``user:token@`` (and any query string, where tokens also hide) from a remote URL."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable remote url>"
    if parts.scheme and parts.netloc:
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        return urlunsplit((parts.scheme, host, parts.path, "", ""))
    match = _SCP_LIKE.match(url)
    if match:  # git@host:owner/repo.git: keep a user without a password, drop one with
        user = match.group("user")
        return f"{user}@{match.group('rest')}" if ":" not in user else match.group("rest")
    return url


def in_repository(start: str | os.PathLike[str]) -> bool:
    """Whether ``start`` or a parent folder has a ``.git`` (or ``GIT_DIR`` says where one is): when not, git is
    not even run."""
    if os.environ.get("GIT_DIR"):
        return True
    try:
        here = Path(start).resolve()
    except (OSError, RuntimeError):
        return True  # cannot tell: let git decide
    return any((folder / ".git").exists() for folder in (here, *here.parents))


#: Seconds any one git command may take (a repository on a stalled network drive must not hang a save).
GIT_TIMEOUT = 20.0


def git_facts(start: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The facts of the repository holding ``start``, read with four ``git`` commands (~20 ms). GitPython did
    the same through the same commands, but importing it cost 0.1-0.2 s of every save in a repository."""
    if not in_repository(start):
        return None
    here = Path(start)
    cwd = here if here.is_dir() else here.parent
    top = _git(("rev-parse", "--show-toplevel"), cwd)
    status = _git(("status", "--porcelain=v2", "--branch", "-z", "--untracked-files=all"), cwd) if top else None
    if top is None or status is None:
        return None  # not a repository after all, git missing or refusing (``safe.directory``)
    commit, branch, untracked = _status(status)
    diff = _git(("diff", "HEAD", "--no-color", "--no-ext-diff"), cwd) if commit else b""
    if diff is None:
        return None
    diff = diff[:-1] if diff.endswith(b"\n") else diff  # as GitPython gave it: the digests of older locks hold
    root = os.fsdecode(top.rstrip(b"\n"))
    try:
        rel_root = os.path.relpath(root, cwd)
    except ValueError:
        rel_root = root
    return {
        "commit": commit,
        "branch": branch,
        "dirty": bool(diff),
        "diff_sha256": hashlib.sha256(diff).hexdigest() if diff else None,
        "untracked": untracked,
        "root": Path(rel_root).as_posix(),
        "remotes": _remotes(_git(("remote", "-v"), cwd) or b""),
    }


def _git(args: tuple[str, ...], cwd: Path) -> bytes | None:
    """``git ARGS`` in ``cwd``: its standard output, or None when it failed, is missing or took too long."""
    env = dict(os.environ, LC_ALL="C", LANGUAGE="C", GIT_OPTIONAL_LOCKS="0", GIT_TERMINAL_PROMPT="0")
    try:
        done = subprocess.run(("git", *args), cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=GIT_TIMEOUT, check=False)
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    return done.stdout if done.returncode == 0 else None


def _status(out: bytes) -> tuple[str | None, str | None, int]:
    """Commit, branch and untracked-file count from ``git status --porcelain=v2 --branch -z``: NUL-separated
    entries; a rename or copy entry (``2 …``) is followed by its original path, which is not an entry."""
    commit = branch = None
    untracked = 0
    fields = out.split(b"\0")
    i = 0
    while i < len(fields):
        field = fields[i]
        i += 1
        if field.startswith(b"# branch.oid "):
            value = field[len(b"# branch.oid "):].decode("ascii", "replace")
            commit = None if value == "(initial)" else value
        elif field.startswith(b"# branch.head "):
            value = field[len(b"# branch.head "):].decode("utf-8", "surrogateescape")
            branch = None if value == "(detached)" else value
        elif field.startswith(b"? "):
            untracked += 1
        elif field.startswith(b"2 "):
            i += 1
    return commit, branch, untracked


def _remotes(out: bytes) -> dict[str, str]:
    """Each remote's (first) fetch URL from ``git remote -v`` (``insteadOf`` applied, as git uses it), credentials
    removed."""
    remotes: dict[str, str] = {}
    for line in out.decode("utf-8", "surrogateescape").splitlines():
        name, tab, rest = line.partition("\t")
        if not tab or not rest.endswith(" (fetch)") or name in remotes:
            continue
        remotes[name] = strip_credentials(rest[: -len(" (fetch)")])
    return remotes


class GitCapture(Capture):
    name = "git"

    def install(self, session: Session) -> None:
        self._session = session

    def on_save(self, lock: Lock) -> None:
        lock.git = git_facts(self._session.base_dir)
