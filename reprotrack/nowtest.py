"""Now-tests and the requirement ratchet: the research lock's performance promises checked in production.

``now_test(lock, {"auc": auc}, data=frame, checkpoint="features")`` checks today's metric values against the
requirements the research run recorded (``%reprotrack expect`` / ``reprotrack.expect``), and, given the data
the model scored, puts the drift report of that data alongside: a failed requirement next to the columns that
moved is the answer to "why did performance sink". ``ratchet_lock`` raises a lock's requirements to better
values (``reprotrack expect LOCK --ratchet``); it is the only writer of a research lock here, on request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reprotrack import store
from reprotrack.core import requirements
from reprotrack.core.lockfile import Lock
from reprotrack.errors import UsageError


@dataclass
class NowTest:
    ok: bool
    requirements: list[dict[str, Any]] = field(default_factory=list)
    drift: Any = None  # a DriftReport when the scored data was given

    @property
    def status(self) -> str:
        if not self.ok:
            return "requirement-failed"
        return self.drift.status if self.drift is not None else "ok"

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "ok": self.ok, "requirements": [dict(r) for r in self.requirements],
                "drift": self.drift.to_dict() if self.drift is not None else None}


def now_test(lock: Any, values: dict[str, Any], *, data: Any = None, checkpoint: str | None = None,
             bounds: dict[str, dict[str, Any]] | None = None, **thresholds: Any) -> NowTest:
    """Check ``values`` against ``lock``'s requirements (``bounds[name]`` stands in where the lock has none)."""
    research = lock if isinstance(lock, Lock) else store.read_lock(lock)
    results = []
    for name, value in values.items():
        req = research.requirements.get(name)
        if req is not None and not requirements.bounded(req):
            req = None  # a research value measured with no bound promises nothing
        if req is None and (bounds or {}).get(name):
            req = {"value": requirements.number(value, name), **bounds[name]}
        if req is None:
            raise UsageError(f"the research lock has no requirement {name!r}; record one with "
                             f"%reprotrack expect {name} >= VALUE, or pass min=/max=/within=")
        kept, message = requirements.check(name, req, value)
        results.append({"name": name, "value": value if isinstance(value, (int, float)) else str(value),
                        "ok": kept, "message": message, "requirement": dict(req)})
    report = None
    if data is not None:
        if not checkpoint:
            raise UsageError("a now-test with data needs the checkpoint it is compared with (checkpoint=...)")
        from reprotrack.drift_check import drift

        report = drift(lock, checkpoint, data, **thresholds)
        report.requirements = results
    return NowTest(ok=all(r["ok"] for r in results), requirements=results, drift=report)


def requirement_lines(path: Any) -> list[str]:
    lock = store.read_lock(path)
    if not lock.requirements:
        return ["reprotrack: the lock records no requirement (%reprotrack expect NAME >= VALUE records one)"]
    return [f"{requirements.describe(name, req)} (research {req.get('value'):g})"
            for name, req in sorted(lock.requirements.items())]


def ratchet_lock(path: Any, *, source: Any = None, values: list[str] | None = None) -> list[str]:
    """Raise ``path``'s requirements to the better values of ``source`` (a lock) and ``values``
    (``NAME=VALUE``); write the lock atomically when one improved. Returns what changed, one line each."""
    lock = store.read_lock(path)
    new: dict[str, Any] = {}
    if source is not None:
        new.update({k: v.get("value") for k, v in store.read_lock(source).requirements.items()})
    for item in values or []:
        name, sep, text = item.partition("=")
        if not sep or not name:
            raise UsageError(f"--set {item!r}: expected NAME=VALUE")
        try:
            new[name] = float(text)
        except ValueError:
            raise UsageError(f"--set {item!r}: {text!r} is not a number") from None
    if not new:
        raise UsageError("nothing to ratchet to: give --from LOCK or --set NAME=VALUE")
    unknown = sorted(set(new) - set(lock.requirements))
    if unknown and not source:
        raise UsageError(f"the lock has no requirement {', '.join(map(repr, unknown))}")
    changed = []
    for name, value in sorted(new.items()):
        req = lock.requirements.get(name)
        if req is None:
            continue
        raised = requirements.ratchet(req, value)
        if raised is not None:
            lock.requirements[name] = raised
            changed.append(f"{requirements.describe(name, req)} -> {requirements.describe(name, raised)}")
    if changed:
        store.write_lock(path, lock)
    return changed
