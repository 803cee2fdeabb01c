"""Git capture against real repositories in temporary folders."""

from __future__ import annotations

from pathlib import Path

from reprotrack.kernel.capture.git import git_facts, strip_credentials


def test_clean_repository(git_repo):
    root = Path(git_repo.working_tree_dir)
    (root / "nb").mkdir()
    facts = git_facts(root / "nb")
    assert facts["commit"] == git_repo.head.commit.hexsha
    assert facts["branch"] == git_repo.active_branch.name
    assert facts["dirty"] is False and facts["diff_sha256"] is None
    assert facts["untracked"] == 0
    assert facts["root"] == ".."


def test_dirty_repository_and_untracked_files(git_repo):
    root = Path(git_repo.working_tree_dir)
    (root / "README").write_text("changed\n")
    (root / "new.txt").write_text("x")
    facts = git_facts(root)
    assert facts["dirty"] is True
    assert len(facts["diff_sha256"]) == 64
    assert facts["untracked"] == 1
    (root / "README").write_text("changed again\n")
    assert git_facts(root)["diff_sha256"] != facts["diff_sha256"]


def test_outside_a_repository_is_none(tmp_path):
    assert git_facts(tmp_path) is None


def test_gitpython_is_never_imported_and_a_missing_git_is_none(git_repo, tmp_path, monkeypatch):
    import sys

    monkeypatch.delenv("GIT_DIR", raising=False)
    monkeypatch.delitem(sys.modules, "git", raising=False)
    assert git_facts(tmp_path) is None
    assert git_facts(git_repo.working_tree_dir)["commit"] == git_repo.head.commit.hexsha
    assert "git" not in sys.modules  # importing GitPython cost 0.1-0.2 s of every save
    monkeypatch.setenv("PATH", str(tmp_path))  # no git executable at all
    assert git_facts(git_repo.working_tree_dir) is None


def test_the_facts_are_what_gitpython_reads(git_repo):
    """GitPython as the independent oracle, on a repository with every kind of status entry: a staged rename
    (its original path is a field of its own in ``status -z``), nested and non-ASCII untracked files, a file
    that is not UTF-8, and remotes with two URLs and a dotted name."""
    import hashlib

    root = Path(git_repo.working_tree_dir)
    (root / "latin.txt").write_bytes(b"caf\xe9\n")
    (root / "? odd name").write_text("renamed below: its old name is a field of its own that reads like an entry\n")
    git_repo.index.add(["latin.txt", "? odd name"])
    git_repo.index.commit("latin")
    (root / "latin.txt").write_bytes(b"caf\xe8\n")
    git_repo.git.mv("? odd name", "moved")
    (root / "sub" / "deep").mkdir(parents=True)
    (root / "sub" / "deep" / "u.txt").write_text("u")
    (root / "ünï cödé.txt").write_text("u")
    git_repo.create_remote("origin", "https://example.invalid/a.git")
    git_repo.git.config("--add", "remote.origin.url", "https://second.invalid/a.git")
    git_repo.create_remote("my.fork", "git@example.invalid:b.git")
    facts = git_facts(root / "sub")
    diff = git_repo.git.diff("HEAD", "--no-color", "--no-ext-diff")
    assert facts["commit"] == git_repo.head.commit.hexsha and facts["branch"] == git_repo.active_branch.name
    assert facts["untracked"] == len(git_repo.untracked_files) == 2
    assert facts["diff_sha256"] == hashlib.sha256(diff.encode("utf-8", "surrogateescape")).hexdigest()
    assert facts["remotes"] == {r.name: next(iter(r.urls)) for r in git_repo.remotes}
    assert facts["root"] == ".."


def test_detached_head_and_empty_repository(git_repo, tmp_path):
    import git

    git_repo.git.checkout(git_repo.head.commit.hexsha)
    assert git_facts(git_repo.working_tree_dir)["branch"] is None
    empty = git.Repo.init(tmp_path / "empty")
    facts = git_facts(tmp_path / "empty")
    assert facts["commit"] is None
    empty.close()


def test_remote_credentials_never_reach_the_facts(git_repo):
    git_repo.create_remote("origin", "https://alice:ghp_canaryTOKEN123@example.invalid/team/repo.git?token=abc")
    git_repo.create_remote("mirror", "deploy:s3cretpw@example.invalid:team/repo.git")
    git_repo.create_remote("ssh", "git@example.invalid:team/repo.git")
    facts = git_facts(git_repo.working_tree_dir)
    text = repr(facts)
    assert "ghp_canaryTOKEN123" not in text and "s3cretpw" not in text and "token=abc" not in text
    assert facts["remotes"]["origin"] == "https://example.invalid/team/repo.git"
    assert facts["remotes"]["ssh"] == "git@example.invalid:team/repo.git"


def test_strip_credentials_cases():
    assert strip_credentials("https://user@host.invalid/r.git") == "https://host.invalid/r.git"
    assert strip_credentials("ssh://git:pw@host.invalid:2222/r.git") == "ssh://host.invalid:2222/r.git"
    assert strip_credentials("/local/path/repo") == "/local/path/repo"


def test_lock_from_a_session_in_a_repository(ip, git_repo, monkeypatch):
    from conftest import run

    from reprotrack import store

    root = Path(git_repo.working_tree_dir)
    git_repo.create_remote("origin", "https://bob:canarytoken999@example.invalid/x.git")
    monkeypatch.chdir(root)
    run(ip, "%reprotrack start")
    run(ip, "x = 1")
    run(ip, "%reprotrack save")
    lock_text = (root / "reprotrack.lock").read_text()
    assert "canarytoken999" not in lock_text
    lock = store.read_lock(root / "reprotrack.lock")
    assert lock.git["commit"] == git_repo.head.commit.hexsha
    assert lock.git["untracked"] == 0  # git is read before the lock is written
    run(ip, "%reprotrack save")
    assert store.read_lock(root / "reprotrack.lock").git["untracked"] == 1  # now the first lock is there
