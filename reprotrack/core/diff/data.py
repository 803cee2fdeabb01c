"""Explain why two fingerprints of the "same" data differ, in the diagnosis vocabulary of DESIGN.md.

``classify(research, replay)`` compares two fingerprints (``reprotrack.core.fingerprint``) and returns the data
causes, most fundamental first (nothing when ``type``, ``schema`` and ``content`` are equal):
``schema-changed``, ``rows-added`` / ``rows-removed``, ``rows-reordered``, ``precision`` (every changed column
moved only within ``rtol``/``atol`` at the sampled positions), ``values-changed`` (naming the columns whose own
hash changed), ``new-categories`` and ``distribution-shift`` (from the per-column statistics, so it also works
when rows were added or removed), and ``nan-or-inf`` when a float column (or a float value) holds another number
of NaN or infinite values than in research (an output cause in DESIGN's vocabulary: predictions that went
NaN from unseen categories or bad rows). Messages are one short sentence each. Containers recorded with
``members`` (a ``Bunch``, a dict of arrays, a list of frames) are explained member by member: each
difference names its ``member`` (``.target``), so a report can say ``digits.target: 17 row(s) removed``;
only when every member is equal (a scalar inside changed) is the container compared as a whole. Pure: two dicts in, a list of
``DataDifference`` out; no I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from reprotrack.core.privacy import WITHHELD, is_key, top_keys
from reprotrack.core.text import one_line

CAUSES = ("schema-changed", "rows-added", "rows-removed", "rows-reordered", "precision", "values-changed",
          "new-categories", "distribution-shift", "nan-or-inf")
MEAN_SHIFT = 0.1  # in research standard deviations
STD_RATIO = 1.25
NULL_SHIFT = 0.05  # absolute change of the null fraction
TOP_SHIFT = 0.1  # total-variation distance between top-value frequencies
QUANTILE_SHIFT = 0.25  # in standard deviations
HIST_SHIFT = 0.1  # total-variation distance between histograms with the same edges
MAX_NAMES = 5


@dataclass
class DataDifference:
    cause: str
    message: str
    columns: list[str] = field(default_factory=list)
    #: values-changed only: most sampled values moved (a drift of the whole column rather than a few edits)
    broad: bool = False
    #: the path of the container member it is about (``.target``, ``[0]``), "" for the value itself
    member: str = ""


def _names(cols: list[str]) -> str:
    shown = ", ".join(repr(c) for c in cols[:MAX_NAMES])
    return shown + (f" and {len(cols) - MAX_NAMES} more" if len(cols) > MAX_NAMES else "")


def _num(x: Any) -> float | None:
    if isinstance(x, bool) or x is None:
        return None
    if isinstance(x, (int, float)):
        return float(x)
    if isinstance(x, str) and x in ("nan", "inf", "-inf"):
        return float(x)
    return None


def _show(x: Any) -> str:
    """A sampled value as a person reads it (JSON keeps non-finite floats as strings)."""
    v = _num(x)
    return repr(v) if v is not None and math.isfinite(v) else (str(v) if v is not None else one_line(repr(x), 60))


def _colname(entry: dict[str, Any]) -> str:
    name = entry.get("name")
    return str(name) if name is not None else ""


def _schema_columns(fp: dict[str, Any]) -> list[dict[str, Any]] | None:
    schema = fp.get("schema")
    if isinstance(schema, dict):
        if isinstance(schema.get("columns"), list):
            return schema["columns"]
        if isinstance(schema.get("fields"), list):
            return schema["fields"]
    return None


def _schema_difference(a: dict[str, Any], b: dict[str, Any]) -> DataDifference | None:
    if a.get("type") != b.get("type"):
        return DataDifference("schema-changed", f"The type changed from {a.get('type')} to {b.get('type')}.")
    if a.get("schema") == b.get("schema"):
        return None
    ca, cb = _schema_columns(a), _schema_columns(b)
    if ca is not None and cb is not None:
        na, nb = [str(c.get("name")) for c in ca], [str(c.get("name")) for c in cb]
        removed = [n for n in na if n not in nb]
        added = [n for n in nb if n not in na]
        da = {str(c.get("name")): c.get("dtype") for c in ca}
        db = {str(c.get("name")): c.get("dtype") for c in cb}
        retyped = [n for n in na if n in db and da[n] != db[n]]
        hash_a = {str(x.get("name")): x.get("hash") for x in (a.get("stats") or []) if isinstance(x, dict)}
        hash_b = {x.get("hash"): str(x.get("name")) for x in (b.get("stats") or []) if isinstance(x, dict)}
        renamed = [(old, hash_b[hash_a[old]]) for old in removed
                   if hash_a.get(old) is not None and hash_b.get(hash_a[old]) in added]
        for old, new in renamed:
            removed.remove(old)
            added.remove(new)
        parts, cols = [], removed + added + retyped + [new for _, new in renamed]
        if renamed:
            shown = ", ".join(f"{o!r} → {n!r}" for o, n in renamed[:MAX_NAMES])
            parts.append(f"columns renamed (same values): {shown}")
        if removed:
            parts.append(f"columns removed: {_names(removed)}")
        if added:
            parts.append(f"columns added: {_names(added)}")
        if retyped:
            parts.append("dtypes changed: " + ", ".join(f"{n!r} {da[n]} → {db[n]}" for n in retyped[:MAX_NAMES]))
        if not parts and na != nb:
            parts.append("columns reordered")
        if not parts:
            parts.append("the index changed")
        same = " (values identical)" if a.get("content") is not None and a.get("content") == b.get("content") else ""
        return DataDifference("schema-changed", "Schema changed: " + "; ".join(parts) + same + ".", cols)
    sa, sb = a.get("schema") or {}, b.get("schema") or {}
    if isinstance(sa, dict) and isinstance(sb, dict) and isinstance(sa.get("params"), dict) \
            and isinstance(sb.get("params"), dict):
        keys = sorted(set(sa["params"]) | set(sb["params"]))
        changed = [k for k in keys if sa["params"].get(k) != sb["params"].get(k)]
        shown = "; ".join(f"{k}: {one_line(sa['params'].get(k), 60)} → {one_line(sb['params'].get(k), 60)}"
                          for k in changed[:MAX_NAMES])
        if changed:
            return DataDifference("schema-changed", f"Parameters changed: {shown}.", changed)
        return DataDifference("schema-changed", "Learned attributes differ: "
                              f"{_names(sorted(set(sa.get('learned') or []) ^ set(sb.get('learned') or [])))}.")
    if isinstance(sa, dict) and isinstance(sb, dict) and "keys" in sa and "keys" in sb:
        ka, kb = [str(k) for k in sa["keys"]], [str(k) for k in sb["keys"]]
        gone, new = [k for k in ka if k not in kb], [k for k in kb if k not in ka]
        return DataDifference("schema-changed", f"Keys changed: removed {_names(gone) or 'none'}, "
                              f"added {_names(new) or 'none'}.", gone + new)
    return DataDifference("schema-changed", f"Schema changed: {one_line(sa, 60)} → {one_line(sb, 60)}.")




def _indexed_pairs(a: dict[str, Any], b: dict[str, Any]) -> list[tuple[int, int, dict[str, Any], dict[str, Any]]]:
    """``stats`` entries matched by position when the names agree, else by name: (i, j, research, replay)."""
    la, lb = a.get("stats") or [], b.get("stats") or []
    if not isinstance(la, list) or not isinstance(lb, list):
        return []
    names_a, names_b = [_colname(x) for x in la], [_colname(x) for x in lb]
    if names_a == names_b:
        return [(i, i, x, y) for i, (x, y) in enumerate(zip(la, lb))]
    first: dict[str, int] = {}
    for j, name in enumerate(names_b):
        first.setdefault(name, j)
    return [(i, first[n], x, lb[first[n]]) for i, (n, x) in enumerate(zip(names_a, la)) if n in first]


def _pairs(a: dict[str, Any], b: dict[str, Any], key: str = "stats") -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [(x, y) for _, _, x, y in _indexed_pairs(a, b)]


def _approx_by_column(fp: dict[str, Any]) -> dict[int, dict[str, Any]]:
    cols = (fp.get("approx") or {}).get("columns") or []
    return {int(c.get("column", 0)): c for c in cols if isinstance(c, dict)}


def _named(names: list[str]) -> list[str]:
    return [n for n in names if n]


def _in_columns(names: list[str]) -> str:
    return f" in column(s) {_names(names)}" if any(names) else ""


def _rows(fp: dict[str, Any]) -> int | None:
    shape = fp.get("shape")
    return int(shape[0]) if isinstance(shape, list) and shape and isinstance(shape[0], int) else None


def _compare_approx(ea: dict[str, Any], eb: dict[str, Any], rtol: float, atol: float) -> tuple[int, int, float]:
    """(values compared, values beyond tolerance, max relative difference among the others)."""
    compared = beyond = 0
    worst = 0.0
    for x, y in zip(ea.get("values") or [], eb.get("values") or []):
        fx, fy = _num(x), _num(y)
        if fx is None or fy is None:
            compared += 1
            beyond += x != y
            continue
        compared += 1
        if fx == fy or (math.isnan(fx) and math.isnan(fy)):
            continue
        if not (math.isfinite(fx) and math.isfinite(fy)) or abs(fx - fy) > atol + rtol * max(abs(fx), abs(fy)):
            beyond += 1
            continue
        worst = max(worst, abs(fx - fy) / max(abs(fx), abs(fy)))
    return compared, beyond, worst


def _value_differences(a: dict[str, Any], b: dict[str, Any], rtol: float, atol: float) -> list[DataDifference]:
    pairs = _indexed_pairs(a, b)
    retyped = any(x.get("dtype") != y.get("dtype") for _, _, x, y in pairs)
    same_positions = (a.get("approx") or {}).get("positions") == (b.get("approx") or {}).get("positions")
    approx_a, approx_b = (_approx_by_column(a), _approx_by_column(b)) if same_positions else ({}, {})
    # (name, research sample, replay sample) of every column whose own hash changed
    # a float column stored with another float width (float64 -> float32) is still compared value by value
    changed = [(_colname(x), approx_a.get(i), approx_b.get(j)) for i, j, x, y in pairs
               if x.get("hash") != y.get("hash") and (x.get("dtype") == y.get("dtype")
                                                      or x.get("kind") == y.get("kind") == "float")]
    if not pairs and 0 in approx_a and 0 in approx_b:  # scalars, containers: compare the sample itself
        va, vb = approx_a[0].get("values") or [], approx_b[0].get("values") or []
        if a.get("shape") is None and len(va) == len(vb) == 1:
            compared, beyond, rel = _compare_approx(approx_a[0], approx_b[0], rtol, atol)
            if beyond == 0 and rel > 0:
                return [DataDifference("precision", f"The value differs only at precision level ({_show(va[0])} → "
                                       f"{_show(vb[0])}, relative difference {rel:.2g}).")]
            return [DataDifference("values-changed", f"The value changed: {_show(va[0])} → {_show(vb[0])}.")]
        changed = [("", approx_a[0], approx_b[0])]
    if not changed:
        if retyped or _columns_added_or_removed(a, b):
            return []  # the schema finding says what changed; the columns both runs have are identical
        if a.get("index_content") != b.get("index_content"):
            return [DataDifference("values-changed", "Only the index labels changed; every column is identical.",
                                   ["(index)"])]
        return [DataDifference("values-changed", "The value changed." if a.get("shape") is None and
                               b.get("shape") is None else "The values changed.")]
    positions = (a.get("approx") or {}).get("positions") or []
    if positions and isinstance(positions[0], str) and pairs and 0 in approx_a and 0 in approx_b:
        # estimators: one sample whose positions are paths ("coef_[3]"): split it by attribute name
        x, y = approx_a[0], approx_b[0]
        split = []
        for name, _, _ in changed:
            keep = [k for k, p in enumerate(positions) if p == name or p.startswith(name + "[")]
            split.append((name, {"values": [x["values"][k] for k in keep]} if keep else None,
                          {"values": [y["values"][k] for k in keep]} if keep else None))
        changed = split
    precise, worst, changed_names, hidden = [], 0.0, [], []
    sampled = [0, 0]  # values compared, values beyond tolerance (columns with a sample)
    for name, xa, xb in changed:
        if xa is None or xb is None:
            changed_names.append(name)
            continue
        compared, beyond, rel = _compare_approx(xa, xb, rtol, atol)
        if beyond == 0 and rel > 0:
            precise.append(name)
            worst = max(worst, rel)
        elif beyond == 0:
            hidden.append(name)
        else:
            changed_names.append(name)
            sampled[0] += compared
            sampled[1] += beyond
    out = []
    if precise:
        out.append(DataDifference("precision", f"Values{_in_columns(precise)} differ only at precision level "
                                  f"(max relative difference {worst:.2g} at the sampled positions).", _named(precise)))
    if changed_names:
        partial = 0 < sampled[1] < sampled[0]  # say how much only when not everything moved
        detail = f" ({sampled[1]} of {sampled[0]} sampled values differ beyond tolerance)" if partial else ""
        out.append(DataDifference("values-changed", f"Values changed{_in_columns(changed_names)}{detail}.",
                                  _named(changed_names), broad=sampled[0] > 0 and 2 * sampled[1] >= sampled[0]))
    if hidden:
        out.append(DataDifference("values-changed", f"A few values changed{_in_columns(hidden)} "
                                  "(none of the sampled positions differ).", _named(hidden)))
    return out


def _columns_added_or_removed(a: dict[str, Any], b: dict[str, Any]) -> bool:
    ca, cb = _schema_columns(a), _schema_columns(b)
    if ca is None or cb is None:
        return False
    return {str(c.get("name")) for c in ca} != {str(c.get("name")) for c in cb}


def _new_categories(a: dict[str, Any], b: dict[str, Any]) -> list[DataDifference]:
    out = []
    for x, y in _pairs(a, b, "stats"):
        ta, tb = x.get("top"), y.get("top")
        if not isinstance(ta, list) or not isinstance(tb, list) or not tb:
            continue
        seen = set(top_keys(x))  # keyed under a privacy policy: a label kept in one run, withheld in the other
        complete = isinstance(x.get("distinct"), int) and x["distinct"] <= len(ta)
        floor = min((c for _, c in ta), default=0)
        new = [v for k, (v, c) in zip(top_keys(y), tb) if k not in seen and (complete or c > floor)]
        if not new:
            continue
        shown = [str(v) for v in new if not is_key(v)]
        withheld = len(new) - len(shown)
        if not shown:
            what = f"{len(new)} new categor{'y' if len(new) == 1 else 'ies'} ({WITHHELD})"
        else:
            what = _names(shown) + (f" and {withheld} more ({WITHHELD})" if withheld else "")
        out.append(DataDifference("new-categories", f"Column {_colname(x)!r} has value(s) unseen in the "
                                  f"research run: {what}.", [_colname(x)]))
    return out


_NON_FINITE = (("nan", "NaN"), ("posinf", "+inf"), ("neginf", "-inf"))


def _non_finite_counts(entry: dict[str, Any]) -> dict[str, int]:
    return {label: int(entry.get(key) or 0) for key, label in _NON_FINITE if isinstance(entry.get(key), int)}


def _nan_or_inf(a: dict[str, Any], b: dict[str, Any]) -> list[DataDifference]:
    """Columns (or a scalar) whose count of NaN/inf values differs between the runs."""
    moved = []
    for x, y in _pairs(a, b):
        if x.get("kind") != "float" or (x.get("hash") is not None and x.get("hash") == y.get("hash")):
            continue
        ca, cb = _non_finite_counts(x), _non_finite_counts(y)
        changed = [f"{cb.get(k, 0)} {k} ({ca.get(k, 0)} in research)" for _, k in _NON_FINITE
                   if ca.get(k, 0) != cb.get(k, 0)]
        if changed:
            moved.append((_colname(x), ", ".join(changed)))
    if not a.get("stats") and not b.get("stats") and a.get("shape") is None:
        va = [_num(v) for v in ((a.get("approx") or {}).get("columns") or [{}])[0].get("values") or []]
        vb = [_num(v) for v in ((b.get("approx") or {}).get("columns") or [{}])[0].get("values") or []]
        bad_a = [v for v in va if v is not None and not math.isfinite(v)]
        bad_b = [v for v in vb if v is not None and not math.isfinite(v)]
        if len(va) == len(vb) == 1 and (bad_a or bad_b) and repr(bad_a) != repr(bad_b):
            which = "now" if bad_b else "in research only"
            return [DataDifference("nan-or-inf", f"The value is {(bad_b or bad_a)[0]} {which}.")]
    if not moved:
        return []
    detail = "; ".join(f"{n!r}: {w}" if n else w for n, w in moved[:3])
    more = f" and {len(moved) - 3} more column(s)" if len(moved) > 3 else ""
    return [DataDifference("nan-or-inf", f"NaN/inf values changed: {detail}{more}.", _named([n for n, _ in moved]))]


def _shift(x: dict[str, Any], y: dict[str, Any]) -> str | None:
    ca, cb = _num(x.get("count")), _num(y.get("count"))
    na, nb = _num(x.get("nulls")) or 0.0, _num(y.get("nulls")) or 0.0
    if ca is not None and cb is not None and ca + na and cb + nb:
        fa, fb = na / (ca + na), nb / (cb + nb)
        if abs(fa - fb) > NULL_SHIFT:
            return f"null fraction {fa:.2%} → {fb:.2%}"
    ma, mb = _num(x.get("mean")), _num(y.get("mean"))
    sa, sb = _num(x.get("std")), _num(y.get("std"))
    if None not in (ma, mb, sa, sb) and all(map(math.isfinite, (ma, mb, sa, sb))):
        scale = max(sa, sb, 1e-300)
        if abs(ma - mb) > MEAN_SHIFT * scale and abs(ma - mb) > 1e-9 * max(abs(ma), abs(mb)):
            return f"mean {ma:.4g} → {mb:.4g} ({abs(ma - mb) / scale:.2g} std)"
        if min(sa, sb) > 0 and max(sa, sb) / min(sa, sb) > STD_RATIO:
            return f"std {sa:.4g} → {sb:.4g}"
        qa, qb = x.get("quantiles"), y.get("quantiles")
        if isinstance(qa, dict) and isinstance(qb, dict):
            for q in sorted(set(qa) & set(qb)):
                va, vb = _num(qa[q]), _num(qb[q])
                if va is not None and vb is not None and abs(va - vb) > QUANTILE_SHIFT * scale:
                    return f"quantile {q} {va:.4g} → {vb:.4g}"
        ha, hb = x.get("histogram"), y.get("histogram")
        if isinstance(ha, dict) and isinstance(hb, dict) and ha.get("edges") == hb.get("edges"):
            ca_, cb_ = ha.get("counts") or [], hb.get("counts") or []
            ta_, tb_ = sum(ca_), sum(cb_)
            if ta_ and tb_ and len(ca_) == len(cb_):
                tv = 0.5 * sum(abs(u / ta_ - v / tb_) for u, v in zip(ca_, cb_))
                if tv > HIST_SHIFT:
                    return f"histogram moved by {tv:.0%}"
    ta, tb = x.get("top"), y.get("top")
    # labels one lock withheld under another salt cannot be matched: their frequencies are not compared
    readable = not x.get("labels_dropped") and not y.get("labels_dropped")
    if isinstance(ta, list) and isinstance(tb, list) and ca and cb and readable:
        pa = {k: c / ca for k, (_, c) in zip(top_keys(x), ta)}
        pb = {k: c / cb for k, (_, c) in zip(top_keys(y), tb)}
        tv = 0.5 * sum(abs(pa.get(k, 0.0) - pb.get(k, 0.0)) for k in set(pa) | set(pb))
        if tv > TOP_SHIFT:
            return f"top-value frequencies moved by {tv:.0%}"
    return None


def _distribution_shift(a: dict[str, Any], b: dict[str, Any]) -> list[DataDifference]:
    shifts = []
    for x, y in _pairs(a, b, "stats"):
        if x.get("hash") is not None and x.get("hash") == y.get("hash"):
            continue
        why = _shift(x, y)
        if why:
            shifts.append((_colname(x), why))
    if not shifts:
        return []
    detail = "; ".join(f"{n!r}: {w}" if n else w for n, w in shifts[:3])
    more = f" and {len(shifts) - 3} more column(s)" if len(shifts) > 3 else ""
    return [DataDifference("distribution-shift", f"Distribution shifted: {detail}{more}.",
                           _named([n for n, _ in shifts]))]


def classify(research: dict[str, Any], replay: dict[str, Any], *, rtol: float = 1e-7,
             atol: float = 1e-12) -> list[DataDifference]:
    """The data causes that explain why ``replay`` differs from ``research``; empty when content is equal."""
    if not isinstance(research, dict) or not isinstance(replay, dict):
        return []
    if all(research.get(k) == replay.get(k) for k in ("content", "type", "schema")):
        return []
    by_member = _member_differences(research, replay, rtol, atol)
    if by_member:
        return by_member
    out: list[DataDifference] = []
    schema = _schema_difference(research, replay)
    if schema is not None:
        out.append(schema)
        if research.get("type") != replay.get("type"):
            return out
    na, nb = _rows(research), _rows(replay)
    if na is not None and nb is not None and na != nb:
        cause = "rows-added" if nb > na else "rows-removed"
        verb = "added" if nb > na else "removed"
        out.append(DataDifference(cause, f"{abs(nb - na)} row(s) {verb} ({na} → {nb})."))
    elif research.get("rows") is not None and research.get("rows") == replay.get("rows") and schema is None:
        hashes_equal = all(x.get("hash") == y.get("hash") for x, y in _pairs(research, replay))
        if hashes_equal and research.get("stats"):
            out.append(DataDifference("values-changed", "Only the index labels changed; every column is identical.",
                                      ["(index)"]))
        else:
            out.append(DataDifference("rows-reordered", f"The same {nb if nb is not None else ''} rows in another "
                                      "order.".replace("  ", " ")))
    elif research.get("content") != replay.get("content") and (schema is None or _schema_columns(research)):
        out.extend(_value_differences(research, replay, rtol, atol))
    out.extend(_new_categories(research, replay))
    out.extend(_nan_or_inf(research, replay))
    if not any(d.cause == "precision" for d in out):
        shift = _distribution_shift(research, replay)
        values = [d for d in out if d.cause == "values-changed"]
        if shift and values and all(d.broad for d in values):
            # every value of the column moved and so did its distribution: the shift is the explanation
            at = out.index(values[0])
            out[at:at] = shift
        else:
            out.extend(shift)
    return out


def _member_differences(a: dict[str, Any], b: dict[str, Any], rtol: float, atol: float) -> list[DataDifference]:
    """The differences of a container's members (``reprotrack.core.fingerprint.members``), each naming its
    member; [] when neither side has members or every member is the same."""
    ma, mb = a.get("members"), b.get("members")
    if not isinstance(ma, dict) or not isinstance(mb, dict) or a.get("type") != b.get("type"):
        return []
    out: list[DataDifference] = []
    for path in list(ma) + [p for p in mb if p not in ma]:
        fa, fb = ma.get(path), mb.get(path)
        if not isinstance(fa, dict) or not isinstance(fb, dict):
            which = "research" if fb is None else "the replay"
            out.append(DataDifference("schema-changed", f"Only {which} has this member "
                                      f"({(fa or fb or {}).get('type')}).", member=path))
            continue
        for diff in classify(fa, fb, rtol=rtol, atol=atol):
            diff.member = path + diff.member
            out.append(diff)
    return out
