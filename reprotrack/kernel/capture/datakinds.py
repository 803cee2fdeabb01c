"""Which values are data: what a cell's names may hold that reprotrack fingerprints, and why not otherwise.

Data is: pandas DataFrame/Series/Index/extension arrays, numpy arrays and scalars, fitted estimators
(scikit-learn style: ``fit``, ``get_params`` and learned ``attr_`` attributes), scalars (strings and bytes
up to ``MAX_SCALAR_BYTES``), lists/tuples/dicts/sets of those (subclasses too: a scikit-learn ``Bunch``, a
statsmodels ``Dataset``, named tuples) up to ``MAX_ITEMS`` items in all and ``MAX_NESTING`` levels, and plain
objects whose public attributes (at most ``MAX_ATTRIBUTES``) are all data, at least one an array or frame.
Containers are fingerprinted by their members too (``reprotrack.core.fingerprint.members``), so the diff
names the member that changed (``digits.target: 17 row(s) removed``). A name the cell assigned that holds
such a container or object but cannot be fingerprinted (too many items, too deep, a member that is not
data) gets a note in the lock saying which and why. Dask and Spark
frames are data too, but lazy: they are fingerprinted after a cell only with ``%reprotrack start
--distributed`` (``_distributed``); otherwise nothing is computed and they are named as left to checkpoints. Modules,
functions, classes, IPython's own names (``_``, ``_i3``, ``In``, ``Out``, ``exit``…) and every name
starting with ``_`` are not. A name deleted by the cell (or rebound to something that is not data) after it
held data is recorded as ``DELETED``/the type-only fingerprint, so a later diff sees it go.

Not data, though they look like it: clock readings (``start = time.perf_counter()``, ``deadline = start + 60``,
``elapsed = time.time() - start``: the names ``names.clocks`` finds) are never recorded, and a dict or frame
is fingerprinted without its timing keys/columns (``reprotrack.core.noise.durations``; named under the ignored ``run``
key): two honest runs never take equally long.
"""

from __future__ import annotations

import datetime as dt
import decimal
import fractions
import sys
import types
from typing import Any

from reprotrack.core.attributes import MAX_ATTRIBUTES, public_attributes
from reprotrack.core.snapshot import shallow_nbytes
from reprotrack.core.text import exception_text

MAX_ITEMS = 10_000
MAX_NESTING = 3
MAX_SCALAR_BYTES = 1 << 20
#: Names IPython puts into the user namespace (besides those starting with ``_``).
IPYTHON_NAMES = frozenset({"In", "Out", "exit", "quit", "get_ipython"})
IMMUTABLE_SCALARS = (bool, int, float, complex, str, bytes)
_OTHER_SCALARS = (dt.date, dt.time, dt.timedelta, decimal.Decimal, fractions.Fraction)
_CONTAINERS = (list, tuple, dict, set, frozenset)


def is_user_name(name: str) -> bool:
    return not name.startswith("_") and name not in IPYTHON_NAMES


def data_kind(obj: Any, *, attributes: bool = True) -> str | None:
    """``frame``, ``array``, ``estimator``, ``scalar`` or ``container`` when ``obj`` is data, else None.
    ``attributes=False``: a plain object holding arrays is not data (inside containers and other objects:
    object graphs are not walked)."""
    cls = type(obj)
    if cls in IMMUTABLE_SCALARS:
        return "scalar" if cls not in (str, bytes) or len(obj) <= MAX_SCALAR_BYTES else None
    if cls in _CONTAINERS:
        return "container" if container_problem(obj) is None else None
    if isinstance(obj, (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType, types.MethodType)):
        return None
    module = getattr(cls, "__module__", "") or ""
    if module.startswith("pandas"):
        pd = sys.modules.get("pandas")
        if pd is not None and isinstance(obj, (pd.DataFrame, pd.Series, pd.Index, pd.api.extensions.ExtensionArray)):
            return "frame"
        return None
    if module.startswith("numpy"):
        np = sys.modules.get("numpy")
        if np is not None:
            if isinstance(obj, np.ndarray):
                return "array"
            if isinstance(obj, np.generic):
                return "scalar"
        return None
    if module.startswith(("dask", "pyspark")):  # lazy frames: recognised by type name, never computed here
        from reprotrack.core.fingerprint.distributed import engine_of

        return "distributed" if engine_of(obj) is not None else None
    if isinstance(obj, _OTHER_SCALARS):
        return "scalar"
    if isinstance(obj, _CONTAINERS):  # Bunch, Dataset, OrderedDict, named tuples
        return "container" if container_problem(obj) is None else None
    if _is_fitted_estimator(obj):
        return "estimator"
    attrs = data_attributes(obj) if attributes else None
    if attrs is not None and container_problem(attrs) is None:
        return "container"
    return None


def container_problem(obj: Any, budget: list[int] | None = None, depth: int = 0, path: str = "") -> str | None:
    """Why a container is not data (None when it is): more than ``MAX_ITEMS`` items in all, nested deeper
    than ``MAX_NESTING``, or an item that is not data (named by its path)."""
    budget = [MAX_ITEMS] if budget is None else budget
    budget[0] -= len(obj)
    if budget[0] < 0:
        return f"more than {MAX_ITEMS} items"
    if depth > MAX_NESTING:
        return f"nested more than {MAX_NESTING} levels deep (at {path})"
    if isinstance(obj, dict):
        items = [(f"[{type(k).__name__} key]", k) for k in obj.keys()] + [(_item_path(k), v) for k, v in obj.items()]
    else:
        items = [(f"[{i}]", v) for i, v in enumerate(obj)]
    for where, item in items:
        cls = type(item)
        if cls in IMMUTABLE_SCALARS or item is None:
            continue
        if isinstance(item, _CONTAINERS):
            problem = container_problem(item, budget, depth + 1, path + where)
            if problem:
                return problem
        elif data_kind(item, attributes=False) in (None, "distributed"):
            return f"{path + where} is a {cls.__module__}.{cls.__qualname__}, not data"
    return None


def _holds_data(obj: Any, depth: int = 0) -> bool:
    """Whether an array, a frame or a fitted estimator is among the first items (attributes) of ``obj``."""
    if depth > MAX_NESTING:
        return False
    if not isinstance(obj, _CONTAINERS):
        obj = data_attributes(obj) or {}
    values = obj.values() if isinstance(obj, dict) else obj
    for n, item in enumerate(values):
        if n >= 1000:
            return False
        if isinstance(item, _CONTAINERS):
            if _holds_data(item, depth + 1):
                return True
        elif data_kind(item, attributes=False) in ("frame", "array", "estimator"):
            return True
    return False


def _item_path(key: Any) -> str:
    return f".{key}" if isinstance(key, str) and key.isidentifier() else f"[{key!r}]"[:60]


def data_attributes(obj: Any) -> dict[str, Any] | None:
    """The public attributes of a plain object that holds an array or a frame (``SimpleNamespace``, a
    dataclass, a loader's result object), or None. Whether they are all data is ``container_problem``'s."""
    public = public_attributes(obj, MAX_ATTRIBUTES)
    if public is None:
        return None
    return public if any(data_kind(v, attributes=False) in ("frame", "array") for v in public.values()) else None


def why_not_data(obj: Any) -> str | None:
    """For a name the cell assigned: why a container or data-holding object is not fingerprinted (None when
    it is not one, or is data)."""
    try:
        if isinstance(obj, _CONTAINERS):
            problem = container_problem(obj)
        else:
            attrs = data_attributes(obj)
            problem = container_problem(attrs) if attrs is not None else None
    except Exception as exc:  # noqa: BLE001 - a hostile container
        problem = exception_text(exc, 80)
    if not problem or problem.endswith(", not data") and not _holds_data(obj):
        return None  # a list of plot lines, of unfitted estimators: nothing that looks like data is lost
    cls = type(obj)
    return f"a {cls.__module__}.{cls.__qualname__} whose {problem}" if problem.startswith((".", "[")) \
        else f"a {cls.__module__}.{cls.__qualname__} with {problem}"


def _is_fitted_estimator(obj: Any) -> bool:
    cls = type(obj)
    try:
        if not (callable(getattr(cls, "fit", None)) and callable(getattr(cls, "get_params", None))):
            return False
        return any(k.endswith("_") and not k.startswith("_") for k in vars(obj))
    except Exception:  # noqa: BLE001 - no or a hostile __dict__: not something we can fingerprint
        return False


def shallow_bytes(obj: Any) -> int:
    """Size of the buffers of a frame or array (object columns count their pointers only): cheap."""
    if type(obj).__module__.startswith("pandas"):
        nbytes = shallow_nbytes(obj)  # memory_usage() builds a Series per call: ~0.5 ms on a small frame
        if nbytes is not None:
            return nbytes
    try:
        nbytes = getattr(obj, "nbytes", None)
        if isinstance(nbytes, int):
            return nbytes
        usage = getattr(obj, "memory_usage", None)
        if callable(usage):
            return int(usage(index=True, deep=False).sum())
    except Exception:  # noqa: BLE001 - a hostile object: treat as small, the fingerprint is bounded anyway
        return 0
    if isinstance(obj, _CONTAINERS):
        return sum(shallow_bytes(v) for v in (obj.values() if isinstance(obj, dict) else obj))
    attrs = data_attributes(obj)
    return sum(shallow_bytes(v) for v in attrs.values()) if attrs is not None else 0


def globals_of_called(called: frozenset[str], ns: dict[str, Any]) -> set[str]:
    """Global names that functions defined in the notebook (and the notebook functions they call, three
    levels deep) read or rebind: a called ``clean()`` may change ``df`` in place or rebind it."""
    found: set[str] = set()
    todo = [(ns.get(name), 0) for name in called]
    visited: set[int] = set()
    while todo:
        func, depth = todo.pop()
        if not isinstance(func, types.FunctionType) or func.__globals__ is not ns or id(func) in visited:
            continue
        visited.add(id(func))
        for name in _code_names(func.__code__):
            if name in ns:
                found.add(name)
                if depth < 3:
                    todo.append((ns[name], depth + 1))
    return {n for n in found if is_user_name(n) and data_kind(ns[n]) is not None}


_CODE_NAMES: dict[Any, frozenset[str]] = {}


def _code_names(code: types.CodeType) -> frozenset[str]:
    names = _CODE_NAMES.get(code)
    if names is None:
        collected = set(code.co_names)
        for const in code.co_consts:
            if isinstance(const, types.CodeType):
                collected |= _code_names(const)
        names = frozenset(collected)
        if len(_CODE_NAMES) > 4096:
            _CODE_NAMES.clear()
        _CODE_NAMES[code] = names
    return names


def np_generic() -> type:
    np = sys.modules.get("numpy")
    return np.generic if np is not None else IMMUTABLE_SCALARS[0]


def distributed_text(infos: list[Any]) -> str:
    """What happened to Dask/Spark frames (``run.distributed`` of cell records), for the status line and
    the panel: how many were fingerprinted and how long that took, or how many were left to checkpoints."""
    done = sum(len(i.get("fingerprinted", ())) for i in infos if i)
    seconds = sum(i.get("seconds", 0.0) for i in infos if i)
    skipped = sum(len(i.get("skipped", ())) for i in infos if i)
    parts = []
    if done:
        parts.append(f"distributed data: {done} frame(s) fingerprinted in {seconds:.1f} s")
    if skipped:
        parts.append(f"{skipped} distributed object(s) left to %reprotrack checkpoint")
    return "; ".join(parts)
