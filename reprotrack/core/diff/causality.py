"""Two locks in, one ``Report`` out: pair the cell runs, collect every difference, then decide which
difference explains which (``upstream_of``) and where the runs first diverge.

The causality rule (documented in DESIGN terms, applied in timeline order, i.e. the order the replay ran):

* **Causes** are changes of what a cell was given: its code (``source-changed``), the seeds it set
  (``seed-changed``), the files it read (``input-file-changed``), the environment. They are always root
  causes. ``execution-order`` (research ran cells out of notebook order) is a warning-level root cause.
* **Effects** are changes of what a cell produced: an error, data, splits, outputs. An effect is explained by,
  in this order: the unseeded randomness of its own cell when it is a split without ``random_state``; a cause
  in its own cell; unseeded randomness drawn in its own cell; an error in its own cell; the earliest earlier
  error-severity root in a cell; the earliest environment error; unseeded randomness drawn (with no visible
  effect) in an earlier cell; the earliest warning-level root (execution order, allowed version drift,
  threads, platform). The lock does not record which variables a cell *read*, so no later cell can be proven
  independent of an earlier change: every later effect is conservatively chained to the first root that can
  explain it.
* An effect nothing explains is a root itself when it says where to look: a split, a cell error. Data and
  outputs that differ with the code, every seed, input file, earlier data and version equal get an
  ``unexplained`` root (kind ``output``) that lists what was checked and found equal, and leave the cause
  open: timing, threads, hash order, reads the tracker does not see. Nothing is guessed. Unseeded randomness is reported only where it can explain a difference: a cell that drew unseeded
  randomness and still produced the same results is not a finding (a ``--pin-seeds`` replay is clean).

``upstream_of`` always names a root cause, so reports can fold every consequence under it. Pure: no I/O.
"""

from __future__ import annotations

from typing import Any

from reprotrack.core.diff.cells import (
    CellDiff,
    agree_with_split,
    compare_pair,
    data_differences,
    label,
    member_of,
    overwritten_inputs,
)
from reprotrack.core.diff.environment import environment_differences
from reprotrack.core.diff import formats
from reprotrack.core.diff.matching import Pair, order_notes, out_of_order, pair_cells
from reprotrack.core.diff.model import DiffOptions, Finding, Report
from reprotrack.core.diff.requirements import requirement_findings
from reprotrack.core.diff.splits import moved_total
from reprotrack.core.lockfile import Lock, is_code
from reprotrack.core.privacy import lock_under
from reprotrack.core.text import cell_name

CAUSE_PRIORITY = ("source-changed", "input-file-changed", "seed-changed")


class _Builder:
    def __init__(self, options: DiffOptions) -> None:
        self.options = options
        self.rows: list[tuple[tuple, Finding]] = []
        self.parent: dict[int, Finding] = {}
        self.cell_roots: list[Finding] = []  # error-severity roots in cells, timeline order
        self.env_roots: list[Finding] = []
        self.warn_roots: list[Finding] = []
        self.latent: list[tuple[Pair, float, list[str]]] = []  # unseeded randomness without visible effect
        self.orders: dict[int, int | None] = {}  # id(finding) → the run's order, for first_divergence
        # what an unexplained finding says was checked: the research facts up to the cell being compared
        self.environment: dict[str, Any] = {}
        self.seeds: dict[str, Any] = {}  # api → the value last set
        self.files_before = 0

    def add(self, key: tuple, finding: Finding, parent: Finding | None = None) -> Finding:
        self.rows.append((key, finding))
        if parent is not None and parent is not finding:
            self.parent[id(finding)] = parent
        elif finding.severity == "error":
            (self.cell_roots if finding.cell_index is not None or finding.kind != "environment"
             else self.env_roots).append(finding)
        else:
            self.warn_roots.append(finding)
        return finding

    def upstream(self) -> Finding | None:
        if self.cell_roots:
            return self.cell_roots[0]
        if self.env_roots:
            return self.env_roots[0]
        if self.latent:
            pair, position, sources = self.latent.pop(0)
            finding = self.add((position, 2, 0), _unseeded(pair, sources))
            self.orders[id(finding)] = pair.order
            return finding
        return self.warn_roots[0] if self.warn_roots else None


def compare(research: Lock, replay: Lock, options: DiffOptions | None = None, *,
            execution_error: str | None = None) -> Report:
    options = options or DiffOptions()
    replay = lock_under(replay, research.privacy)  # another salt (two research runs): labels compare again
    across = formats.finding(research, replay)
    research, replay = formats.align(research, replay)  # written by another reprotrack: compared on what both share
    b = _Builder(options)
    b.environment = research.environment or {}
    if across is not None:
        b.add((-1.0, 0, -1), across)
    if replay.environment:  # a replay that never saved knows nothing of its environment
        for number, finding in enumerate(environment_differences(research.environment, replay.environment, options)):
            if execution_error and finding.cause == "package-missing":
                continue  # a run that stopped early imported less; env check answers this question
            b.add((-1.0, 0, number), finding)
    pairs = pair_cells(research.cells, replay.cells)
    overwritten = overwritten_inputs(research.cells)  # inputs the research run wrote over itself
    replayed: dict[str, int] = {}
    for record in replay.cells:
        replayed[record.id] = replayed.get(record.id, 0) + 1
    disorder = out_of_order(research.cells)
    replay_disorder = out_of_order(replay.cells) if disorder is None else None
    failure: Finding | None = None
    rows: list[dict[str, Any]] = []
    order_finding: Finding | None = None
    for pair in pairs:
        key = pair.position
        made: list[Finding] = []
        if disorder is not None and pair.research is not None and pair.research is disorder[0] or \
                replay_disorder is not None and pair.replay is not None and pair.replay is replay_disorder[0]:
            order_finding = b.add((key, 0, 0), _order_finding(
                pair, disorder or replay_disorder, "research" if disorder else "replay",
                order_notes(research.cells if disorder else replay.cells)))
            made.append(order_finding)
        if pair.research is None:
            message = f"{label(pair.replay, pair.index)} ran in the replay but not in research."
            made.append(b.add((key, 1, 0), _cell_finding(pair, "cell-added", message,
                                                         "Remove the cell, or record the notebook again.")))
        elif pair.replay is None:
            if execution_error and failure is None:
                failure = b.add((key, 1, 0), _cell_finding(pair, "cell-error", f"The replay stopped at "
                                f"{label(pair.research, pair.index)}: {execution_error}",
                                "Make the notebook run to the end (memory, timeouts, crashes), then verify again."))
                made.append(failure)
            else:
                message = f"{label(pair.research, pair.index)} ran in research but not in the replay."
                finding = _cell_finding(pair, "cell-missing", message, "Run every cell of the research run.")
                if pair.run and replayed.get(pair.research.id):
                    # a re-run the replay did not repeat (top-down runs each cell once): what the re-run
                    # changed shows in the results compared; the re-run itself is no difference
                    finding.message = (f"Research ran {label(pair.research, pair.index)} {pair.run + 1} times; the "
                                       f"replay ran it {replayed[pair.research.id]} time(s).")
                    finding.fix = "Nothing to do if the results match; else record the notebook top-down again."
                    finding.severity = "warning"
                parent = failure or (order_finding if pair.run else None)
                made.append(b.add((key, 1, 0), finding, parent))
        else:
            diff = compare_pair(pair.research, pair.replay, options, overwritten)
            for entry in pair.research.seeds or []:
                if isinstance(entry, dict):
                    b.seeds[str(entry.get("api"))] = entry.get("value")
            made += _explain(b, pair, diff)
            b.files_before += len(_files(pair.research))
        rows.append(_row(pair, made))
        b.orders.update((id(f), pair.order) for f in made)
    _checkpoints(b, research.checkpoints or {}, replay.checkpoints or {}, failure, options)
    for number, finding in enumerate(requirement_findings(research.requirements, replay.requirements,
                                                          replay_finished=not execution_error)):
        b.add((float("inf"), 2, number), finding)
    return _finish(b, rows, research, replay, execution_error)


def _explain(b: _Builder, pair: Pair, diff: CellDiff) -> list[Finding]:
    key = pair.position
    made = []
    causes = sorted(diff.causes, key=lambda f: CAUSE_PRIORITY.index(f.cause))
    for n, cause in enumerate(causes):
        made.append(b.add((key, 1, n), cause))
    local = causes[0] if causes else None
    unseeded: Finding | None = None
    own: Finding | None = None
    for n, effect in enumerate(sorted(diff.effects, key=_effect_rank)):
        reason = diff.split_reasons.get(id(effect))
        parent: Finding | None = None
        if diff.unseeded and (reason == "unseeded" or local is None):
            if unseeded is None:
                unseeded = b.add((key, 2, 0), _unseeded(pair, diff.unseeded))
                made.append(unseeded)
            parent = unseeded
        elif reason == "parameters" and local is None:
            parent = own
        elif local is not None:
            parent = local
        elif own is not None:
            parent = own
        else:
            parent = b.upstream()
        if parent is None and (effect.kind == "output" or effect.kind == "data" and effect.severity == "error"):
            own = b.add((key, 3, 0), _unexplained(pair, b))
            made.append(own)
            parent = own
        if parent is not None and reason in ("sizes", "data") and parent.kind in ("data", "environment", "execution"):
            effect.message += f" The data it split differs upstream ({parent.cause}, {parent.subject})."
        made.append(b.add((key, 4, n), effect, parent))
        if parent is None and own is None:
            own = effect
    if diff.unseeded and unseeded is None and not diff.effects:
        b.latent.append((pair, key, diff.unseeded))
    return made


def _effect_rank(f: Finding) -> int:
    return {"execution": 0, "data": 1, "split": 2, "output": 3}.get(f.kind, 4)


def _cell_finding(pair: Pair, cause: str, message: str, fix: str) -> Finding:
    return Finding("", pair.index, pair.cell_id, "execution", cause, label(None, pair.index), message, fix)


def _order_finding(pair: Pair, disorder, which: str, notes: list[str]) -> Finding:
    late, before = disorder
    told = "; ".join(notes) or f"{label(late, late.index)} ran after {label(before, before.index)}"
    message = (f"The {which} run did not run the notebook once top-down: {told}. Its results may depend on "
               "that hidden state, which running the notebook top-down does not recreate.")
    return Finding("", pair.index, pair.cell_id, "execution", "execution-order", label(late, late.index), message,
                   "Restart the kernel, run all cells top-down and record again; `reprotrack verify --order "
                   "notebook` shows what a top-down run gives.", severity="warning")


def _unseeded(pair: Pair, sources: list[str]) -> Finding:
    shown = ", ".join(sources[:5]) + (f" and {len(sources) - 5} more" if len(sources) > 5 else "")
    fix = _seed_fix(pair, sources[0])
    return Finding("", pair.index, pair.cell_id, "randomness", "unseeded-randomness", sources[0],
                   f"{label(pair.replay or pair.research, pair.index)} drew unseeded randomness ({shown}): every run "
                   "draws other numbers.", f"Seed it ({fix}) and record again, or replay with --pin-seeds.")


def _seed_fix(pair: Pair, source: str) -> str:
    """How to seed ``source``, as the capture that saw the draw put it (``randomness[].fix``); a lock without it
    gets the usual ways."""
    for rec in (pair.research, pair.replay):
        for entry in (rec.randomness or []) if rec is not None else []:
            if isinstance(entry, dict) and entry.get("source") == source and isinstance(entry.get("fix"), str):
                return entry["fix"][:300]
    return "np.random.seed(<int>), default_rng(<int>), random_state=<int>"



def _unexplained(pair: Pair, b: _Builder | None = None) -> Finding:
    """The root of results that differ while everything the lock records as their causes is equal: the
    message names what was checked (never a guessed cause)."""
    where = label(pair.replay, pair.index)
    checked = _checked(pair, b) if b is not None and pair.research is not None else \
        "its code, seeds, input files, the data recorded before it and the package versions"
    return Finding("", pair.index, pair.cell_id, "output", "unexplained", where,
                   f"The results of {where} differ although everything the lock records about what they depend on "
                   f"is equal in both runs: {checked}. The difference comes from something the lock cannot see.",
                   "Look for what the lock cannot see: timing (a clock, a time budget, picking what finished "
                   "first), thread scheduling, hash or set order (PYTHONHASHSEED), network or database reads, "
                   "hidden state in imported modules.")


def _files(rec: Any) -> list[dict[str, Any]]:
    """The data files a cell read (not the code it imported or ran)."""
    return [e for e in rec.inputs or [] if isinstance(e, dict) and not is_code(e)]


def _checked(pair: Pair, b: _Builder) -> str:
    rec = pair.research
    code = sorted({str(e.get("path")) for e in rec.inputs or [] if is_code(e)})
    parts = [f"its code (and the code it ran: {', '.join(code[:MAX_NAMED])})" if code else "its code"]
    if b.seeds:
        shown = ", ".join(f"{api}={value!r}" for api, value in list(b.seeds.items())[:MAX_NAMED])
        more = f" and {len(b.seeds) - MAX_NAMED} more" if len(b.seeds) > MAX_NAMED else ""
        parts.append(f"the seeds set up to it ({shown}{more})")
    else:
        parts.append("the seeds (none set up to it)")
    drawn = sorted({str(e.get("source")) for e in rec.randomness or [] if isinstance(e, dict)})
    parts.append("no unseeded randomness drawn up to it" + (f" (it drew seeded: {', '.join(drawn)})" if drawn else ""))
    files = sorted({str(e.get("path")) for e in _files(rec)})
    earlier = f"{b.files_before} read before it" if b.files_before else "none read before it"
    parts.append(f"the input files ({', '.join(files[:MAX_NAMED])}; {earlier})" if files
                 else f"the input files (none read by it; {earlier})")
    parts.append("the data recorded by the cells before it")
    env = b.environment
    packages = dict(env.get("packages") or {})
    if packages:
        notable = [f"{n} {packages[n]}" for n in NOTABLE_PACKAGES if n in packages]
        listed = f" ({', '.join(notable)}{', …' if len(packages) > len(notable) else ''})" if notable else ""
        parts.append(f"Python {env.get('python', '?')} and all {len(packages)} package versions{listed}")
    else:
        parts.append("the package versions")
    pools = [p for p in env.get("threadpools") or [] if isinstance(p, dict)]
    if pools:
        parts.append("the thread pools (" + ", ".join(f"{p.get('internal_api')}: {p.get('num_threads')}"
                                                        for p in pools[:3]) + " threads)")
    hashseed = (env.get("variables") or {}).get("PYTHONHASHSEED")
    parts.append(f"PYTHONHASHSEED={hashseed}" if hashseed is not None else
                 "PYTHONHASHSEED (unset in both: string hashing differs between processes)")
    return "; ".join(parts)


MAX_NAMED = 5
NOTABLE_PACKAGES = ("numpy", "scipy", "pandas", "scikit-learn")


def _checkpoints(b: _Builder, a: dict[str, Any], c: dict[str, Any], failure: Finding | None,
                 options: DiffOptions) -> None:
    for n, name in enumerate(sorted(a, key=str)):
        subject = f"checkpoint {name}"
        if name not in c:
            b.add((float("inf"), 1, n), Finding("", None, None, "execution", "cell-missing", subject,
                  f"Research recorded checkpoint {name}; the replay never reached it.",
                  "Call reprotrack.checkpoint with this name where research did."), failure)
            continue
        for m, (cause, message, member) in enumerate(data_differences(a[name], c[name], options)):
            finding = Finding("", None, None, "data", cause, subject + member, f"{subject}{member}: {message}",
                              severity="warning" if cause == "precision" else "error",
                              evidence={"research": member_of(a[name], member), "replay": member_of(c[name], member)})
            b.add((float("inf"), 2, n * 100 + m), finding, b.upstream())


def _row(pair: Pair, made: list[Finding]) -> dict[str, Any]:
    return {
        "index": pair.index, "id": pair.cell_id, "order": pair.order, "findings": made,
        "research": pair.research.status if pair.research else "missing",
        "replay": pair.replay.status if pair.replay else "missing",
    }


def _finish(b: _Builder, rows: list[dict[str, Any]], research: Lock, replay: Lock,
            execution_error: str | None) -> Report:
    ordered = [f for _, f in sorted(b.rows, key=lambda r: r[0])]
    for number, finding in enumerate(ordered, 1):
        finding.id = f"F{number}"
    for finding in ordered:
        parent = b.parent.get(id(finding))
        finding.upstream_of = parent.id if parent is not None else None
    splits: dict[str, Finding] = {}  # root id → the first split under it (or being it) that moved rows
    for finding in ordered:  # later data under a split that moved rows holds other rows: never "reordered"
        if finding.cause == "split-changed" and moved_total(finding.evidence):
            splits.setdefault(finding.upstream_of or finding.id, finding)
        elif finding.cause == "rows-reordered":
            split = splits.get(finding.upstream_of or "")
            if split is not None:
                agree_with_split([finding], split)
    for finding in ordered:
        if finding.cause in ("source-changed", "cell-added"):
            after = [f for f in ordered if f.upstream_of == finding.id]
            if after:
                shown = "; ".join(_mention(f) for f in after[:4])
                more = f" and {len(after) - 4} more" if len(after) > 4 else ""
                finding.message += f" Downstream it led to: {shown}{more}."
            else:
                finding.message += " No recorded result differs because of it."
    cells = []
    for row in rows:
        ids = [f.id for f in row["findings"]]
        worst = "error" if any(f.severity == "error" for f in row["findings"]) else (
            "warning" if row["findings"] else "ok")
        cells.append({**row, "findings": ids, "state": worst})
    errors = [f for f in ordered if f.severity == "error"]
    first = next((f for f in errors if f.cell_index is not None), errors[0] if errors else None)
    divergence = None
    if first is not None:
        divergence = {"cell_index": first.cell_index, "cell_id": first.cell_id, "order": b.orders.get(id(first)),
                      "finding": first.id}
    status = "failed" if execution_error else ("differs" if errors else "reproduced")
    return Report(status, divergence, ordered, _summary(research), _summary(replay), cells, execution_error)


def _mention(f: Finding) -> str:
    at = cell_name(f.cell_index) if f.cell_index is not None else ""
    subject = f.subject if f.subject != at else ""
    return f"{f.cause}" + (f" in {subject}" if subject else "") + (f" ({at})" if at else "")


def _summary(lock: Lock) -> dict[str, Any]:
    env = lock.environment or {}
    generator = lock.generator or {}
    return {
        "notebook": lock.notebook, "mode": lock.mode, "python": env.get("python"), "cells": len(lock.cells),
        "generator": f"{generator.get('name', '')} {generator.get('version', '')}".strip(),
        "packages": dict(env.get("packages") or {}),
    }
