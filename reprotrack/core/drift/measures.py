"""Distances between the research distribution (from the lock) and the new data's counts.

Numbers: the research distribution function F is known at a few points u_0 < … < u_J (the plan); the new
data's F' is counted exactly at the same points. From those alone:

* ``ks_bound`` -- the Kolmogorov-Smirnov distance sup|F - F'| lies between the largest gap at the points (the
  lower bound, the statistic we test) and, inside each interval, the largest gap the two monotone functions
  can open (the upper bound, reported);
* ``ks_pvalue`` -- the asymptotic two-sample p-value of the lower bound (Stephens' small-sample correction),
  with the research side counted as the size of its quantile sample: conservative, since D is a lower bound;
* ``wasserstein`` -- the integral of |F - F'|, both taken linear between the points, plus the new data's exact
  distance beyond the outermost points; normalised by the research standard deviation, as Evidently does;
* ``psi`` -- population stability index over the research deciles (0.0001 floor per bin, as Evidently).

Labels: shares over the research labels plus "other": ``psi``, ``js_distance`` (Jensen-Shannon distance,
natural log, as scipy and Evidently) and ``chi2_pvalue`` (goodness of fit to the research shares, which are
exact counts of the research data). Pure: numpy and scipy.special only.
"""

from __future__ import annotations

import math

import numpy as np

FLOOR = 1e-4


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    e = np.clip(np.asarray(expected, dtype=float), FLOOR, None)
    a = np.clip(np.asarray(actual, dtype=float), FLOOR, None)
    return float(np.sum((a - e) * np.log(a / e)))


def js_distance(p: np.ndarray, q: np.ndarray) -> float:
    p = np.asarray(p, dtype=float)
    q = np.asarray(q, dtype=float)
    if p.sum() <= 0 or q.sum() <= 0:
        return 0.0
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2

    def kl(x: np.ndarray) -> float:
        keep = x > 0
        return float(np.sum(x[keep] * np.log(x[keep] / m[keep])))

    return math.sqrt(max(0.0, (kl(p) + kl(q)) / 2))


def chi2_pvalue(expected_shares: np.ndarray, observed: np.ndarray) -> float:
    """Goodness of fit of observed counts to known shares; a category with no research share that appears
    makes the statistic infinite (p = 0)."""
    from scipy.special import chdtrc

    observed = np.asarray(observed, dtype=float)
    n = observed.sum()
    if n <= 0:
        return 1.0
    expected = np.asarray(expected_shares, dtype=float) * n
    live = expected > 0
    if np.any(observed[~live] > 0):
        return 0.0
    dof = int(np.count_nonzero(live)) - 1
    if dof < 1:
        return 1.0
    stat = float(np.sum((observed[live] - expected[live]) ** 2 / expected[live]))
    return float(chdtrc(dof, stat))


def ks_bound(research_cdf: np.ndarray, new_cdf: np.ndarray, err: np.ndarray | None = None) -> tuple[float, float]:
    """(lower, upper) bounds of sup|F - F'| from both functions at the same increasing points; ``err`` is how
    far each research value may be off (its resolution), taken off the lower bound."""
    f = np.asarray(research_cdf, dtype=float)
    g = np.asarray(new_cdf, dtype=float)
    slack = np.zeros_like(f) if err is None else np.asarray(err, dtype=float)
    lower = float(np.max(np.clip(np.abs(f - g) - slack, 0, None))) if len(f) else 0.0
    # before the first point both start at 0; after the last, both end at 1
    f_lo, f_hi = np.concatenate([[0.0], f]), np.concatenate([f, [1.0]])
    g_lo, g_hi = np.concatenate([[0.0], g]), np.concatenate([g, [1.0]])
    upper = float(np.max(np.maximum(g_hi - f_lo, f_hi - g_lo)))
    return lower, max(lower, min(1.0, upper))


def ks_pvalue(d: float, n_research: int, n_new: int) -> float:
    from scipy.special import kolmogorov

    if n_research <= 0 or n_new <= 0:
        return 1.0
    ne = n_research * n_new / (n_research + n_new)
    root = math.sqrt(ne)
    return float(min(1.0, max(0.0, kolmogorov((root + 0.12 + 0.11 / root) * d))))


def wasserstein(points: np.ndarray, research_cdf: np.ndarray, new_cdf: np.ndarray, below_dist: float,
                above_dist: float, n_new: int, err: np.ndarray | None = None) -> float:
    """W1 = integral of |F - F'|; between points both are linear (the gap's integral is exact for that), beyond
    the outermost points the research side holds no mass and the new side's own distances are known. The
    research side's resolution (``err``, integrated the same way) is taken off: a lower bound."""
    x = np.asarray(points, dtype=float)
    f = np.asarray(research_cdf, dtype=float)
    g = np.asarray(new_cdf, dtype=float)
    total = 0.0
    for i in range(len(x) - 1):
        width = x[i + 1] - x[i]
        if not width > 0 or not math.isfinite(width):
            continue
        a, b = f[i] - g[i], f[i + 1] - g[i + 1]
        if a * b >= 0:
            total += width * (abs(a) + abs(b)) / 2
        else:  # the gap changes sign inside: two triangles
            cross = abs(a) / (abs(a) + abs(b))
            total += width * (abs(a) * cross + abs(b) * (1 - cross)) / 2
    if err is not None and len(err) == len(x):
        e = np.asarray(err, dtype=float)
        widths = np.diff(x)
        ok = np.isfinite(widths) & (widths > 0)
        total = max(0.0, total - float(np.sum((widths * (e[:-1] + e[1:]) / 2)[ok])))
    if n_new > 0:
        total += (below_dist + above_dist) / n_new
    return float(total)


def shares(counts: np.ndarray) -> np.ndarray:
    counts = np.asarray(counts, dtype=float)
    total = counts.sum()
    return counts / total if total > 0 else np.zeros_like(counts)


def lower_tail_z(observed: int, expected_share: float, n: int) -> float:
    """z of an observed count against a binomial expectation (negative: fewer than expected)."""
    mean = expected_share * n
    sd = math.sqrt(max(mean * (1 - expected_share), 1e-12))
    return (observed - mean) / sd
