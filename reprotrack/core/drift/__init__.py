"""Drift of new data against the research statistics stored in a lock: no copy of the research data needed.

``plan`` reads what the lock knows about each column, ``profile`` counts the new data against it (one
partition at a time, mergeable), ``measures`` turns both into distances and tests, ``compare`` into findings
and a verdict with the thresholds of ``options``. Pure: no I/O (``reprotrack.drift`` reads files and frames).
"""

from reprotrack.core.drift.compare import ColumnResult, DriftReport, drift_report
from reprotrack.core.drift.options import DriftOptions, Thresholds
from reprotrack.core.drift.plan import ColumnPlan, plan_of
from reprotrack.core.drift.profile import merge, profile

__all__ = ["ColumnPlan", "ColumnResult", "DriftOptions", "DriftReport", "Thresholds", "drift_report", "merge",
           "plan_of", "profile"]
