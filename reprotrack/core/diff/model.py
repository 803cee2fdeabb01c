"""The values the diff produces and the options it takes: ``Finding``, ``Report``, ``DiffOptions``.

A ``Finding`` is one difference between the research run and the replay, named in the diagnosis vocabulary of
DESIGN.md (``kind`` / ``cause``). A ``Report`` is the ordered list of findings plus the verdict. Both turn into
plain dicts with exactly the DESIGN keys (``to_dict``); renderers (``reprotrack.report``) never reach into the
locks. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

KINDS = ("environment", "randomness", "data", "split", "output", "execution", "drift")
CAUSES: dict[str, tuple[str, ...]] = {
    "environment": ("package-version", "package-missing", "python-version", "platform", "blas-threads"),
    "randomness": ("unseeded-randomness", "seed-changed"),
    "data": ("input-file-changed", "rows-reordered", "rows-added", "rows-removed", "schema-changed", "precision",
             "values-changed", "new-categories", "distribution-shift"),
    "split": ("split-changed",),
    "output": ("nan-or-inf", "metric-changed", "output-changed", "unexplained", "requirement-failed"),
    "execution": ("cell-error", "execution-order", "cell-missing", "cell-added", "source-changed",
                  "checkpoint-missing", "checkpoint-added"),
    # new data against the research statistics (``reprotrack.core.drift``); a dtype change is data/schema-changed
    "drift": ("distribution-shift", "new-categories", "rare-categories", "missing-column", "null-rate",
              "out-of-range"),
}
#: cause → kind (every cause belongs to exactly one kind)
#: The kind of a cause: the first kind that lists it (``distribution-shift`` and ``new-categories`` are data
#: causes of a replay; ``drift`` reports name them for new data through their own findings).
KIND_OF = {cause: kind for kind, causes in reversed(list(CAUSES.items())) for cause in causes}
#: How much version drift ``env_policy`` tolerates: the number of leading release components that must match.
ENV_POLICIES = {"exact": None, "patch": 2, "minor": 1, "major": 0}
ORDERS = ("recorded", "notebook")


@dataclass
class DiffOptions:
    """What counts as "the same". ``env_policy``: ``exact`` (any version difference is an error), ``patch``
    (patch-level drift is a warning), ``minor`` (minor and patch drift are warnings), ``major`` (every version
    drift is a warning). ``normalise``: extra ``(regex, replacement)`` rules for printed output."""

    rtol: float = 1e-7
    atol: float = 1e-12
    env_policy: str = "exact"
    ignore_packages: tuple[str, ...] = ()
    order: str = "recorded"
    normalise: tuple[tuple[str, str], ...] = ()


@dataclass
class Finding:
    id: str
    cell_index: int | None
    cell_id: str | None
    kind: str
    cause: str
    subject: str
    message: str
    fix: str = ""
    upstream_of: str | None = None
    severity: str = "error"
    #: What the renderers may show beside the message (e.g. both fingerprints of a variable, both versions
    #: of a package). Never part of ``to_dict``.
    evidence: dict[str, Any] | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "cell_index": self.cell_index, "cell_id": self.cell_id, "kind": self.kind,
            "cause": self.cause, "subject": self.subject, "message": self.message, "fix": self.fix,
            "upstream_of": self.upstream_of, "severity": self.severity,
        }


@dataclass
class Report:
    status: str
    first_divergence: dict[str, Any] | None
    findings: list[Finding] = field(default_factory=list)
    research: dict[str, Any] = field(default_factory=dict)
    replay: dict[str, Any] = field(default_factory=dict)
    #: One row per cell of the timeline (index, id, order, status in each run, worst severity): the
    #: renderers' per-cell view (junit test cases, html timeline). Not part of ``to_dict``.
    cells: list[dict[str, Any]] = field(default_factory=list, repr=False)
    execution_error: str | None = None
    #: ``reprotrack check`` only: one row per checkpoint (``name``, ``production``, ``status``:
    #: matches | precision | differs | missing | extra, ``columns``, ``findings``); None for a verify/diff.
    checkpoints: list[dict[str, Any]] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON report of DESIGN.md: ``status``, ``first_divergence``, ``findings`` (and ``checkpoints``
        for a check)."""
        out = {
            "status": self.status,
            "first_divergence": dict(self.first_divergence) if self.first_divergence else None,
            "findings": [f.to_dict() for f in self.findings],
        }
        if self.checkpoints is not None:
            out["checkpoints"] = [dict(row) for row in self.checkpoints]
        return out

    def roots(self) -> list[Finding]:
        return [f for f in self.findings if not f.upstream_of]

    def consequences(self, finding: Finding) -> list[Finding]:
        return [f for f in self.findings if f.upstream_of == finding.id]

    def finding(self, ident: str | None) -> Finding | None:
        return next((f for f in self.findings if f.id == ident), None)
