"""Fingerprints of fitted estimators: the learned "coefficients" apart from the algorithm's parameters.

An estimator is anything with ``fit`` and ``get_params`` (scikit-learn and look-alikes). Its ``content`` is the
hash of its learned attributes -- public instance attributes ending in ``_`` (``coef_``, ``intercept_``,
``classes_``, ``tree_``, ``estimators_``...), plus, once fitted, the private arrays and library objects that
predictions depend on (``_fit_X``, ``_predictors``; not private scalar settings like ``_n_threads``) -- and of
the estimators nested in its parameters (Pipeline steps, ColumnTransformer transformers), so two models with equal parameters but different coefficients
differ in ``content`` and not in ``schema``. ``schema`` holds ``get_params(deep=False)`` made JSON-safe
(nested estimators as type + params) and the learned attribute names. A scikit-learn ``Tree`` is read through
its ``__getstate__()`` arrays (nodes, values), never pickled. ``approx`` samples the learned float arrays, so
a model refitted with another BLAS (coefficients equal to 1e-12) is told apart from a different model.

Durations are not learned: ``refit_time_`` and the timing keys of ``cv_results_`` (``mean_fit_time``…, see
``reprotrack.core.noise.durations``) are left out, so a search refitted on a faster machine has the same fingerprint.

Pure: no I/O, never ``repr`` of user objects (functions are named by module and qualified name).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from reprotrack.core.fingerprint import canonical as C
from reprotrack.core.fingerprint import colstats
from reprotrack.core.fingerprint.record import content_digest, empty, is_estimator
from reprotrack.core.noise.durations import is_timing_field, without_durations

MAX_LEARNED = 200
MAX_PARAM_DEPTH = 6


def learned_attributes(est: Any) -> list[tuple[str, Any]]:
    """Public fitted attributes (``name_``) in name order; properties are not read (they may compute)."""
    try:
        state = vars(est)
    except TypeError:
        return []
    names = sorted(k for k in state if k.endswith("_") and not k.startswith("_") and not k.endswith("__")
                   and not is_timing_field(k))
    return [(k, without_durations(_plain(state[k]))[0]) for k in names[:MAX_LEARNED]]


def private_state(est: Any, params: dict[str, Any]) -> list[tuple[str, Any]]:
    """Private fitted data that predictions depend on (``_fit_X`` of a k-NN, ``_predictors`` of a gradient
    boosting): arrays, lists and library objects -- not private scalars, which are settings such as
    ``_n_threads`` that vary with the machine, and not random generators."""
    try:
        state = vars(est)
    except TypeError:
        return []
    out = []
    for k in sorted(state):
        v = state[k]
        if not k.startswith("_") or k.startswith("__") or k in params:
            continue
        if isinstance(v, (np.random.Generator, np.random.RandomState)):
            continue
        if isinstance(v, (np.ndarray, list, tuple, dict)) or _library_object(v):
            out.append((k, _plain(v)))
    return out[:MAX_LEARNED]


def _library_object(v: Any) -> bool:
    return (type(v).__module__ or "").startswith("sklearn.") and not isinstance(v, type)


def _plain(v: Any) -> Any:
    """scikit-learn trees as their state dict (arrays), everything else unchanged."""
    cls = type(v)
    if cls.__name__ == "Tree" and cls.__module__.startswith("sklearn."):
        try:
            state = v.__getstate__()
            return {k: state[k] for k in sorted(state)}
        except Exception:  # noqa: BLE001
            return None
    return v


def library_state(v: Any) -> Any:
    """The data of a scikit-learn helper object that is not an estimator (tree predictors, bin mappers, KD
    trees, losses): its ``__dict__``, or what its ``__getstate__`` returns; None when it has neither."""
    if not _library_object(v):
        return None
    try:
        state = vars(v)
    except TypeError:
        try:
            state = v.__getstate__()
        except Exception:  # noqa: BLE001
            return None
    if isinstance(state, dict):
        return {k: _plain(x) for k, x in state.items()
                if not isinstance(x, (np.random.Generator, np.random.RandomState))}
    return state if isinstance(state, (tuple, list)) else None


def nested_estimators(params: dict[str, Any]) -> list[tuple[str, Any]]:
    """Estimators inside parameters: direct values, and (name, estimator, ...) tuples in lists (steps)."""
    out = []
    for key in sorted(params):
        v = params[key]
        if is_estimator(v):
            out.append((key, v))
        elif isinstance(v, (list, tuple)):
            for i, item in enumerate(v):
                if is_estimator(item):
                    out.append((f"{key}[{i}]", item))
                elif isinstance(item, tuple) and len(item) >= 2 and is_estimator(item[1]):
                    out.append((f"{key}.{colstats.label(item[0])}", item[1]))
    return out


def json_params(v: Any, depth: int = 0, array_content: Callable[[Any], str | None] | None = None) -> Any:
    """Parameters as JSON: readable diffs of hyper-parameters ("C: 1.0 -> 10.0")."""
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, float):
        return colstats.jfloat(v)
    if isinstance(v, np.generic):
        return colstats.label(v)
    if depth >= MAX_PARAM_DEPTH:
        return f"<{C.type_name(v)}>"
    if is_estimator(v):
        return {"type": C.type_name(v), "params": json_params(_params(v), depth + 1, array_content)}
    if isinstance(v, dict):
        return {str(colstats.label(k)): json_params(x, depth + 1, array_content) for k, x in list(v.items())[:50]}
    if isinstance(v, (list, tuple)):
        return [json_params(x, depth + 1, array_content) for x in v[:50]]
    if isinstance(v, np.ndarray):
        return {"type": "numpy.ndarray", "shape": list(v.shape), "content": array_content(v) if array_content else None}
    if callable(v) and hasattr(v, "__qualname__"):
        return f"{getattr(v, '__module__', '')}.{v.__qualname__}"
    return f"<{C.type_name(v)}>"


def _params(est: Any) -> dict[str, Any]:
    try:
        params = est.get_params(deep=False)
        return params if isinstance(params, dict) else {}
    except Exception:  # noqa: BLE001 - a broken get_params must not break the fingerprint
        return {}


def estimator_fingerprint(fpr: Any, est: Any) -> dict[str, Any]:
    fp = empty(est)
    params = _params(est)
    learned = learned_attributes(est)
    nested = nested_estimators(params)
    entries = (learned + private_state(est, params)) if learned else []
    entries += [(f"params.{name}", e) for name, e in nested]
    stats, digests = [], []
    for name, value in entries:
        h = fpr.nested_hash(value)
        digests.append((name, h))
        shape = getattr(value, "shape", None)
        stats.append({"name": name, "type": C.type_name(value), "hash": f"{h:016x}",
                      "shape": [int(s) for s in shape] if isinstance(shape, tuple) else None})
    schema_params = json_params(params, 0, fpr.content_of)
    fp["schema"] = {"params": schema_params, "learned": [name for name, _ in learned]}
    fp["content"] = content_digest("estimator", *(x for name, h in digests for x in (name, h)))
    if "stats" in fpr.parts:
        fp["stats"] = stats
    if "approx" in fpr.parts:
        fp["approx"] = _approx(entries, fpr.sample)
    return fp


def _approx(entries: list[tuple[str, Any]], sample: int) -> dict[str, Any] | None:
    """Float values of the learned arrays at canonical positions, ``sample`` per array at most."""
    positions, values = [], []
    for name, value in entries:
        if isinstance(value, dict):  # a tree's state: its values array is what predictions come from
            value = value.get("values")
        if isinstance(value, (float, np.floating)):
            positions.append(name)
            values.append(colstats.jfloat(value))
            continue
        if not isinstance(value, np.ndarray) or value.dtype.kind != "f" or not value.size:
            continue
        flat_pos = colstats.sample_positions(value.size, sample, salt=3)
        picked = value[np.unravel_index(flat_pos, value.shape)] if value.ndim else value.reshape(1)
        positions.extend(f"{name}[{int(p)}]" for p in flat_pos)
        values.extend(colstats.jfloat(x) for x in picked.astype(np.float64).tolist())
        if len(values) >= 4096:
            break
    if not values:
        return None
    return {"positions": positions, "columns": [{"column": 0, "name": None, "values": values, "scale": None}]}
