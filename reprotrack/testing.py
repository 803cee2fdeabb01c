"""Regression tests in production code: each stage guarded against the research run's checkpoint.

```python
from reprotrack.testing import assert_matches

def test_features():
    assert_matches("research.reprotrack.lock", "features", build_features(raw), rtol=1e-9)
```

``assert_matches`` fingerprints the object (a frame, an array, a fitted estimator: learned parameters apart
from hyperparameters) and compares it with the research checkpoint of that name, with the same diagnosis as
``reprotrack check``; it raises ``AssertionError`` whose message is that diagnosis (which columns, how many rows,
which categories), so a failing test says what changed, not just that something did. Differences at precision
level within the tolerances pass. Bad input (no such lock, no such checkpoint) raises ``ReprotrackError`` with
one clear sentence. The pytest fixture ``reprotrack_research`` (``reprotrack.pytest_plugin``) binds this to the
lock given by ``--reprotrack-against`` or the ``reprotrack_against`` ini option.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from reprotrack.check import checkpoint_options, load_research
from reprotrack.core.diff.checkpoints import (
    checkpoint_differences,
    research_name,
    verdict,
    with_rule,
)
from reprotrack.core.diff import formats
from reprotrack.core.lockfile import Lock
from reprotrack.core.privacy import under
from reprotrack.core.text import escaped as clean
from reprotrack.errors import UsageError

__all__ = ["Research", "assert_matches"]


class Research:
    """A research lock loaded once, with the checkpoint options of the code under test."""

    def __init__(self, lock: str | os.PathLike[str], *, config_from: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(lock)
        self.lock: Lock = load_research(self.path)
        self.options = checkpoint_options(Path(config_from) if config_from is not None else None)

    @property
    def names(self) -> list[str]:
        return sorted(self.lock.checkpoints)

    def check(self, name: str, obj: Any, *, rtol: float | None = None, atol: float | None = None,
              order: str | None = None) -> tuple[str, list[Any]]:
        """(status, findings) of ``obj`` against checkpoint ``name`` (a production name is mapped)."""
        from reprotrack.core.diff.checkpoints import ROW_ORDERS
        from reprotrack.core.fingerprint import fingerprint

        target = research_name(self.options, name)
        if target not in self.lock.checkpoints:
            raise UsageError(f"{self.path.name} has no checkpoint {target!r}; it has: {', '.join(self.names)}")
        if order is not None and order not in ROW_ORDERS:
            raise UsageError(f"order must be one of {', '.join(ROW_ORDERS)}, not {order!r}")
        options = with_rule(self.options, target, rtol=rtol, atol=atol, order=order)
        # a lock written by an older reprotrack: both sides compared on what both formats share
        research = formats.fingerprint_for(self.lock.checkpoints[target], self.lock)
        fresh = formats.fingerprint_for(under(fingerprint(obj), self.lock.privacy), self.lock)
        findings = checkpoint_differences(research, fresh, options.rules[target], options.diff)
        return verdict(findings), findings

    def assert_matches(self, name: str, obj: Any, *, rtol: float | None = None, atol: float | None = None,
                       order: str | None = None) -> str:
        """Pass (returning ``matches`` or ``precision``) or raise ``AssertionError`` with the diagnosis."""
        __tracebackhide__ = True  # pytest shows the diagnosis, not this function
        status, findings = self.check(name, obj, rtol=rtol, atol=atol, order=order)
        if status != "differs":
            return status
        target = research_name(self.options, name)
        label = f"checkpoint {target!r}" + (f" (production name {name!r})" if target != name else "")
        lines = [f"{label} differs from the research run ({self.path.name}):"]
        for f in findings:
            mark = "error" if f.severity == "error" else "note"
            lines.append(f"  - {mark}: {f.kind}/{f.cause}: {clean(f.message)}")
        raise AssertionError("\n".join(lines))


def assert_matches(lock: str | os.PathLike[str], name: str, obj: Any, *, rtol: float | None = None,
                   atol: float | None = None, order: str | None = None) -> str:
    """Assert that ``obj`` matches research checkpoint ``name`` of ``lock`` (see the module docstring).
    ``order="ignore"``: the same rows in any order match. Returns ``matches`` or ``precision``."""
    __tracebackhide__ = True
    return Research(lock).assert_matches(name, obj, rtol=rtol, atol=atol, order=order)
