"""The diff: two locks in, findings out, in the diagnosis vocabulary of DESIGN.md.

``compare(research, replay)`` → ``Report`` (status, first divergence, findings with ``upstream_of``);
``environment_differences`` serves ``reprotrack env check``. Pure: no IPython, no I/O. The modules:
``model`` (the values), ``matching`` (which run pairs with which), ``environment``, ``cells`` and ``splits``
(what differs), ``compare`` (what explains what).
"""

from reprotrack.core.diff.compare import compare
from reprotrack.core.diff.environment import environment_differences
from reprotrack.core.diff.model import CAUSES, KINDS, DiffOptions, Finding, Report

__all__ = ["CAUSES", "KINDS", "DiffOptions", "Finding", "Report", "compare", "environment_differences"]
