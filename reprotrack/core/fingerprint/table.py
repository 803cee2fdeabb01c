"""The chunked fingerprint engine for everything with rows and columns: DataFrames, Series, Indexes, arrays.

One pass over row chunks gives, per column, the canonical per-row hashes (``reprotrack.core.fingerprint.encoders.base``). From them:

* ``content`` = xxh3-128 over a header (form, rows, columns, index) and the per-column digests; a column's
  digest is xxh3-128 over its content kind and the block digest (``reprotrack.core.fingerprint.blockdigest``: xxh3-128 of the
  per-2**16-row-block xxh3-128 digests) of its canonical value bytes (and of its second stream: the null mask
  of a column that has one, the lengths of a string column)
  as ``reprotrack.core.fingerprint.encoders.base`` defines them -- order-sensitive, independent of the chunk size *and* of any
  partitioning (so Dask/Spark partitions compute it piecewise, ``reprotrack.core.fingerprint.distributed``), and it names the
  columns that changed (``stats[i]["hash"]``);
* ``rows`` = the multiset of rows: row hash r = mix(S + sum_j h_j * K_j), K_j an odd key per column position;
  two 64-bit lanes, sum(r) and sum(mix(r ^ S)) mod 2**64 -- sums, so duplicates count and order does not.
  The index is not part of a row (a shuffled frame, re-indexed or not, keeps its ``rows``), but it is part
  of ``content`` unless it is a RangeIndex, which is described by (start, stop, step) only.
* ``approx`` = exact float values at ``sample`` canonical row positions, for the tolerance comparison;
* ``stats`` = per-column summaries (``reprotrack.core.fingerprint.colstats``).

Memory beyond the input is a few arrays of one chunk (``chunk_rows``), plus factorisation codes for
low-cardinality object columns. Pure: no I/O.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np
import xxhash

from reprotrack.core.fingerprint import canonical as C
from reprotrack.core.fingerprint import colstats
from reprotrack.core.fingerprint.blockdigest import BlockHasher
from reprotrack.core.fingerprint.encoders import BlockEncoder, Encoder, NumberEncoder, key_vector

MAX_STATS_COLUMNS = 100
MAX_APPROX_VALUES = 4096
ROWS_LANE_SEED = 0x726F77732D6C616E  # "rows-lan"
FORMAT = b"reprotrack-fingerprint/2"  # /2: block digests (mergeable across partitions)
ROW_SEED = 0x726F772D73656564  # "row-seed": a row of zeros must not hash to mix(0) == 0


@dataclass
class Column:
    name: Any
    dtype: str
    enc: Encoder


def digest_header(*parts: Any) -> bytes:
    """Unambiguous bytes for a header: every part length-prefixed and typed."""
    out = []
    for p in parts:
        if isinstance(p, bytes):
            out.append(b"b" + struct.pack("<Q", len(p)) + p)
        elif isinstance(p, bool) or p is None:
            out.append(b"n" if p is None else (b"T" if p else b"F"))
        elif isinstance(p, int):
            out.append(b"i" + struct.pack("<q", p) if -(1 << 63) <= p < (1 << 63) else b"I" + str(p).encode())
        else:
            s = str(p).encode("utf-8", "surrogatepass")
            out.append(b"s" + struct.pack("<Q", len(s)) + s)
    return b"".join(out)


def chunk_rows(width: int) -> int:
    """Rows per chunk: about a million values (8 MB per temporary array) whatever the width."""
    return int(max(16, min(1 << 16, (1 << 20) // max(1, width))))


def _le(h: np.ndarray) -> np.ndarray:
    return h if h.dtype.byteorder in ("<", "=") and np.little_endian else h.astype("<u8")


def table_fingerprint(*, type_: str, shape: list[int] | None, schema: Any, form: str, columns: list[Column],
                      index: list[Column] | None, index_desc: Any, n: int, parts: tuple[str, ...],
                      sample: int) -> dict[str, Any]:
    want_rows = "rows" in parts
    want_stats = "stats" in parts
    full = want_rows or want_stats
    step = chunk_rows(sum(getattr(c.enc, "width", 1) for c in list(columns) + list(index or [])))
    for col in list(columns) + list(index or []):
        prepare = getattr(col.enc, "prepare", None)
        if prepare is not None:
            prepare(full)
    hashers = [(BlockHasher(), BlockHasher() if c.enc.has_mask else None) for c in columns]
    idx_hashers = [(BlockHasher(), BlockHasher() if c.enc.has_mask else None) for c in (index or [])]
    keys = key_vector(len(columns)) if columns and want_rows else np.zeros(0, C.U64)
    sketches = [colstats.DistinctSketch(n) if want_stats and c.enc.labels() is None and c.enc.numbers(0, 0) is None
                else None for c in columns[:MAX_STATS_COLUMNS]]
    sketches += [None] * (len(columns) - len(sketches))
    lane1 = lane2 = 0
    for lo in range(0, max(n, 0), step):
        hi = min(n, lo + step)
        r = np.full(hi - lo, ROW_SEED, dtype=C.U64) if want_rows else None
        for j, col in enumerate(columns):
            want = r is not None or sketches[j] is not None
            _rows(hashers[j], hi - lo)
            h = col.enc.chunk(lo, hi, hashers[j][0], hashers[j][1], want)
            if r is not None:
                h2 = h * keys[j]
                r += h2
            if sketches[j] is not None:
                sketches[j].update(h)
        for j, col in enumerate(index or []):
            _rows(idx_hashers[j], hi - lo)
            col.enc.chunk(lo, hi, idx_hashers[j][0], idx_hashers[j][1], False)
        if r is not None:
            C.mix(r)
            lane1 += int(np.sum(r, dtype=C.U64))
            r ^= C.U64(ROWS_LANE_SEED)
            lane2 += int(np.sum(C.mix(r), dtype=C.U64))
    col_digests = [_digest(c, hz) for c, hz in zip(columns, hashers)]
    idx_digests = [_digest(c, hz) for c, hz in zip(index or [], idx_hashers)]
    index_content = ("xxh3-128:" + xxhash.xxh3_128_hexdigest(b"".join(idx_digests))) if index else None
    content = content_digest(form, n, len(columns), index_desc, idx_digests, col_digests)
    fp: dict[str, Any] = {
        "type": type_, "shape": shape, "schema": schema, "content": content,
        "rows": f"sum128:{lane1 & C.MASK:016x}{lane2 & C.MASK:016x}" if want_rows else None,
        "approx": None, "stats": None,
    }
    if form in ("frame", "series"):
        fp["index_content"] = index_content if index else None
    if "approx" in parts:
        fp["approx"] = approx(columns, n, sample)
    if want_stats:
        fp["stats"] = [column_stats(col, n, digest, sketch)
                       for col, digest, sketch in zip(columns[:MAX_STATS_COLUMNS], col_digests, sketches)]
        if len(columns) > MAX_STATS_COLUMNS:
            fp["stats_truncated"] = len(columns) - MAX_STATS_COLUMNS
    return fp


def _rows(hashers: tuple[Any, Any], rows: int) -> None:
    for h in hashers:
        if h is not None:
            h.rows = rows


def _digest(col: Column, hashers: tuple[Any, Any]) -> bytes:
    values, mask = hashers
    return column_digest(col.enc.content_kind, values.digest(), mask.digest() if mask is not None else None)


def column_digest(content_kind: str, values: bytes, mask: bytes | None) -> bytes:
    """A column's digest from its kind and the block digests of its value and mask streams."""
    return xxhash.xxh3_128_digest(digest_header(content_kind, values, mask))


def content_digest(form: str, n: int, ncols: int, index_desc: Any, idx_digests: list[bytes],
                   col_digests: list[bytes]) -> str:
    """The ``content`` of a table from its column (and index column) digests."""
    return "xxh3-128:" + xxhash.xxh3_128_hexdigest(digest_header(
        FORMAT, form, n, ncols, *(index_desc if isinstance(index_desc, tuple) else (index_desc,)),
        *idx_digests, *col_digests))


def _chunks(enc: Encoder, n: int) -> Iterable[np.ndarray]:
    step = chunk_rows(getattr(enc, "width", 1))
    for lo in range(0, n, step):
        x = enc.numbers(lo, min(n, lo + step))
        if x is not None:
            yield x


def column_stats(col: Column, n: int, digest: bytes, sketch: colstats.DistinctSketch | None) -> dict[str, Any]:
    enc = col.enc
    out: dict[str, Any] = {"name": col.name, "dtype": col.dtype, "kind": enc.kind,
                           "hash": "xxh3-128:" + digest.hex()}
    labels = enc.labels()
    if labels is not None:
        out.update(colstats.label_stats(*labels))
    if enc.kind == "bool" and isinstance(enc, NumberEncoder):
        nulls = int(enc.mask.sum()) if enc.mask is not None else 0
        true = int(np.count_nonzero(enc.values & ~enc.mask) if enc.mask is not None else np.count_nonzero(enc.values))
        out.update({"count": n - nulls, "nulls": nulls, "true": true,
                    "mean": colstats.jfloat(true / (n - nulls)) if n - nulls else None})
    elif enc.numbers(0, 0) is not None:
        width = enc.width if isinstance(enc, BlockEncoder) else 1
        numeric = colstats.number_stats(lambda: _chunks(enc, n), n * width)
        if labels is not None:  # categorical with numeric categories: keep the label counts too
            numeric = {k: v for k, v in numeric.items() if k not in ("count", "nulls")}
        out.update(numeric)
        if enc.kind in ("datetime", "timedelta"):
            out["unit"] = "s"
    elif sketch is not None:
        out.update(sketch.result())
    return out


def approx(columns: list[Column], n: int, sample: int) -> dict[str, Any] | None:
    """Exact float values at canonical row positions: a precision change moves them a little, not a lot."""
    positions = colstats.sample_positions(n, max(0, sample), salt=2)
    cols, budget = [], MAX_APPROX_VALUES
    for j, col in enumerate(columns):
        if budget < len(positions) or not len(positions):
            break
        vals = col.enc.take_floats(positions)
        if vals is None:
            continue
        budget -= len(vals)
        finite = np.abs(vals[np.isfinite(vals)])
        cols.append({"column": j, "name": col.name, "values": [colstats.jfloat(v) for v in vals],
                     "scale": colstats.jfloat(finite.max()) if len(finite) else None})
    if not cols:
        return None
    return {"positions": [int(p) for p in positions], "columns": cols}
