"""Human summaries of a lock (``reprotrack show``). Pure: a ``Lock`` in, text out."""

from __future__ import annotations

from reprotrack.core.lockfile import Lock
from reprotrack.core.text import cell_name
from reprotrack.core.text import one_line as _safe


def render_lock_json(lock: Lock) -> str:
    """The lock's JSON, sorted and indented like the file, but ASCII-only: every non-ASCII character is a
    ``\\u`` escape, so C1 controls (``\\x9b`` CSI) and bidi overrides from a hostile lock never reach a
    terminal raw, and the text still parses to the same values."""
    import json

    return json.dumps(lock.to_dict(), sort_keys=True, indent=2, ensure_ascii=True, allow_nan=False) + "\n"




def render_lock_text(lock: Lock) -> str:
    env = lock.environment or {}
    lines = [
        f"reprotrack lock v{_safe(lock.lockfile_version)} by {_safe(lock.generator.get('name'))} "
        f"{_safe(lock.generator.get('version'))}"
        + (f" for {_safe(lock.notebook)}" if lock.notebook else ""),
        f"python {_safe(env.get('python', '?'))} ({_safe(env.get('implementation', '?'))}) on "
        f"{_safe((env.get('platform') or {}).get('system', '?'))} {_safe((env.get('platform') or {}).get('machine', ''))}",
    ]
    packages = env.get("packages") or {}
    if packages:
        lines.append(f"packages ({len(packages)}): " + ", ".join(f"{_safe(k)}=={_safe(v)}" for k, v in sorted(packages.items())))
    git = lock.git
    if git:
        state = "dirty" if git.get("dirty") else "clean"
        commit = (git.get("commit") or "no commit")[:12]
        lines.append(
            f"git: {_safe(commit)} on {_safe(git.get('branch') or 'detached HEAD')}, {state}, "
            f"{int(git.get('untracked') or 0)} untracked"
        )
    else:
        lines.append("git: not in a repository")
    lines.append(f"cells: {len(lock.cells)} run(s)")
    for cell in sorted(lock.cells, key=lambda c: c.order):
        where = cell_name(cell.index, cell.execution_count).removeprefix("cell ")
        facts = []
        if cell.seeds:
            facts.append("seeds " + ", ".join(f"{_safe(s.get('api'), 40)}={_safe(s.get('value'), 20)}" for s in cell.seeds[:4]))
        unseeded = [r for r in cell.randomness if not r.get("seeded", True)]
        if unseeded:
            facts.append("UNSEEDED " + ", ".join(_safe(r.get("source"), 40) for r in unseeded[:4]))
        if cell.data:
            facts.append("data " + ", ".join(_safe(k, 30) for k in list(cell.data)[:6]))
        if cell.inputs:
            facts.append("reads " + ", ".join(_safe(i.get("path"), 60) for i in cell.inputs[:4]))
        if cell.splits:
            facts.append(f"{len(cell.splits)} split(s)")
        if cell.status != "ok":
            err = cell.error or {}
            facts.append(f"{cell.status}: {_safe(err.get('type', ''), 40)} {_safe(err.get('message', ''), 60)}".rstrip())
        lines.append(f"  #{cell.order:<3} cell {where:<9} {_safe(cell.id, 24):<24} " + ("; ".join(facts) or "-"))
    if lock.checkpoints:
        lines.append("checkpoints: " + ", ".join(_safe(k, 40) for k in sorted(lock.checkpoints)))
    if lock.notes:
        lines.append(f"notes ({len(lock.notes)}): " + _safe(lock.notes[0]))
    return "\n".join(lines) + "\n"
