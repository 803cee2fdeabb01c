"""Human summaries of a lock (``reprotrack show``). Pure: a ``Lock`` in, text out."""

from __future__ import annotations

from reprotrack.core.lockfile import Lock, is_code
from reprotrack.core.text import cell_name, one_line


def render_lock_json(lock: Lock) -> str:
    """The lock's JSON, sorted and indented like the file, but ASCII-only: every non-ASCII character is a
    ``\\u`` escape, so C1 controls (``\\x9b`` CSI) and bidi overrides from a hostile lock never reach a
    terminal raw, and the text still parses to the same values."""
    import json

    return json.dumps(lock.to_dict(), sort_keys=True, indent=2, ensure_ascii=True, allow_nan=False) + "\n"




def render_lock_text(lock: Lock) -> str:
    env = lock.environment or {}
    lines = [
        f"reprotrack lock v{one_line(lock.lockfile_version, 120)} by {one_line(lock.generator.get('name'), 120)} "
        f"{one_line(lock.generator.get('version'), 120)}"
        + (f" for {one_line(lock.notebook, 120)}" if lock.notebook else ""),
        f"python {one_line(env.get('python', '?'), 120)} ({one_line(env.get('implementation', '?'), 120)}) on "
        f"{one_line((env.get('platform') or {}).get('system', '?'), 120)} {one_line((env.get('platform') or {}).get('machine', ''), 120)}",
    ]
    packages = env.get("packages") or {}
    if packages:
        lines.append(f"packages ({len(packages)}): " + ", ".join(f"{one_line(k, 120)}=={one_line(v, 120)}" for k, v in sorted(packages.items())))
    git = lock.git
    if git:
        state = "dirty" if git.get("dirty") else "clean"
        commit = (git.get("commit") or "no commit")[:12]
        lines.append(
            f"git: {one_line(commit, 120)} on {one_line(git.get('branch') or 'detached HEAD', 120)}, {state}, "
            f"{int(git.get('untracked') or 0)} untracked"
        )
    else:
        lines.append("git: not in a repository")
    lines.append(f"cells: {len(lock.cells)} run(s)")
    for cell in sorted(lock.cells, key=lambda c: c.order):
        where = cell_name(cell.index, cell.execution_count).removeprefix("cell ")
        facts = []
        if cell.seeds:
            facts.append("seeds " + ", ".join(f"{one_line(s.get('api'), 40)}={one_line(s.get('value'), 20)}" for s in cell.seeds[:4]))
        unseeded = [r for r in cell.randomness if not r.get("seeded", True)]
        if unseeded:
            facts.append("UNSEEDED " + ", ".join(one_line(r.get("source"), 40) for r in unseeded[:4]))
        if cell.data:
            facts.append("data " + ", ".join(one_line(k, 30) for k in list(cell.data)[:6]))
        for verb, reader in (("reads", None), ("imports", "import"), ("runs", "run")):
            paths = [i.get("path") for i in cell.inputs if isinstance(i, dict)
                     and (i.get("reader") == reader if reader else not is_code(i))]
            if paths:
                facts.append(f"{verb} " + ", ".join(one_line(p, 60) for p in paths[:4]))
        if cell.splits:
            facts.append(f"{len(cell.splits)} split(s)")
        if cell.status != "ok":
            err = cell.error or {}
            facts.append(f"{cell.status}: {one_line(err.get('type', ''), 40)} {one_line(err.get('message', ''), 60)}".rstrip())
        lines.append(f"  #{cell.order:<3} cell {where:<9} {one_line(cell.id, 24):<24} " + ("; ".join(facts) or "-"))
    if lock.checkpoints:
        at = lock.checkpoint_at or {}
        lines.append("checkpoints: " + ", ".join(one_line(k, 40) + (f" (after #{at[k]})" if k in at else "")
                                                 for k in sorted(lock.checkpoints)))
    if not lock.complete:
        lines.append("PARTIAL: the run that wrote this lock did not finish; it is no contract")
    if lock.requirements:
        from reprotrack.core.requirements import describe

        lines.append("requirements: " + "; ".join(one_line(describe(k, v), 80) for k, v in sorted(lock.requirements.items())))
    if lock.notes:
        lines.append(f"notes ({len(lock.notes)}): " + one_line(lock.notes[0], 120))
    return "\n".join(lines) + "\n"
