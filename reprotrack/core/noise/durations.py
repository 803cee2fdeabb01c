"""Durations inside results: the fields libraries fill with how long something took.

A grid search's ``cv_results_`` has ``mean_fit_time``/``std_score_time`` columns, ``refit_time_`` is the
seconds the refit took, ``cross_validate`` returns ``fit_time``/``score_time`` arrays. They sit right next to the
scores, so a verifier that compares values raises an alarm on every replay: the machine was a little faster.
They are not results, so the tracker leaves them out wherever it compares values:

* fitted estimators' fingerprints skip ``refit_time_`` and the timing keys of ``cv_results_``
  (``reprotrack.core.fingerprint.estimators``);
* a dict or DataFrame the cell created or displayed is fingerprinted without its timing keys/columns
  (``without_durations``; the capture notes which under the ignored ``run`` key);
* printed text: ``normalise`` masks the values of these keys in printed dicts and the cells of these columns
  in printed tables (``TIMING_FIELDS`` is the list both use).

Only these exact names count: a data column called ``delivery_time`` is data. Pure: no imports of pandas or
numpy (objects are recognised by their type's module), no I/O.
"""

from __future__ import annotations

from typing import Any

#: Names of fields that hold durations (scikit-learn's cross-validation results and searches).
TIMING_FIELDS = frozenset({
    "fit_time", "score_time", "mean_fit_time", "std_fit_time", "mean_score_time", "std_score_time",
    "refit_time_",
})


def is_timing_field(name: Any) -> bool:
    return isinstance(name, str) and name in TIMING_FIELDS


def without_durations(value: Any) -> tuple[Any, list[str]]:
    """``value`` without its timing keys (a dict) or columns (a pandas DataFrame), and the names left out.

    Anything else, or a value with no such field, comes back as it is (the same object) with ``[]``. A dict
    is copied shallowly; a frame is ``drop``-ped (frames with timing columns are small result tables)."""
    if isinstance(value, dict):
        dropped = [k for k in value if is_timing_field(k)]
        if not dropped:
            return value, []
        return {k: v for k, v in value.items() if not is_timing_field(k)}, sorted(dropped)
    cls = type(value)
    if cls.__name__ == "DataFrame" and (cls.__module__ or "").startswith("pandas"):
        try:
            columns = list(value.columns)
        except Exception:  # noqa: BLE001 - a look-alike: compare it whole
            return value, []
        if len(columns) > 10_000:
            return value, []
        dropped = [c for c in columns if is_timing_field(c)]
        if not dropped:
            return value, []
        try:
            return value.drop(columns=dropped), sorted(dropped)
        except Exception:  # noqa: BLE001 - duplicated or odd columns: compare it whole
            return value, []
    return value, []
