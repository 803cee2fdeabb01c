"""The thresholds of a drift verdict, their defaults and why.

The distribution test follows Evidently's defaults, so that a verdict means the same as theirs: when either
side has at most ``small_rows`` (1,000) rows, a two-sample test at p < 0.05 -- Kolmogorov-Smirnov for numbers,
chi-square for labels -- because at that size a distance would be mostly noise; above it, a distance of 0.1
-- Wasserstein normalised by the research standard deviation for numbers, Jensen-Shannon for labels --
because at that size every test rejects trivial shifts. (Evidently decides by the reference's size alone; a
small new sample against a large reference then gets a distance, which alarms on noise: here it gets the test.) PSI is always reported; it decides only when ``psi`` is set
(0.2 is the usual "significant change" mark). Schema and data-quality checks are absolute:

* ``null_rate`` 0.05 -- the null share rose by more than 5 points *and* significantly (z > 3.09, p < 0.001),
  so a noisy small sample does not alarm;
* ``out_of_range`` 0.05 -- more than 5% of the values lie beyond the research min/max;
* ``new_categories`` 0.01 -- labels the research data never had (known only when the lock lists every research
  label) make up more than 1% of the rows;
* ``rare`` 0.01 -- a research label with at least this share fell below it, significantly (z < -3.09): it became
  rare, or vanished;
* ``dataset_share`` 0.5 -- the data set drifted when at least half of its columns drifted (Evidently's
  dataset drift), or when any ``required`` column drifted, or when any research column is missing.

Per-column overrides (``columns = {age = {wasserstein = 0.2, required = true}}``) win over the defaults.
Pure: no I/O (``reprotrack.drift`` reads ``[tool.reprotrack.drift]`` and the command line).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

from reprotrack.errors import UsageError


@dataclass(frozen=True)
class Thresholds:
    small_rows: int = 1000
    ks_pvalue: float = 0.05
    chi2_pvalue: float = 0.05
    wasserstein: float = 0.1
    js_distance: float = 0.1
    psi: float | None = None
    null_rate: float = 0.05
    out_of_range: float = 0.05
    new_categories: float = 0.01
    rare: float = 0.01
    required: bool = False


@dataclass(frozen=True)
class DriftOptions:
    defaults: Thresholds = field(default_factory=Thresholds)
    columns: dict[str, Thresholds] = field(default_factory=dict)
    dataset_share: float = 0.5
    significance_z: float = 3.09

    def for_column(self, key: str) -> Thresholds:
        return self.columns.get(key, self.defaults)


THRESHOLD_KEYS = {f.name for f in fields(Thresholds)}


def thresholds(base: Thresholds, values: dict[str, Any], where: str) -> Thresholds:
    """``base`` with ``values`` (keys with ``-`` or ``_``) checked: a wrong one is a ``UsageError``."""
    clean: dict[str, Any] = {}
    for raw, value in values.items():
        key = str(raw).replace("-", "_")
        if key not in THRESHOLD_KEYS:
            raise UsageError(f"{where}: unknown drift threshold {raw!r}; known: {', '.join(sorted(THRESHOLD_KEYS))}")
        clean[key] = check(key, value, where)
    return replace(base, **clean)


def check(key: str, value: Any, where: str) -> Any:
    if key == "required":
        if not isinstance(value, bool):
            raise UsageError(f"{where}: required must be true or false, not {value!r}")
        return value
    if key == "psi" and value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0 or value == float("inf"):
        raise UsageError(f"{where}: drift threshold {key} must be a finite number >= 0, not {value!r}")
    if key == "small_rows":
        return int(value)
    if key.endswith("pvalue") and value > 1:
        raise UsageError(f"{where}: {key} is a p-value, between 0 and 1, not {value!r}")
    return float(value)


def share(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
        raise UsageError(f"{where}: dataset-share must be a number in (0, 1], not {value!r}")
    return float(value)
