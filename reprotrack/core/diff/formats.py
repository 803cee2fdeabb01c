"""Two locks written by different reprotracks, made to compare: fingerprints in different canonical formats,
and a lock from before the user's own code was recorded (``Lock.code_inputs`` false: its code inputs are left
out of both sides).

Format 3 (``reprotrack.core.fingerprint.valuestream``) streams the string and object columns of pandas objects
as lengths and UTF-8 bytes; format 2 streamed a 64-bit hash per value. For equal values the two give other
``content``, other column ``hash`` es and (with a string index) other ``index_content``; everything else --
``rows``, ``schema``, ``shape``, ``stats`` values, ``approx``, numeric columns, numpy arrays, estimators -- is
the same in both. A lock without ``fingerprint_format`` is format 2.

When the two locks differ, every pandas fingerprint holding such a column (in cells' data, cell results and
checkpoints, and containers of them) is compared by what both formats share: its ``content`` becomes, on
both sides, a digest of type, shape, schema and ``rows`` (the multiset of rows: a pure reordering is not
seen), the string columns' ``hash`` and a string index's ``index_content`` are dropped. ``note`` says so in
the report. Pure: no I/O.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import xxhash

from reprotrack.core.diff.model import Finding
from reprotrack.core.lockfile import FINGERPRINT_FORMAT, OLDEST_FINGERPRINT_FORMAT as OLDEST, is_code
from reprotrack.core.privacy import plain_copy
_NUMERIC = ("int", "uint", "float", "bool", "datetime", "timedelta", "complex", "Int", "UInt", "Float", "boolean",
            "period", "Period", "double", "halffloat", "timestamp", "date", "time", "duration", "decimal")


def lock_format(lock: Any) -> int:
    value = getattr(lock, "fingerprint_format", None)
    return value if isinstance(value, int) and not isinstance(value, bool) else OLDEST


def finding(research: Any, other: Any) -> Finding | None:
    """A warning for the report when the two locks' formats differ (reprotrack's own version changed), else
    None."""
    a, b = lock_format(research), lock_format(other)
    if a == b:
        return None
    return Finding("", None, None, "environment", "package-version", "reprotrack",
                   f"The research lock's data fingerprints are format {a}, the other lock's format {b} (written "
                   f"by another reprotrack): pandas data with string columns is compared by its rows, schema and "
                   f"statistics (a reordering alone is not seen).",
                   "Record the research lock again with this reprotrack to compare the data exactly.", None,
                   "warning", evidence={"research": a, "replay": b})


def align(research: Any, other: Any) -> tuple[Any, Any]:
    """Copies of both locks whose fingerprints compare across formats, and that hold the user's own code among
    their inputs only when both locks record it (the locks themselves when nothing differs)."""
    if not (_records_code(research) and _records_code(other)):
        research, other = _without_code(research), _without_code(other)
    if lock_format(research) == lock_format(other):
        return research, other
    return _lock(research), _lock(other)


def _records_code(lock: Any) -> bool:
    return getattr(lock, "code_inputs", False) is True


def _without_code(lock: Any) -> Any:
    """``lock`` without the code among its cells' inputs: a lock written before reprotrack recorded the code
    a cell imported says nothing about it, so the other side's code must not look added."""
    if not any(is_code(e) for c in lock.cells for e in c.inputs or []):
        return lock
    cells = [dataclasses.replace(c, inputs=[e for e in c.inputs or [] if not is_code(e)]) for c in lock.cells]
    return dataclasses.replace(lock, cells=cells)


def fingerprint_for(fp: Any, lock: Any) -> Any:
    """A fingerprint of ``lock`` or a fresh one (this reprotrack's format), ready to compare with the other:
    ``fp`` itself when the lock's format is this reprotrack's."""
    return fp if lock_format(lock) == FINGERPRINT_FORMAT else _aligned(fp)


def _lock(lock: Any) -> Any:
    cells = []
    for c in lock.cells:
        data = {k: _aligned(v) for k, v in c.data.items()}
        outputs = {k: ({**v, "fingerprint": _aligned(v["fingerprint"])}
                       if isinstance(v, dict) and isinstance(v.get("fingerprint"), dict) else v)
                   for k, v in c.outputs.items()}
        cells.append(dataclasses.replace(c, data=data, outputs=outputs))
    checkpoints = {k: _aligned(v) for k, v in lock.checkpoints.items()}
    return dataclasses.replace(lock, cells=cells, checkpoints=checkpoints)


def _aligned(fp: Any) -> Any:
    if not isinstance(fp, dict):
        return fp
    out = plain_copy(fp)
    _align(out)
    return out


def _align(fp: dict[str, Any]) -> bool:
    """In place; True when ``fp`` (or a member) held values whose content the formats write differently."""
    touched = False
    members = fp.get("members")
    if isinstance(members, dict):
        for member in members.values():
            if isinstance(member, dict) and _align(member):
                touched = True
    if str(fp.get("type") or "").startswith("pandas."):
        schema = fp.get("schema") if isinstance(fp.get("schema"), dict) else {}
        strings = _string_columns(fp, schema)
        for entry in fp.get("stats") or []:
            if isinstance(entry, dict) and str(entry.get("name")) in strings:
                entry["hash"] = None
        if strings:
            touched = True
        if fp.get("index_content") is not None and _stringy(schema.get("index")):
            fp["index_content"] = None
            touched = True
    if touched and fp.get("content") is not None:
        shared = [fp.get("type"), fp.get("shape"), fp.get("schema"), fp.get("rows"), fp.get("stats"),
                  sorted(str(m.get("content")) for m in (members or {}).values() if isinstance(m, dict))]
        fp["content"] = "across-formats:" + xxhash.xxh3_128_hexdigest(
            json.dumps(shared, sort_keys=True, default=str).encode())
    return touched


def _string_columns(fp: dict[str, Any], schema: dict[str, Any]) -> set[str]:
    kinds = {str(e.get("name")): e.get("kind") for e in fp.get("stats") or [] if isinstance(e, dict)}
    cols = schema.get("columns")
    if not isinstance(cols, list):  # a Series or an Index
        cols = [{"name": schema.get("name"), "dtype": schema.get("dtype")}] if "dtype" in schema else \
            [{"name": n, "dtype": d} for n, d in zip(schema.get("names") or [], schema.get("dtypes") or [])]
    out = set()
    for col in cols:
        if not isinstance(col, dict):
            continue
        name, dtype = str(col.get("name")), str(col.get("dtype"))
        if not dtype.startswith(_NUMERIC) and kinds.get(name) not in ("float", "int", "uint", "bool", "complex",
                                                                     "datetime", "timedelta"):
            out.add(name)
    return out


def _stringy(index: Any) -> bool:
    entries = index if isinstance(index, list) else []
    return any(isinstance(e, dict) and not str(e.get("dtype")).startswith(_NUMERIC) for e in entries)
