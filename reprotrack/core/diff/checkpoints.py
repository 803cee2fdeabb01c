"""A production run checked against the research run by named checkpoints, never by cells.

Restructured code (a feature module, an ETL job, a training script) has no cells in common with the notebook it
came from: what both sides name is their checkpoints. ``check(research, production, options)`` pairs them by
name (``CheckOptions.names`` maps a production name to the research one), and says of each whether it
``matches``, differs only at ``precision`` level (within the checkpoint's tolerances, not bit-identical) or
``differs``, with the fingerprint diagnosis of ``reprotrack.core.diff.data`` (rows added or removed,
reordered, schema, new categories, distribution shift; per column). A fitted estimator is checked on its learned
parameters (coefficients, trees); hyperparameters that differ are a warning beside that verdict.

What explains a checkpoint that differs is looked for in the facts *attributed* to it: the seeds, file inputs,
splits and unseeded randomness of the cell runs (a script's stages) up to it (``Lock.checkpoint_at``; a lock
without positions attributes everything to every checkpoint). A fact that differs is reported once, at the
first checkpoint it reaches, as a root cause when that checkpoint differs and as a warning when it does not.
A differing checkpoint nothing of its own explains is a consequence of the earliest earlier checkpoint that
differs (stages feed each other), else of an environment error, else its findings are roots (siblings: one
checkpoint's findings are one diagnosis, never each other's consequence). The environment is
compared only for the distributions both sides' user code imported (``environment.user_packages`` when both
locks have it, else the packages both have minus the notebook/kernel tooling). A checkpoint only one side has
is one warning naming it. Every performance requirement research recorded is held to the production run's value
of that name (``reprotrack.core.diff.requirements``): a broken one is an ``output/requirement-failed`` error,
pointing at the checkpoints whose data shifted; one production never measured is a warning. A production value
research has no requirement for is checked only against bounds of its own. Pure: two ``Lock``s in, a
``Report`` out.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from reprotrack.core.diff import formats
from reprotrack.core.diff.cells import without_run
from reprotrack.core.diff.data import classify
from reprotrack.core.diff.environment import TOOLING, environment_differences
from reprotrack.core.diff.model import KIND_OF, DiffOptions, Finding, Report
from reprotrack.core.diff.requirements import requirement_findings
from reprotrack.core.diff.splits import compare_splits
from reprotrack.core.lockfile import Lock, is_code
from reprotrack.core.privacy import lock_under
from reprotrack.core.requirements import bounded

ROW_ORDERS = ("exact", "ignore")
#: A checkpoint's verdicts, best first.
STATUSES = ("matches", "precision", "differs")


@dataclass(frozen=True)
class CheckpointRule:
    """Tolerances of one research checkpoint; None inherits the run-wide ``DiffOptions``. ``order="ignore"``:
    the same rows in another order match (a database that returns rows unordered)."""

    rtol: float | None = None
    atol: float | None = None
    order: str = "exact"


@dataclass
class CheckOptions:
    diff: DiffOptions = field(default_factory=DiffOptions)
    #: production checkpoint name → research checkpoint name (restructured code renames stages)
    names: dict[str, str] = field(default_factory=dict)
    #: research checkpoint name → its tolerances
    rules: dict[str, CheckpointRule] = field(default_factory=dict)


@dataclass
class Facts:
    """What a run did up to a checkpoint: the inputs to compare, keyed so a difference is reported once."""

    seeds: dict[str, list[Any]] = field(default_factory=dict)  # api → values, in order
    inputs: dict[str, dict[str, Any]] = field(default_factory=dict)  # file name → entry (last read)
    splits: list[dict[str, Any]] = field(default_factory=list)
    unseeded: list[str] = field(default_factory=list)


def research_name(options: CheckOptions, production_name: str) -> str:
    return options.names.get(production_name, production_name)


def facts_up_to(lock: Lock, name: str) -> Facts:
    """The seeds, inputs, splits and unseeded randomness of the cell runs up to checkpoint ``name``."""
    limit = (lock.checkpoint_at or {}).get(name)
    out = Facts()
    for cell in lock.cells:
        if limit is not None and cell.order > limit:
            continue
        for entry in cell.seeds or []:
            if isinstance(entry, dict):
                out.seeds.setdefault(str(entry.get("api")), []).append(entry.get("value"))
        for entry in cell.inputs or []:  # data files: production code is expected to differ from the notebook's
            if isinstance(entry, dict) and entry.get("path") and not is_code(entry):
                out.inputs[_file_name(str(entry["path"]))] = entry
        out.splits += [s for s in cell.splits or [] if isinstance(s, dict)]
        for entry in cell.randomness or []:
            if isinstance(entry, dict) and entry.get("seeded") is False and str(entry.get("source")) not in out.unseeded:
                out.unseeded.append(str(entry.get("source")))
    return out


def _file_name(path: str) -> str:
    """Research and production read the same file from other folders: inputs pair by file name."""
    return path.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


def checkpoint_differences(research: dict[str, Any], production: dict[str, Any], rule: CheckpointRule,
                           options: DiffOptions) -> list[Finding]:
    """The findings (ids unset) of one checkpoint pair; [] when it matches. ``evidence`` carries both
    fingerprints and the columns named."""
    a, b = without_run(research), without_run(production)
    rtol = options.rtol if rule.rtol is None else rule.rtol
    atol = options.atol if rule.atol is None else rule.atol
    out: list[Finding] = []
    if _is_estimator(a) and _is_estimator(b):
        changed = _changed_params(a, b)
        if changed:
            shown = "; ".join(f"{k}: {a['schema']['params'].get(k)!r} → {b['schema']['params'].get(k)!r}"
                              for k in changed[:5])
            out.append(_data_finding("schema-changed", f"Hyperparameters differ ({shown}); the learned "
                                     "parameters are compared apart from them.", changed, "warning"))
        a, b = _learned_only(a), _learned_only(b)
    if rule.order == "ignore" and a.get("type") == b.get("type") and a.get("schema") == b.get("schema") \
            and a.get("rows") is not None and a.get("rows") == b.get("rows"):
        return out  # the same rows, in whatever order the source returned them
    for d in classify(a, b, rtol=rtol, atol=atol):
        if rule.order == "ignore" and d.cause == "rows-reordered":
            continue
        severity = "warning" if d.cause == "precision" else "error"
        out.append(_data_finding(d.cause, d.message, d.columns, severity))
    return out


def verdict(findings: list[Finding]) -> str:
    """matches | precision | differs, from the findings of ``checkpoint_differences``."""
    data = [f for f in findings if f.kind in ("data", "output")]
    if not data or all(f.cause == "schema-changed" and f.severity == "warning" for f in data):
        return "matches"
    if all(f.severity == "warning" for f in data):
        return "precision"
    return "differs"


def _data_finding(cause: str, message: str, columns: list[str], severity: str) -> Finding:
    return Finding("", None, None, KIND_OF[cause], cause, "", message, severity=severity,
                   evidence={"columns": list(columns)})


def _is_estimator(fp: dict[str, Any]) -> bool:
    schema = fp.get("schema")
    return isinstance(schema, dict) and isinstance(schema.get("params"), dict)


def _changed_params(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    pa, pb = a["schema"]["params"], b["schema"]["params"]
    return [k for k in sorted(set(pa) | set(pb)) if pa.get(k) != pb.get(k)]


def _learned_only(fp: dict[str, Any]) -> dict[str, Any]:
    schema = {k: v for k, v in fp["schema"].items() if k != "params"}
    return {**fp, "schema": schema}


class _Check:
    """Collects findings in report order and the explanation (root) of each differing checkpoint."""

    def __init__(self, options: CheckOptions) -> None:
        self.options = options
        self.rows: list[tuple[Finding, Finding | None]] = []
        self.reported: set[tuple] = set()
        self.env_root: Finding | None = None
        self.first_root: Finding | None = None  # the root of the earliest checkpoint that differs

    def add(self, finding: Finding, parent: Finding | None = None) -> Finding:
        self.rows.append((finding, parent))
        return finding


def check(research: Lock, production: Lock, options: CheckOptions | None = None, *,
          execution_error: str | None = None) -> Report:
    """``production`` checked against ``research`` checkpoint by checkpoint (see the module docstring)."""
    options = options or CheckOptions()
    production = lock_under(production, research.privacy)  # its own salt: labels re-keyed to compare
    across = formats.finding(research, production)
    research, production = formats.align(research, production)  # another reprotrack: what both formats share
    c = _Check(options)
    if across is not None:
        c.add(across)
    for finding in _environment(research, production, options.diff):
        c.add(finding)
        if finding.severity == "error" and c.env_root is None:
            c.env_root = finding
    pairs, only_research, only_production = _pairs(research, production, options)
    table: list[dict[str, Any]] = []
    for name, prod_name in pairs:
        made = _one(c, research, production, name, prod_name)
        table.append(made)
    for name in only_research:
        f = c.add(Finding("", None, None, "execution", "checkpoint-missing", f"checkpoint {name}",
                          f"Research recorded checkpoint {name!r}; the production run has none of that name, so "
                          "this stage was not checked.", f"Call reprotrack.checkpoint({name!r}, obj) where the "
                          "production code finishes this stage, or map its name (--map PROD=RESEARCH).",
                          severity="warning", evidence={"checkpoint": name}))
        table.append({"name": name, "production": None, "status": "missing", "columns": [], "findings": [f]})
    for prod_name in only_production:
        f = c.add(Finding("", None, None, "execution", "checkpoint-added", f"checkpoint {prod_name}",
                          f"The production run recorded checkpoint {prod_name!r}, which research has not: nothing "
                          "to check it against.", "Map it to a research checkpoint (--map PROD=RESEARCH, or "
                          "[tool.reprotrack] checkpoints), or record it in the notebook too.", severity="warning",
                          evidence={"checkpoint": prod_name}))
        table.append({"name": None, "production": prod_name, "status": "extra", "columns": [], "findings": [f]})
    if not pairs and (only_research or only_production) and not execution_error and not _measured(research, production):
        c.add(Finding("", None, None, "execution", "checkpoint-missing", "checkpoints",
                      "No checkpoint name is common to both runs: nothing was compared (research: "
                      f"{_listed(only_research)}; production: {_listed(only_production)}).",
                      "Give the production stages the research names, or map them (--map PROD=RESEARCH)."))
    _requirements(c, research, production, finished=not execution_error)
    return _finish(c, table, research, production, execution_error)


#: Checkpoint causes that say the data itself moved: what a failed requirement's text points to.
SHIFTS = ("distribution-shift", "new-categories")


def _requirements(c: _Check, research: Lock, production: Lock, *, finished: bool) -> None:
    """The research requirements held to the production values, then production's own bounds on values
    research has no requirement for; a failure names the checkpoints whose data shifted."""
    ours = research.requirements or {}
    theirs = production.requirements or {}
    own = {k: v for k, v in theirs.items() if k not in ours and isinstance(v, dict) and bounded(v)}
    shifted = _shifts(c)
    for finding in requirement_findings(ours, theirs, finished, run="the production run") + \
            requirement_findings(own, theirs, finished, run="the production run"):
        if finding.severity == "error" and shifted:
            finding.message += f", while {shifted}"
        c.add(finding)


def _measured(research: Lock, production: Lock) -> bool:
    """Whether production measured a value research holds to a requirement: a now-test compares that even
    when no checkpoint is common (a scoring job that only reports its metric)."""
    ours = research.requirements or {}
    return any(isinstance(ours.get(name), dict) and bounded(ours[name]) for name in production.requirements or {})


def _shifts(c: _Check) -> str:
    """"checkpoint 'features' shows distribution shift in 'x', 'y'" for the checkpoints whose data moved."""
    found: dict[str, dict[str, list[str]]] = {}
    for f, _ in c.rows:
        where = (f.evidence or {}).get("checkpoint")
        if f.severity == "error" and f.cause in SHIFTS and where:
            columns = found.setdefault(str(where), {}).setdefault(f.cause.replace("-", " "), [])
            columns += [str(col) for col in (f.evidence or {}).get("columns") or [] if str(col) not in columns]
    parts = []
    for where, causes in found.items():
        said = "; ".join(f"{cause} in {', '.join(repr(col) for col in cols[:5])}" if cols else cause
                         for cause, cols in causes.items())
        parts.append(f"checkpoint {where!r} shows {said}")
    return " and ".join(parts)


def _listed(names: list[str]) -> str:
    return ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "") if names else "none"


def _pairs(research: Lock, production: Lock, options: CheckOptions):
    ours = research.checkpoints or {}
    theirs = production.checkpoints or {}
    mapped = {research_name(options, p): p for p in theirs}
    at = research.checkpoint_at or {}
    order = sorted(ours, key=lambda n: (at.get(n, 1 << 30), str(n)))
    pairs = [(n, mapped[n]) for n in order if n in mapped]
    only_research = [n for n in order if n not in mapped]
    only_production = sorted(p for p in theirs if research_name(options, p) not in ours)
    return pairs, only_research, only_production


def _one(c: _Check, research: Lock, production: Lock, name: str, prod_name: str) -> dict[str, Any]:
    subject = f"checkpoint {name}" + (f" (production: {prod_name})" if prod_name != name else "")
    rule = c.options.rules.get(name, CheckpointRule())
    a, b = research.checkpoints[name], production.checkpoints[prod_name]
    found = checkpoint_differences(a, b, rule, c.options.diff)
    status = verdict(found)
    facts = _fact_findings(c, facts_up_to(research, name), facts_up_to(production, prod_name), name, subject,
                           differs=status == "differs")
    roots = [f for f in facts if f.severity == "error"]
    made: list[Finding] = list(facts)
    for f in facts:
        # a split that moved because a seed or an input changed is that change's consequence
        cause = roots[0] if f.kind == "split" and roots and roots[0].kind != "split" else None
        c.add(f, cause)
    parent = roots[0] if roots else (c.first_root or c.env_root)
    columns: list[str] = []
    for f in found:
        f.subject = subject
        f.evidence = {**(f.evidence or {}), "research": a, "replay": b, "checkpoint": name}
        columns += [col for col in (f.evidence.get("columns") or []) if col not in columns]
        # the findings of one checkpoint are one diagnosis: siblings, never each other's consequence
        c.add(f, parent if f.severity == "error" else None)
        made.append(f)
    if status == "differs" and c.first_root is None:
        c.first_root = parent or next((f for f in found if f.severity == "error"), None)
    return {"name": name, "production": prod_name, "status": status, "columns": columns, "findings": made}


def _fact_findings(c: _Check, ra: Facts, pa: Facts, name: str, subject: str, *, differs: bool) -> list[Finding]:
    """Seeds, inputs, splits and unseeded randomness that differ up to this checkpoint and were not reported
    at an earlier one: roots when the checkpoint differs, warnings when it matches anyway."""
    severity = "error" if differs else "warning"
    out: list[Finding] = []

    def new(key: tuple, kind: str, cause: str, what: str, message: str, fix: str, evidence=None) -> None:
        if key in c.reported:
            return
        c.reported.add(key)
        out.append(Finding("", None, None, kind, cause, what, f"{message} (up to {subject})", fix,
                           severity=severity, evidence={**(evidence or {}), "checkpoint": name}))

    for file, entry in ra.inputs.items():
        other = pa.inputs.get(file)
        if other is not None and entry.get("content") != other.get("content"):
            new(("input", file), "data", "input-file-changed", file,
                f"The file {file} read in production differs from the one research read ({entry.get('bytes')} → "
                f"{other.get('bytes')} bytes)", "Read the research data (same extract, same version of the file), "
                "or record the notebook again on the new data.")
    for api, values in ra.seeds.items():
        theirs = pa.seeds.get(api)
        if theirs is not None and theirs[: len(values)] != values[: len(theirs)]:
            new(("seed", api), "randomness", "seed-changed", api,
                f"{api} was seeded with {values[0]!r} in research and {theirs[0]!r} in production",
                f"Seed {api} with the research value.")
    if pa.unseeded and differs:
        shown = ", ".join(pa.unseeded[:5])
        new(("unseeded", tuple(pa.unseeded)), "randomness", "unseeded-randomness", pa.unseeded[0],
            f"The production run drew unseeded randomness ({shown}): every run draws other numbers",
            "Seed it (np.random.seed(<int>), default_rng(<int>), random_state=<int>) as research did.")
    for diff in compare_splits(ra.splits, pa.splits):
        new(("split", diff.subject), "split", "split-changed", diff.subject,
            diff.message.replace("the replay", "production").rstrip("."),
            "Split with the research arguments (random_state, shuffle, stratify) on the same rows.", diff.evidence)
    return out


def _environment(research: Lock, production: Lock, options: DiffOptions) -> list[Finding]:
    """Environment findings for what both sides' user code imported, nothing else."""
    ea, eb = dict(research.environment or {}), dict(production.environment or {})
    if not ea or not eb:
        return []
    shared = shared_packages(ea, eb)
    ea["packages"] = {k: v for k, v in (ea.get("packages") or {}).items() if k in shared}
    eb["packages"] = {k: v for k, v in (eb.get("packages") or {}).items() if k in shared}
    return environment_differences(ea, eb, options)


def shared_packages(ea: dict[str, Any], eb: dict[str, Any]) -> set[str]:
    """Distributions both runs' user code imported: ``user_packages`` when both locks list them, else the
    packages both have, less the kernel/notebook tooling."""
    ua, ub = ea.get("user_packages"), eb.get("user_packages")
    if isinstance(ua, list) and isinstance(ub, list):
        return {str(n) for n in ua} & {str(n) for n in ub}
    both = set(ea.get("packages") or {}) & set(eb.get("packages") or {})
    return {n for n in both if n.lower().replace("_", "-") not in TOOLING}


def _finish(c: _Check, table: list[dict[str, Any]], research: Lock, production: Lock,
            execution_error: str | None) -> Report:
    ordered = [f for f, _ in c.rows]
    for number, finding in enumerate(ordered, 1):
        finding.id = f"F{number}"
    for finding, parent in c.rows:
        finding.upstream_of = parent.id if parent is not None and parent is not finding else None
    rows = []
    for row in table:
        rows.append({**row, "findings": [f.id for f in row["findings"]]})
    errors = [f for f in ordered if f.severity == "error"]
    divergence = None
    differing = next((r for r in rows if r["status"] == "differs"), None)
    if differing is not None or errors:
        first = next((f for f in errors if f.id in (differing or {}).get("findings", [])), errors[0] if errors else None)
        divergence = {"cell_index": None, "cell_id": None, "checkpoint": differing["name"] if differing else None,
                      "finding": first.id if first else None}
    status = "failed" if execution_error else ("differs" if errors else "reproduced")
    return Report(status, divergence, ordered, _summary(research), _summary(production), [], execution_error,
                  checkpoints=rows)


def _summary(lock: Lock) -> dict[str, Any]:
    env = lock.environment or {}
    generator = lock.generator or {}
    return {
        "notebook": lock.notebook or (lock.run or {}).get("script"), "mode": lock.mode, "python": env.get("python"),
        "cells": len(lock.cells), "checkpoints": len(lock.checkpoints or {}),
        "generator": f"{generator.get('name', '')} {generator.get('version', '')}".strip(),
        "packages": dict(env.get("packages") or {}),
    }


def with_rule(options: CheckOptions, name: str, **values: Any) -> CheckOptions:
    """``options`` with the tolerances of checkpoint ``name`` overridden (None keeps the configured value)."""
    current = options.rules.get(name, CheckpointRule())
    changed = replace(current, **{k: v for k, v in values.items() if v is not None})
    return replace(options, rules={**options.rules, name: changed})
