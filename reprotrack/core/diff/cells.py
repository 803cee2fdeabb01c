"""What differs between two runs of one cell, before any causality: its code, seeds, randomness, inputs,
status, data, splits and outputs.

``compare_pair`` sorts each difference into ``causes`` (changes of what the cell was given: its source,
the seeds it set, the files it read) and ``effects`` (changes of what it produced: an error, data, splits,
printed or returned values). ``reprotrack.core.diff.causality`` then decides which cause explains which effect.
Data goes through ``reprotrack.core.diff.data.classify`` and outputs through
``reprotrack.core.diff.outputs.compare_outputs``; both are imported lazily so this module stays importable alone.
Keys named ``run`` are never looked at. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reprotrack.core.diff.data import classify
from reprotrack.core.diff.model import KIND_OF, DiffOptions, Finding
from reprotrack.core.diff.outputs import compare_outputs
from reprotrack.core.diff.splits import compare_splits, moved_rows_message, moved_total
from reprotrack.core.lockfile import CellRecord, is_code
from reprotrack.core.text import cell_name


@dataclass
class CellDiff:
    causes: list[Finding] = field(default_factory=list)
    effects: list[Finding] = field(default_factory=list)
    unseeded: list[str] = field(default_factory=list)  # sources of unseeded randomness (either run)
    split_reasons: dict[int, str] = field(default_factory=dict)  # id(finding) → reason


def label(cell: CellRecord | None, index: int | None) -> str:
    """The cell as the notebook shows it (``cell 6``: 1-based position), for messages people read."""
    return cell_name(index, fallback=cell.id if cell else None)


def overwritten_inputs(cells: list[CellRecord]) -> dict[str, CellRecord]:
    """Path → the research cell that overwrote it after an earlier cell read it (``run.overwrote``)."""
    out: dict[str, CellRecord] = {}
    for rec in cells:
        for entry in (rec.run or {}).get("overwrote") or []:
            if isinstance(entry, dict) and isinstance(entry.get("path"), str):
                out.setdefault(entry["path"], rec)
    return out


def compare_pair(a: CellRecord, b: CellRecord, options: DiffOptions,
                 overwritten: dict[str, CellRecord] | None = None) -> CellDiff:
    out = CellDiff()
    where = label(b, b.index if b.index is not None else a.index)

    def add(bucket: list[Finding], kind: str, cause: str, subject: str, message: str, fix: str = "",
            severity: str = "error", evidence: dict[str, Any] | None = None) -> Finding:
        finding = Finding("", b.index if b.index is not None else a.index, b.id, kind, cause, subject, message, fix,
                          None, severity, evidence)
        bucket.append(finding)
        return finding

    if a.source_sha256 != b.source_sha256:
        add(out.causes, "execution", "source-changed", where, f"The code of {where} differs from the research run.",
            "Restore the research code of this cell, or record the notebook again if the change is intended.")
    _seeds(a, b, where, lambda *args, **kw: add(out.causes, "randomness", *args, **kw))
    _inputs(a, b, where, out, add, overwritten or {})
    for rec in (a, b):
        for entry in rec.randomness or []:
            if isinstance(entry, dict) and entry.get("seeded") is False:
                source = str(entry.get("source"))
                if source not in out.unseeded:
                    out.unseeded.append(source)

    status_a, status_b = a.status or "ok", b.status or "ok"
    if status_a != status_b or (status_a != "ok" and _error(a) != _error(b)):
        add(out.effects, "execution", "cell-error", where, _error_message(where, a, b),
            "Fix the error; if it follows from an earlier finding, fix that one first.")
    if status_a == "ok" and status_b == "ok":
        # a data difference is filed under its cause's kind (NaN/inf in produced data is an output cause)
        _data(a, b, options, lambda cause, *args, **kw: add(out.effects, KIND_OF[cause], cause, *args, **kw))
    for diff in compare_splits(a.splits, b.splits):
        finding = add(out.effects, "split", "split-changed", diff.subject, diff.message,
                      _split_fix(diff.reason, diff.subject), evidence=diff.evidence)
        out.split_reasons[id(finding)] = diff.reason
        agree_with_split(out.effects, finding)
    if status_a == "ok" and status_b == "ok":
        for cause, subject, message in _outputs(a.outputs, b.outputs, options):
            add(out.effects, "output", cause, subject, message)
    return out


def agree_with_split(findings: list[Finding], split: Finding) -> None:
    """Consequences agree with their root: under a split that moved rows between train and test, a part
    (``y_train``) whose values only look reordered holds other rows; it is said so, as ``values-changed``."""
    moved = moved_total(split.evidence)
    if not moved:
        return
    for finding in findings:
        if finding.cause == "rows-reordered":
            finding.kind, finding.cause = KIND_OF["values-changed"], "values-changed"
            finding.message = moved_rows_message(finding.subject, split.subject, moved)


def _seeds(a: CellRecord, b: CellRecord, where: str, add) -> None:
    def table(rec: CellRecord) -> dict[str, list[Any]]:
        seeds: dict[str, list[Any]] = {}
        for entry in rec.seeds or []:
            if isinstance(entry, dict):
                seeds.setdefault(str(entry.get("api")), []).append(entry.get("value"))
        return seeds

    ta, tb = table(a), table(b)
    for api in sorted(set(ta) | set(tb)):
        va, vb = ta.get(api), tb.get(api)
        if va == vb:
            continue
        missing = "research" if va is None else ("replay" if vb is None else None)
        if missing is not None:
            present = vb if va is None else va
            if all(v is None for v in present):
                continue  # random_state=None on one side only: no seed was set in either run
            if ((a if missing == "research" else b).status or "ok") != "ok":
                continue  # that run raised before it got there: the cell error says so
        if va is None:
            message = f"{api} was seeded with {_values(vb)} now; research did not seed it in {where}."
            fix = f"Remove the seed ({seed_call(api, vb)}) as research had none, or record the notebook again."
        elif vb is None:
            message = f"{api} was seeded with {_values(va)} in research; the replay did not seed it in {where}."
            fix = f"Seed it as research did: {seed_call(api, va)}."
        else:
            message = f"{api} was seeded with {_values(va)} in research, {_values(vb)} now."
            fix = f"Use the research seed: {seed_call(api, va)}."
        add("seed-changed", api, message, fix, evidence={"research": va, "replay": vb})


def seed_call(api: str, values: list[Any]) -> str:
    """The seeding as code a person can paste: ``train_test_split(..., random_state=0)`` for a keyword
    seed (recorded as ``sklearn.model_selection.train_test_split(random_state=)``), ``numpy.random.seed(0)``
    for a seeding call; several values (a cell that seeded twice) are listed as calls."""
    shown = [v for v in values if v is not None] or values
    if api.endswith("=)") and "(" in api:
        callee, _, keyword = api[:-1].rpartition("(")
        name = callee.rsplit(".", 1)[-1]
        return " then ".join(f"{name}(..., {keyword}{_values([v])})" for v in shown)
    return " then ".join(f"{api}({_values([v])})" for v in shown)


def _values(values: list[Any]) -> str:
    return ", ".join(repr(v) if isinstance(v, str) else str(v) for v in values)


def _inputs(a: CellRecord, b: CellRecord, where: str, out: CellDiff, make,
            overwritten: dict[str, CellRecord]) -> None:
    """Files read that differ (causes, ``data/input-file-changed``; an intermediate file the notebook wrote
    itself: an effect), and the user's own code imported or run (``execution/source-changed``,
    ``CODE_READERS``)."""
    def add(*args, **kw):
        make(out.causes, "data", *args, **kw)

    def add_code(*args, **kw):
        make(out.causes, "execution", *args, **kw)

    def add_effect(*args, **kw):
        make(out.effects, "data", *args, **kw)

    def table(rec: CellRecord) -> dict[str, dict[str, Any]]:
        return {str(e.get("path")): e for e in rec.inputs or [] if isinstance(e, dict)}

    ta, tb = table(a), table(b)
    # a file read under another path (another checkout, a temporary folder) with the same content is the
    # same input; an input without a content hash (a folder, a buffer, a URL) read on one side only says
    # nothing about the data
    only_a = {e.get("content") for p, e in ta.items() if p not in tb}
    only_b = {e.get("content") for p, e in tb.items() if p not in ta}
    for path in sorted(set(ta) | set(tb)):
        ea, eb = ta.get(path), tb.get(path)
        entry = ea or eb
        code = is_code(entry)
        what = (f"module {entry.get('module')} ({path})" if entry.get("reader") == "import" else
                f"the script {path}") if code else path
        if ea is None or eb is None:
            if entry.get("content") is None or entry.get("content") in (only_b if eb is None else only_a):
                continue
            which, other = ("research", "the replay") if eb is None else ("the replay", "research")
            if code:
                verb = "imported" if entry.get("reader") == "import" else "ran"
                add_code("source-changed", path, f"{where} {verb} {what} in {which}, not in {other}.",
                         f"Make {path} importable as in research.", evidence={"research": ea, "replay": eb})
            else:
                add("input-file-changed", path, f"{path} was read by {where} in {which}, not in {other}.",
                    "Make the cell read the same file as in research.", evidence={"research": ea, "replay": eb})
            continue
        ca, cb = ea.get("content"), eb.get("content")
        if ca is None or cb is None or ca == cb:
            continue
        size = ""
        if ea.get("bytes") is not None and eb.get("bytes") is not None and ea.get("bytes") != eb.get("bytes"):
            size = f" ({ea.get('bytes')} bytes in research, {eb.get('bytes')} now)"
        if code:
            verb = "imported" if entry.get("reader") == "import" else "run"
            add_code("source-changed", path, f"The code of {what}, {verb} by {where}, differs from the research "
                     f"run{size}.", f"Restore the research version of {path} (content {str(ca)[:24]}…), or record "
                     "the notebook again if the change is intended.", evidence={"research": ea, "replay": eb})
            continue
        if ea.get("written_by") is not None or eb.get("written_by") is not None:
            # an intermediate file the notebook wrote itself: what changed upstream changed it
            add_effect("input-file-changed", path, f"The file {path} read by {where} has other content{size}; "
                       "an earlier cell of the notebook wrote it, so it follows from what changed before.",
                       "Fix what changed upstream of the cell that writes it.", evidence={"research": ea, "replay": eb})
            continue
        writer = overwritten.get(path)
        if writer is not None:  # the research run wrote over it itself: the replay read what research left
            by = label(writer, writer.index)
            add("input-file-changed", path, f"The file {path} read by {where} has other content{size}: the research "
                f"run overwrote it itself ({by} wrote it after {where} had read it), so a replay reads what "
                "research left there.", f"Restore {path} as research first read it (content {str(ca)[:24]}…), and "
                f"make {by} write its result to another file.", evidence={"research": ea, "replay": eb})
            continue
        add("input-file-changed", path, f"The file {path} read by {where} has other content{size}.",
            f"Use the research version of {path} (content {str(ca)[:24]}…), or record again if the new data is "
            "intended.", evidence={"research": ea, "replay": eb})


def _error(rec: CellRecord) -> tuple[str, str]:
    err = rec.error or {}
    return str(err.get("type") or ""), str(err.get("message") or "")


def _error_message(where: str, a: CellRecord, b: CellRecord) -> str:
    ta, ma = _error(a)
    tb, mb = _error(b)
    if (b.status or "ok") != "ok" and (a.status or "ok") == "ok":
        return f"{where} raised {tb or 'an error'}: {_clip(mb)} in the replay; it ran cleanly in research."
    if (a.status or "ok") != "ok" and (b.status or "ok") == "ok":
        return f"{where} raised {ta or 'an error'}: {_clip(ma)} in research; it runs cleanly now."
    return f"{where} raised {ta}: {_clip(ma)} in research and {tb}: {_clip(mb)} now."


def _clip(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _data(a: CellRecord, b: CellRecord, options: DiffOptions, add) -> None:
    da, db = a.data or {}, b.data or {}
    for name in sorted(set(da) | set(db), key=str):
        fa, fb = da.get(name), db.get(name)
        if fa is None or fb is None:
            # recorded on one side only: the cell created or changed it in one run and left it alone in the other
            which, other = ("research", "the replay") if fb is None else ("the replay", "research")
            add("values-changed", name, f"{name} was created or changed by this cell in {which}, not in {other}.",
                evidence={"research": fa, "replay": fb})
            continue
        for cause, message, member in data_differences(fa, fb, options):
            subject = name + member
            add(cause, subject, f"{subject}: {message}", severity="warning" if cause == "precision" else "error",
                evidence={"research": member_of(fa, member), "replay": member_of(fb, member)})


def data_differences(fa: dict[str, Any], fb: dict[str, Any], options: DiffOptions) -> list[tuple[str, str, str]]:
    """(cause, sentence, member) for two fingerprints of one variable; [] when they are the same data.
    ``member`` is the path of the container member the difference is in (``.target``), else ""."""
    fa, fb = without_run(fa), without_run(fb)
    if fa == fb:
        return []
    return [(d.cause, d.message, d.member) for d in classify(fa, fb, rtol=options.rtol, atol=options.atol)]


def member_of(fp: dict[str, Any], member: str) -> dict[str, Any]:
    """The fingerprint of ``member`` inside a container's fingerprint (the container itself for "")."""
    found = (fp.get("members") or {}).get(member) if member else None
    return found if isinstance(found, dict) else fp


def without_run(value: Any) -> Any:
    """``value`` without its ``run`` keys (time-, host- and path-specific: never compared)."""
    if isinstance(value, dict):
        return {k: without_run(v) for k, v in value.items() if k != "run"}
    if isinstance(value, list):
        return [without_run(v) for v in value]
    return value


def _outputs(a: dict[str, Any], b: dict[str, Any], options: DiffOptions) -> list[tuple[str, str, str]]:
    a, b = without_run(a or {}), without_run(b or {})
    if a == b:
        return []
    found = compare_outputs(a, b, rtol=options.rtol, atol=options.atol, rules=options.normalise)
    return [(d.cause, d.subject, d.message) for d in found]


def _split_fix(reason: str, subject: str) -> str:
    api = subject.split(" ")[0]
    return {
        "unseeded": f"Pass random_state=<int> to {api}, then record the notebook again.",
        "parameters": f"Call {api} with the research arguments.",
        "sizes": "The data reaching the split has another number of rows: fix the data finding upstream.",
        "data": "The rows reaching the split differ (content or order): fix the data finding upstream.",
    }.get(reason, "")
