"""Combine partition summaries (``reprotrack.core.fingerprint.distributed.partition``) into the pandas fingerprint of the table.

What is identical to ``reprotrack.core.fingerprint`` of the same data as one pandas object, bit for bit:

* ``content``, ``index_content`` and every ``stats[i]["hash"]`` -- block digests stitched in partition order
  (``reprotrack.core.fingerprint.blockdigest``), so order-aware: a reordered partition or a changed partition length moves
  bytes between blocks;
* ``rows`` -- two lanes of sums of mixed row hashes, added mod 2**64: order-free;
* ``shape``, ``schema``, ``approx`` (values at the same global canonical positions);
* statistics: ``count``, ``nulls``, ``nan``, ``posinf``, ``neginf``, ``min``, ``max``, bool ``true``;
  ``quantiles`` and ``histogram`` (computed from the values at the same global sample positions, which each
  partition picks, with edges from the merged min/max -- exact up to ``STATS_SAMPLE`` values, sampled above,
  exactly as pandas); distinct counts from the sketch (the same hashes below the same global threshold,
  unioned); top values and exact distinct counts of categoricals.

Approximate (within a documented bound; the diff already compares these with tolerances):

* ``mean`` and ``std``: partial moments merged with Chan's formula in another grouping than pandas' chunks:
  equal up to floating-point rounding (relative error ~1e-15 x log2(partitions)).
* top values and exact ``distinct`` of *object* (string) columns: pandas factorises a column when its first
  4 096 values hold few distinct objects (it counts object identities) and it has at most max(1024, n/8)
  distinct values. Here the same rule is applied to canonical values and exact counting stops at
  ``LABEL_CAP`` distinct values per partition and in the merge; past that, ``top`` is null and ``distinct``
  the k-minimum-values estimate (``distinct_exact`` false, relative error about 1/sqrt(1024) ~ 3%).

Pure: numpy only.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

import numpy as np
import xxhash

from reprotrack.core.fingerprint import canonical as C
from reprotrack.core.fingerprint import colstats
from reprotrack.core.fingerprint import valuestream as VS
from reprotrack.core.fingerprint.blockdigest import join, stitch
from reprotrack.core.fingerprint.distributed.partition import LABEL_CAP, MASKABLE, PROBE
from reprotrack.core.fingerprint.table import MAX_APPROX_VALUES, MAX_STATS_COLUMNS, column_digest, content_digest


def global_kind(kinds: list[str]) -> str | None:
    """The kind pandas gives the whole column from the kinds partitions gave their part."""
    if not kinds:
        return None
    if "uint" in kinds:
        return "uint"
    bracketed = [k for k in kinds if k.startswith(("datetime[", "timedelta["))]
    return bracketed[0] if bracketed else kinds[0]


def _digest(parts: list[dict[str, Any]], content_kind: str) -> bytes:
    values = stitch(p for s in parts for p in s["values"])
    masked = content_kind == VS.KIND or (any(s["mask"] for s in parts) and parts[0]["kind"] in MASKABLE)
    mask = stitch(p for s in parts for p in (s["mask_pieces"] or [])) if masked else None
    return column_digest(content_kind, values, mask)


def _cat(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return b if a is None else a
    return np.concatenate([a, b])


def _join_column(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Two adjacent partitions' share of one column as one (every field stays bounded)."""
    out = dict(a)
    out["kind"] = "object" if "object" in (a["kind"], b["kind"]) else a["kind"]
    out["mask"] = a["mask"] or b["mask"]
    out["values"] = join(a["values"], b["values"])
    out["mask_pieces"] = join(a["mask_pieces"] or [], b["mask_pieces"] or []) \
        if a["mask_pieces"] is not None or b["mask_pieces"] is not None else None
    out["floats"] = _cat(a["floats"], b["floats"])
    for key in ("nulls", "true"):
        if key in a:
            out[key] = a[key] + b[key]
    if "acc" in a:
        acc = copy.copy(a["acc"])
        acc.merge(b["acc"])
        out["acc"], out["sample"] = acc, np.concatenate([a["sample"], b["sample"]])
    if "kept" in a:
        out["kept"] = np.union1d(a["kept"], b["kept"])
        out["probe"] = np.concatenate([a["probe"], b["probe"]])[:PROBE]
        out["counts"] = _join_counts(a["counts"], b["counts"])
    return out


def _join_counts(a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    keys = np.concatenate([a[0], b[0]])
    u, inv = np.unique(keys, return_inverse=True)
    if len(u) > LABEL_CAP:
        return None
    counts = np.bincount(inv, weights=np.concatenate([a[1], b[1]]), minlength=len(u)).astype(np.int64)
    first_all = np.concatenate([a[2], b[2]])
    first = np.full(len(u), np.iinfo(np.int64).max, np.int64)
    np.minimum.at(first, inv, first_all)
    labels_all = list(a[3]) + list(b[3])
    pick = {}
    for i, (g, pos) in enumerate(zip(inv.tolist(), first_all.tolist())):
        if pos == first[g] and g not in pick:
            pick[g] = labels_all[i]
    return u, counts, first, [pick[g] for g in range(len(u))]


def join_summaries(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """The summary of two adjacent partitions (``a`` first). Associative: reduce in any tree shape."""
    return {
        "n": a["n"] + b["n"], "offset": a["offset"],
        "lanes": ((a["lanes"][0] + b["lanes"][0]) & C.MASK, (a["lanes"][1] + b["lanes"][1]) & C.MASK),
        "columns": [_join_column(x, y) for x, y in zip(a["columns"], b["columns"])],
        "index": [_join_column(x, y) for x, y in zip(a["index"], b["index"])],
        "content_kinds": a["content_kinds"],
    }


def combine(summaries: list[dict[str, Any]], *, type_: str, shape: list[int], schema: Any, form: str,
            names: list[Any], dtypes: list[str], index_desc: Any, parts: tuple[str, ...],
            sample: int) -> dict[str, Any]:
    """The fingerprint from the partition summaries in order (or from one already joined summary)."""
    summaries = [functools.reduce(join_summaries, summaries)] if len(summaries) > 1 else list(summaries)
    n = sum(s["n"] for s in summaries)
    ncols = len(names)
    by_col = [[s["columns"][j] for s in summaries] for j in range(ncols)]
    kinds = []
    for j in range(ncols):
        ks = [c["kind"] for c in by_col[j]]
        kinds.append("object" if "object" in ks else ks[0])
    content_kinds = summaries[0]["content_kinds"]
    col_digests = [_digest(by_col[j], content_kinds[j]) for j in range(ncols)]
    hashed_index = bool(summaries[0]["index"])
    idx_digests = []
    if hashed_index:
        idx_parts = [s["index"][0] for s in summaries]
        idx_digests = [_digest(idx_parts, idx_parts[0]["content_kind"])]
    lane1 = sum(s["lanes"][0] for s in summaries) & C.MASK
    lane2 = sum(s["lanes"][1] for s in summaries) & C.MASK
    fp: dict[str, Any] = {
        "type": type_, "shape": shape, "schema": schema,
        "content": content_digest(form, n, ncols, index_desc, idx_digests, col_digests),
        "rows": f"sum128:{lane1:016x}{lane2:016x}" if "rows" in parts else None, "approx": None, "stats": None,
    }
    if form in ("frame", "series"):
        fp["index_content"] = ("xxh3-128:" + xxhash.xxh3_128_hexdigest(b"".join(idx_digests))) if hashed_index \
            else None
    if "approx" in parts:
        fp["approx"] = _approx(by_col, names, n, sample)
    if "stats" in parts:
        fp["stats"] = [_stats(by_col[j], names[j], dtypes[j], kinds[j], col_digests[j], n)
                       for j in range(min(ncols, MAX_STATS_COLUMNS))]
        if ncols > MAX_STATS_COLUMNS:
            fp["stats_truncated"] = ncols - MAX_STATS_COLUMNS
    return fp


def _approx(by_col: list[list[dict[str, Any]]], names: list[Any], n: int, sample: int) -> dict[str, Any] | None:
    positions = colstats.sample_positions(n, max(0, sample), salt=2)
    cols, budget = [], MAX_APPROX_VALUES
    for j, col in enumerate(by_col):
        if budget < len(positions) or not len(positions):
            break
        got = [c["floats"] for c in col if c["floats"] is not None]
        if not got:
            continue
        vals = np.concatenate(got)
        budget -= len(vals)
        finite = np.abs(vals[np.isfinite(vals)])
        cols.append({"column": j, "name": names[j], "values": [colstats.jfloat(v) for v in vals],
                     "scale": colstats.jfloat(finite.max()) if len(finite) else None})
    if not cols:
        return None
    return {"positions": [int(p) for p in positions], "columns": cols}


def _stats(col: list[dict[str, Any]], name: Any, dtype: str, kind: str, digest: bytes, n: int) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "dtype": dtype, "kind": kind, "hash": "xxh3-128:" + digest.hex()}
    role = col[0]["role"]
    if role == "bool":
        nulls = sum(c["nulls"] for c in col)
        true = sum(c["true"] for c in col)
        out.update({"count": n - nulls, "nulls": nulls, "true": true,
                    "mean": colstats.jfloat(true / (n - nulls)) if n - nulls else None})
        return out
    if role in ("labels", "categories"):
        labels = _labels(col, n, factorised=role == "categories" or _factorised(col, n))
        out.update(labels if labels is not None else _sketch(col, n))
    if "acc" in col[0]:
        acc = colstats.NumberStats()
        for c in col:
            acc.merge(c["acc"])
        sample = np.concatenate([c["sample"] for c in col])
        numeric = colstats.finish_number_stats(acc, sample, n)
        if role == "categories":
            numeric = {k: v for k, v in numeric.items() if k not in ("count", "nulls")}
        out.update(numeric)
        if kind in ("datetime", "timedelta"):
            out["unit"] = "s"
    elif role == "sketch":
        out.update(_sketch(col, n))
    return out


def _factorised(col: list[dict[str, Any]], n: int) -> bool:
    """pandas' rule (``object_columns.factorize_values``), on canonical values."""
    if not n:
        return False
    probe = np.concatenate([c["probe"] for c in col])[:PROBE]
    if len(np.unique(probe)) > max(64, min(n, PROBE) // 4):
        return False
    merged = _merged(col)
    return merged is not None and len(merged) <= max(1024, n // 8)


def _merged(col: list[dict[str, Any]]) -> dict[int, list[Any]] | None:
    table: dict[int, list[Any]] = {}
    for c in col:
        if c.get("counts") is None:
            return None
        keys, counts, first, labels = c["counts"]
        for k, cnt, pos, lab in zip(keys.tolist(), counts.tolist(), first.tolist(), labels):
            row = table.get(k)
            if row is None:
                table[k] = [int(cnt), pos, lab]
            else:
                row[0] += int(cnt)
        if len(table) > LABEL_CAP:
            return None
    return table


def _labels(col: list[dict[str, Any]], n: int, factorised: bool) -> dict[str, Any] | None:
    if not factorised:
        return None
    table = _merged(col)
    if table is None:
        return None
    nulls = sum(c["nulls"] for c in col)
    rows = sorted(table.values(), key=lambda r: r[1])  # first appearance, as pandas numbers its codes
    order = sorted(rows, key=lambda r: (-r[0], str(r[2])))[: colstats.TOP]
    return {"count": n - nulls, "nulls": nulls, "distinct": len(rows), "distinct_exact": True,
            "top": [[r[2], r[0]] for r in order]}


def _sketch(col: list[dict[str, Any]], n: int) -> dict[str, Any]:
    sketch = colstats.DistinctSketch(n)
    sketch.kept = np.unique(np.concatenate([c["kept"] for c in col])) if col else np.zeros(0, C.U64)
    sketch.nulls = sum(c["nulls"] for c in col)
    sketch.count = n - sketch.nulls
    return sketch.result()
