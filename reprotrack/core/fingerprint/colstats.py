"""Per-column summary statistics: what lets two runs be compared when their data cannot be.

Numbers (and datetimes/timedeltas, as seconds): count, nulls, NaN/inf counts, mean, std, min, max, quantiles and
a 10-bin histogram between min and max. Counts, moments and extremes are exact, computed chunk by chunk in one
pass (bounded memory; moments merged with Chan's formula). Quantiles and histogram counts are exact up to
``STATS_SAMPLE`` values and, above that, come from a deterministic sample of ``STATS_SAMPLE`` positions (the
same positions in every process, from ``sample_positions``): histogram counts then sum to the sample size, not
to the column's count (``histogram.sampled`` says so) -- plenty to see a distribution move. Labels (strings,
categories, objects): count, nulls, distinct and the top values with their counts when the column was
factorised; high-cardinality columns get an estimated distinct count (k-minimum-values over the canonical row
hashes) and no top values.

Statistics are summaries, not identities: floating-point sums may differ in their last bits between numpy
builds, CPUs or chunk sizes, so they are compared with tolerances (``reprotrack.core.diff.data``), never for
equality -- ``content`` and ``rows`` are the identities. Every number is JSON-safe: non-finite floats are
written as the strings "nan", "inf", "-inf".
Pure: numpy only, no I/O.
"""

from __future__ import annotations

import functools
import math
from typing import Any, Callable, Iterable

import numpy as np

from reprotrack.core.fingerprint import canonical as C
from reprotrack.core.fingerprint import cdf

STATS_SAMPLE = 16384
QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
BINS = 10
TOP = 10
KMV = 1024
LABEL_CHARS = 80
LABEL_STEP = 1 << 16  # codes counted at once (bincount widens them to intp)


def jfloat(x: Any) -> float | str | None:
    """A float as JSON allows it (non-finite values as strings)."""
    if x is None:
        return None
    x = float(x)
    if math.isfinite(x):
        return x
    return "nan" if x != x else ("inf" if x > 0 else "-inf")


def label(v: Any) -> Any:
    """A short JSON-safe label for a value (top values, column names): never ``repr`` of an arbitrary object."""
    if v is None or isinstance(v, (bool, int)) and not isinstance(v, np.generic):
        return v
    if isinstance(v, float):
        return jfloat(v)
    if isinstance(v, np.generic):
        return label(v.item()) if v.dtype.kind in "biufc" else str(v)
    if isinstance(v, str):
        return v if len(v) <= LABEL_CHARS else v[: LABEL_CHARS - 1] + "…"
    if isinstance(v, bytes):
        return label(v.decode("latin-1"))
    if isinstance(v, tuple):
        return [label(x) for x in v]
    if C.is_null(v):
        return None
    iso = getattr(type(v), "isoformat", None)  # looked up on the type: an instance's __getattr__ is the user's
    if callable(iso):
        try:
            return str(iso(v))
        except Exception:  # noqa: BLE001
            pass
    if type(v).__module__ in ("decimal", "fractions"):
        return str(v)
    return f"<{C.type_name(v)}>"


def sorted_unique(x: np.ndarray) -> np.ndarray:
    """``np.unique`` by sorting (numpy 2's hash-table unique costs ~0.4 us per value on small integer arrays)."""
    x = np.sort(x)
    if len(x) < 2:
        return x
    keep = np.empty(len(x), dtype=bool)
    keep[0] = True
    np.not_equal(x[1:], x[:-1], out=keep[1:])
    return x[keep]


@functools.lru_cache(maxsize=64)
def _positions(n: int, k: int, salt: int) -> np.ndarray:
    idx = np.arange(k, dtype=C.U64) + C.U64((salt * C.GOLDEN) & C.MASK)
    pos = sorted_unique((C.mix(idx) % C.U64(n)).astype(np.int64))
    pos.setflags(write=False)  # shared by every caller with the same (n, k, salt)
    return pos


def sample_positions(n: int, k: int, salt: int = 0) -> np.ndarray:
    """k sorted distinct positions in range(n) from splitmix64 (not numpy's generator): canonical forever."""
    if n <= k:
        return np.arange(n, dtype=np.int64)
    return _positions(n, k, salt)


class NumberStats:
    """Streaming moments, extremes and non-finite counts over float64 chunks (NaN = null)."""

    def __init__(self) -> None:
        self.count = self.nulls = self.posinf = self.neginf = 0
        self.mean = self.m2 = 0.0
        self.lo = math.inf
        self.hi = -math.inf

    def update(self, x: np.ndarray) -> None:
        with np.errstate(all="ignore"):  # huge values overflow the moments to inf: reported, not raised
            self._update(x)

    def _update(self, x: np.ndarray) -> None:
        s = float(np.sum(x))
        if not math.isfinite(s):
            nan = np.isnan(x)
            self.nulls += int(nan.sum())
            self.posinf += int(np.count_nonzero(x == np.inf))
            self.neginf += int(np.count_nonzero(x == -np.inf))
            x = x[np.isfinite(x)]
            s = float(np.sum(x))
        if not len(x):
            return
        n = len(x)
        mean = s / n
        d = x - mean
        np.square(d, out=d)
        m2 = float(np.sum(d))  # not np.dot: BLAS threads would fight over two shared cores
        total = self.count + n
        delta = mean - self.mean
        self.mean += delta * n / total
        self.m2 += m2 + delta * delta * self.count * n / total
        self.count = total
        self.lo = min(self.lo, float(x.min()))
        self.hi = max(self.hi, float(x.max()))

    def merge(self, other: "NumberStats") -> None:
        """Chan's formula: counts and extremes exact, mean/m2 equal up to floating-point rounding."""
        self.nulls += other.nulls
        self.posinf += other.posinf
        self.neginf += other.neginf
        if not other.count:
            return
        total = self.count + other.count
        delta = other.mean - self.mean
        with np.errstate(all="ignore"):
            self.mean += delta * other.count / total
            self.m2 += other.m2 + delta * delta * self.count * other.count / total
        self.count = total
        self.lo = min(self.lo, other.lo)
        self.hi = max(self.hi, other.hi)

    def edges(self) -> np.ndarray | None:
        if not self.count:
            return None
        if self.hi > self.lo:
            with np.errstate(all="ignore"):
                edges = np.linspace(self.lo, self.hi, BINS + 1)
            if np.isfinite(edges).all() and (np.diff(edges) > 0).all():
                return edges
        return np.array([self.lo, self.hi])  # one bin (constant column, or a range too wide for floats)

    def result(self, sample: np.ndarray, hist: np.ndarray | None, edges: np.ndarray | None,
               exact_quantiles: bool) -> dict[str, Any]:
        finite = sample[np.isfinite(sample)] if sample is not None else np.zeros(0)
        quant = np.quantile(finite, QUANTILES) if len(finite) else None
        out: dict[str, Any] = {
            "count": self.count + self.posinf + self.neginf, "nulls": self.nulls, "nan": self.nulls,
            "posinf": self.posinf, "neginf": self.neginf,
            "mean": jfloat(self.mean) if self.count else None,
            "std": jfloat(math.sqrt(self.m2 / self.count)) if self.count else None,
            "min": jfloat(self.lo) if self.count else None, "max": jfloat(self.hi) if self.count else None,
            "quantiles": {str(q): jfloat(v) for q, v in zip(QUANTILES, quant)} if quant is not None else None,
            "quantiles_exact": exact_quantiles,
            "histogram": {"edges": [jfloat(e) for e in edges], "counts": [int(c) for c in hist],
                          "sampled": not exact_quantiles}
            if hist is not None and edges is not None else None,
        }
        return out


def number_stats(chunks: Callable[[], Iterable[np.ndarray]], total: int) -> dict[str, Any]:
    """One pass over float64 chunks: exact moments and extremes, plus the values at the sampled positions."""
    acc = NumberStats()
    pos = sample_positions(total, STATS_SAMPLE, salt=1)
    picked, lo = [], 0
    for x in chunks():
        acc.update(x)
        a, b = np.searchsorted(pos, [lo, lo + len(x)])
        if b > a:
            picked.append(x[pos[a:b] - lo])
        lo += len(x)
    sample = np.concatenate(picked) if picked else np.zeros(0)
    return finish_number_stats(acc, sample, total)


def finish_number_stats(acc: NumberStats, sample: np.ndarray, total: int) -> dict[str, Any]:
    """The statistics from (merged) moments and the values at ``sample_positions(total, STATS_SAMPLE, 1)``:
    the quantiles and histogram need only those, so partitions that each pick their share give the same."""
    edges = acc.edges()
    hist = None
    with np.errstate(all="ignore"):  # huge values overflow intermediate sums: reported, never raised
        if edges is not None:
            finite = sample[np.isfinite(sample)]
            hist = np.histogram(finite, bins=edges)[0] if len(finite) else np.zeros(len(edges) - 1, np.int64)
        out = acc.result(sample, hist, edges, exact_quantiles=total <= STATS_SAMPLE)
    out.update(cdf.grid(sample))  # the drift tests' research distribution (reprotrack.core.fingerprint.cdf)
    return out


def label_stats(codes: np.ndarray, uniques: list[Any]) -> dict[str, Any]:
    """Exact distinct count and top values from factorisation codes (-1 = null)."""
    counts = np.zeros(len(uniques) + 1, dtype=np.int64)  # last slot: nulls (code -1)
    for lo in range(0, len(codes), LABEL_STEP):  # chunks: bincount would widen all codes to int64 at once
        part = codes[lo: lo + LABEL_STEP].astype(np.intp)
        part[part < 0] = len(uniques)
        counts += np.bincount(part, minlength=len(uniques) + 1)
    nulls = int(counts[-1])
    counts = counts[:-1]
    present = np.flatnonzero(counts)
    labels = [label(uniques[i]) for i in present]
    order = sorted(range(len(present)), key=lambda i: (-int(counts[present[i]]), str(labels[i])))[:TOP]
    return {
        "count": int(len(codes) - nulls), "nulls": nulls, "distinct": int(len(present)), "distinct_exact": True,
        "top": [[labels[i], int(counts[present[i]])] for i in order],
    }


class DistinctSketch:
    """Distinct count from canonical 64-bit hashes: only hashes below 2**64 * 4k/n are kept (a hash sample of
    the distinct values, ~4k of them), then k-minimum-values; exact when every hash is kept."""

    def __init__(self, n: int, k: int = KMV) -> None:
        self.k = k
        self.fraction = min(1.0, 4.0 * k / max(n, 1))
        self.limit = C.U64(min(C.MASK, int(self.fraction * 2.0**64)))
        self.kept = np.zeros(0, dtype=C.U64)
        self.nulls = self.count = 0

    def update(self, h: np.ndarray) -> None:
        null = h == C.U64(C.NULL)
        nn = int(np.count_nonzero(null))
        self.nulls += nn
        self.count += len(h) - nn
        if nn:
            h = h[~null]
        if self.fraction < 1.0:
            h = h[h < self.limit]
        self.kept = sorted_unique(np.concatenate([self.kept, h]))

    def result(self) -> dict[str, Any]:
        kept = len(self.kept)
        if self.fraction >= 1.0:
            distinct, exact = kept, True
        elif kept > self.k:
            distinct, exact = int(round((self.k - 1) * 2.0**64 / (float(self.kept[self.k - 1]) + 1.0))), False
        else:
            distinct, exact = int(round(kept / self.fraction)), False
        return {"count": self.count, "nulls": self.nulls, "distinct": min(distinct, self.count),
                "distinct_exact": exact, "top": None}
