"""A fine quantile grid per numeric column: what a drift test needs from the research data, and no more.

The seven ``quantiles`` of ``colstats`` describe a distribution for a reader; a two-sample test needs the
research distribution function itself. ``grid(values)`` returns the values at the probabilities
``k / GRID_STEPS`` (k = 0 … ``GRID_STEPS``) of the column's quantile sample: 41 floats, at most ~1 KB of JSON
per column, whatever the number of rows. Its bins are the research deciles (every 4th point) for PSI, and 40
equal-mass bins for the Kolmogorov-Smirnov bound and the Wasserstein distance (``reprotrack.core.drift``).

It is computed from the values at ``colstats.sample_positions`` (exact up to ``STATS_SAMPLE`` values, a
deterministic sample above), which pandas, Dask and Spark pick identically; ``np.quantile`` of the same
multiset is the same in every process, so the grid is equal bit for bit whichever engine made it. Fixed-size
and mergeable through that sample, as the rest of the statistics. Pure: numpy only.
"""

from __future__ import annotations

from typing import Any

import numpy as np

GRID_STEPS = 40
PROBABILITIES = np.linspace(0.0, 1.0, GRID_STEPS + 1)


def grid(sample: np.ndarray) -> dict[str, Any]:
    """``{"cdf_grid": [v_0 … v_40]}`` over the finite values of ``sample`` (null when there are none)."""
    finite = sample[np.isfinite(sample)] if sample is not None and len(sample) else np.zeros(0)
    if not len(finite):
        return {"cdf_grid": None}
    with np.errstate(all="ignore"):
        values = np.quantile(finite, PROBABILITIES)
    if not np.isfinite(values).all():  # interpolating between huge values overflowed: no grid, no NaN in JSON
        return {"cdf_grid": None}
    return {"cdf_grid": [float(v) for v in values]}
