"""Performance requirements: "auc >= 0.80", recorded with the research value, checked on every later run.

A requirement is a plain dict, the lock's ``requirements[name]``: ``value`` (what the research run measured),
and at least one of ``min`` (value >= min), ``max`` (value <= max) and ``within`` (|value - research| <=
within). A production run's plain ``expect("auc", auc)`` records a ``measurement``: the value alone, which
``reprotrack check``/``run --against`` holds to the research lock's requirement of that name. ``check`` says whether a later value keeps it; ``ratchet`` raises the bar to a better value (a
higher min, a lower max; ``within`` re-centres on it). Pure: no I/O.
"""

from __future__ import annotations

import math
import re
from typing import Any

from reprotrack.errors import UsageError

BOUNDS = ("min", "max", "within")
EXPRESSION = re.compile(r"^\s*(?P<name>[^\s<>=]+)\s*(?P<op>>=|<=|within)\s*(?P<value>\S+)\s*$")


def number(value: Any, what: str) -> float:
    """A finite float from a Python or numpy scalar (a 0-d array too); anything else is a ``UsageError``."""
    try:
        if hasattr(value, "item") and not isinstance(value, (int, float)):
            value = value.item()
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError
        out = float(value)
    except (TypeError, ValueError):
        raise UsageError(f"{what} must be a number, not {type(value).__name__}") from None
    if not math.isfinite(out):
        raise UsageError(f"{what} must be a finite number, not {out}")
    return out


def make(name: str, value: Any, *, min: Any = None, max: Any = None, within: Any = None) -> dict[str, Any]:
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise UsageError("a requirement needs a name of at most 200 characters (e.g. expect('auc', auc, min=0.80))")
    bounds = {k: number(v, f"{name}: {k}") for k, v in (("min", min), ("max", max), ("within", within)) if v is not None}
    if not bounds:
        raise UsageError(f"requirement {name!r} needs min=, max= or within=")
    if "within" in bounds and bounds["within"] < 0:
        raise UsageError(f"requirement {name!r}: within must be >= 0")
    if "min" in bounds and "max" in bounds and bounds["min"] > bounds["max"]:
        raise UsageError(f"requirement {name!r}: min {bounds['min']} is above max {bounds['max']}")
    return {"value": number(value, f"{name}: the value"), **bounds}


def measurement(name: str, value: Any) -> dict[str, Any]:
    """Today's value with no bound of its own (``{"value": v}``): checked against a research requirement."""
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise UsageError("a requirement needs a name of at most 200 characters (e.g. expect('auc', auc, min=0.80))")
    return {"value": number(value, f"{name}: the value")}


def bounded(req: dict[str, Any]) -> bool:
    """Whether ``req`` holds a value to a bound (a ``measurement`` does not)."""
    return any(req.get(k) is not None for k in BOUNDS)


def parse(expression: str) -> tuple[str, str, float]:
    """``"auc >= 0.80"`` -> ("auc", "min", 0.8); ``<=`` gives "max", ``within`` gives "within"."""
    match = EXPRESSION.match(expression or "")
    if not match:
        raise UsageError(f"cannot read the requirement {expression!r}; write NAME >= VALUE, NAME <= VALUE or "
                         "NAME within VALUE")
    bound = {">=": "min", "<=": "max", "within": "within"}[match["op"]]
    try:
        value = float(match["value"])
    except ValueError:
        raise UsageError(f"{match['value']!r} in {expression!r} is not a number") from None
    return match["name"], bound, value


def describe(name: str, req: dict[str, Any]) -> str:
    parts = []
    if req.get("min") is not None:
        parts.append(f">= {req['min']:g}")
    if req.get("max") is not None:
        parts.append(f"<= {req['max']:g}")
    if req.get("within") is not None:
        parts.append(f"within {req['within']:g} of {req.get('value', 0):g}")
    return f"{name} " + " and ".join(parts) if parts else f"{name} (measured, no bound)"


def check(name: str, req: dict[str, Any], value: Any) -> tuple[bool, str]:
    """(kept, message) for a later ``value`` of requirement ``req``."""
    try:
        got = number(value, name)
    except UsageError:
        return False, f"{name} = {value!r} is not a finite number; required {describe(name, req)}"
    broken = []
    if req.get("min") is not None and got < req["min"]:
        broken.append(f"below the minimum {req['min']:g}")
    if req.get("max") is not None and got > req["max"]:
        broken.append(f"above the maximum {req['max']:g}")
    if req.get("within") is not None and abs(got - float(req.get("value", got))) > req["within"]:
        broken.append(f"more than {req['within']:g} from the research value {req.get('value'):g}")
    research = f" (research {req['value']:g})" if "value" in req else ""
    if broken:
        return False, f"{name} = {got:g} is {' and '.join(broken)}{research}"
    return True, f"{name} = {got:g} keeps {describe(name, req)}{research}"


def ratchet(req: dict[str, Any], value: Any) -> dict[str, Any] | None:
    """The requirement raised to ``value`` when it is better than the bar; None when it is not."""
    got = number(value, "the new value")
    out = dict(req)
    better = False
    if req.get("min") is not None and got > req["min"]:
        out["min"], better = got, True
    if req.get("max") is not None and got < req["max"]:
        out["max"], better = got, True
    if not better:
        return None
    out["value"] = got
    return out
