"""The git state of the repository holding the notebook: commit, branch, dirty flag, a digest of the
uncommitted diff, untracked-file count and remote URLs with credentials removed.

A notebook outside any repository (or a machine without git) gives ``None``: never an error.
"""

from __future__ import annotations

import hashlib
import os
import re
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
    """Whether ``start`` or a parent folder has a ``.git`` (or ``GIT_DIR`` says where one is): when not,
    GitPython is not even imported (~0.1 s of every save outside a repository)."""
    if os.environ.get("GIT_DIR"):
        return True
    try:
        here = Path(start).resolve()
    except (OSError, RuntimeError):
        return True  # cannot tell: let GitPython decide
    return any((folder / ".git").exists() for folder in (here, *here.parents))


def git_facts(start: str | os.PathLike[str]) -> dict[str, Any] | None:
    if not in_repository(start):
        return None
    try:
        import git
    except ImportError:  # git executable missing makes GitPython raise on import
        return None
    try:
        repo = git.Repo(start, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None
    try:
        return _facts(repo, Path(start))
    except (git.GitCommandError, ValueError, OSError):
        return None
    finally:
        repo.close()


def _facts(repo: Any, start: Path) -> dict[str, Any]:
    root = Path(repo.working_tree_dir or ".")
    try:
        commit = repo.head.commit.hexsha
    except ValueError:  # a repository with no commit yet
        commit = None
    branch = None if repo.head.is_detached else repo.active_branch.name
    diff = repo.git.diff("HEAD", "--no-color", "--no-ext-diff") if commit else ""
    untracked = len(repo.untracked_files)
    remotes = {}
    for remote in repo.remotes:
        urls = list(remote.urls)
        if urls:
            remotes[remote.name] = strip_credentials(urls[0])
    try:
        rel_root = os.path.relpath(root, start if start.is_dir() else start.parent)
    except ValueError:
        rel_root = str(root)
    return {
        "commit": commit,
        "branch": branch,
        "dirty": bool(diff),
        "diff_sha256": hashlib.sha256(diff.encode("utf-8", "surrogateescape")).hexdigest() if diff else None,
        "untracked": untracked,
        "root": Path(rel_root).as_posix(),
        "remotes": remotes,
    }


class GitCapture(Capture):
    name = "git"

    def install(self, session: Session) -> None:
        self._session = session

    def on_save(self, lock: Lock) -> None:
        lock.git = git_facts(self._session.base_dir)
