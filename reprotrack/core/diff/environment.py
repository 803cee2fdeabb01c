"""Environment findings: Python, package versions, platform, thread counts and result-changing variables.

Used by ``compare`` (research lock vs replay lock) and by ``reprotrack env check`` (research lock vs this
interpreter). Severity follows ``DiffOptions.env_policy``: drift the policy allows is a warning, the rest an
error. Platform and thread-count differences are warnings: they change results only at the last bits
(summation order), and when they do, the cell's own findings say so and point here. Packages that run the
notebook machinery rather than the computation (the kernel, IPython, reprotrack itself…) are warnings at most.
When a lock records ``environment.user_packages`` (the distributions the user's code imported), only those
are compared: what the kernel, the panel or reprotrack imported is no difference in results.
Pure: two dicts in, findings out.
"""

from __future__ import annotations

import re
import shlex
from typing import Any

from reprotrack.core.diff.model import ENV_POLICIES, DiffOptions, Finding

#: Distributions that run the notebook, not its computation: their drift cannot change a result.
TOOLING = frozenset("""
reprotrack ipykernel ipython jupyter-client jupyter-core tornado pyzmq traitlets comm debugpy psutil nest-asyncio
prompt-toolkit pygments matplotlib-inline decorator jedi parso pexpect ptyprocess executing asttokens stack-data
pure-eval wcwidth platformdirs ipywidgets widgetsnbextension jupyterlab-widgets nbformat nbclient fastjsonschema
jsonschema jsonschema-specifications referencing rpds-py attrs xxhash typing-extensions exceptiongroup
gitpython gitdb smmap setuptools pip wheel
""".split())
THREAD_VARIABLES = frozenset({"OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "BLIS_NUM_THREADS",
                              "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"})


def environment_differences(research_env: dict[str, Any], current_env: dict[str, Any],
                            options: DiffOptions | None = None) -> list[Finding]:
    """Findings (ids ``F1``…) for every way ``current_env`` differs from ``research_env``. Facts missing
    on one side (an older lock, thread pools not loaded yet) are not differences."""
    options = options or DiffOptions()
    research_env, current_env = research_env or {}, current_env or {}
    found: list[Finding] = []
    found += _python(research_env, current_env, options)
    found += _packages(research_env.get("packages") or {}, current_env.get("packages") or {}, options,
                       user_packages(research_env, current_env))
    found += _platform(research_env.get("platform") or {}, current_env.get("platform") or {})
    found += _threads(research_env, current_env)
    if "variables" in research_env and "variables" in current_env:  # an older lock did not record them
        found += _variables(research_env.get("variables") or {}, current_env.get("variables") or {})
    for number, finding in enumerate(found, 1):
        finding.id = f"F{number}"
    return found


def _finding(cause: str, subject: str, message: str, fix: str, severity: str, research: Any, replay: Any) -> Finding:
    return Finding("", None, None, "environment", cause, subject, message, fix, None, severity,
                   evidence={"research": research, "replay": replay})


def release(version: str) -> tuple[int, ...]:
    """The leading numeric release components of a version string ("1.26.4rc1" → (1, 26, 4))."""
    parts = []
    for piece in str(version).split("."):
        match = re.match(r"\d+", piece)
        if not match:
            break
        parts.append(int(match.group()))
        if match.end() != len(piece):
            break
    return tuple(parts)


def allowed_drift(a: str, b: str, policy: str) -> bool:
    """Whether the policy tolerates a version change from ``a`` to ``b`` (then it is only a warning)."""
    keep = ENV_POLICIES.get(policy)
    if keep is None:
        return False
    ra, rb = release(a), release(b)
    if not ra or not rb:
        return False
    return ra[:keep] == rb[:keep]


def _python(a: dict[str, Any], b: dict[str, Any], options: DiffOptions) -> list[Finding]:
    out = []
    va, vb = a.get("python"), b.get("python")
    if va and vb and va != vb:
        severity = "warning" if allowed_drift(va, vb, options.env_policy) else "error"
        out.append(_finding("python-version", "python", f"Python {va} in research, {vb} now.",
                            f"Run with Python {va} (a kernelspec of an environment built with it).", severity, va, vb))
    ia, ib = a.get("implementation"), b.get("implementation")
    if ia and ib and ia != ib:
        out.append(_finding("python-version", "implementation", f"Python implementation {ia} in research, {ib} now.",
                            f"Run with {ia}.", "error", ia, ib))
    return out


def user_packages(a: dict[str, Any], b: dict[str, Any]) -> frozenset[str] | None:
    """The distributions whose versions are compared: those the user's code imported on either side
    (``environment.user_packages``), or None (every imported one) when neither lock records the key."""
    sides = [env.get("user_packages") for env in (a, b)]
    recorded = [side for side in sides if isinstance(side, list)]
    if not recorded:
        return None
    return frozenset(_canonical(name) for side in recorded for name in side)


def _packages(a: dict[str, str], b: dict[str, str], options: DiffOptions,
              only: frozenset[str] | None = None) -> list[Finding]:
    ignored = {_canonical(p) for p in options.ignore_packages}
    now = {_canonical(k): (k, v) for k, v in b.items()}
    out = []
    for name in sorted(a):
        key = _canonical(name)
        if key in ignored or (only is not None and key not in only):
            continue
        version = a[name]
        if key not in now:
            severity = "warning" if key in TOOLING else "error"
            out.append(_finding("package-missing", name, f"{name} {version} was used in research and is not "
                                "installed (or not imported) now.", f"pip install {shlex.quote(f'{name}=={version}')}",
                                severity, version, None))
            continue
        current = now[key][1]
        if current == version:
            continue
        severity = "warning" if key in TOOLING or allowed_drift(version, current, options.env_policy) else "error"
        fix = f"pip install {shlex.quote(f'{name}=={version}')} (or pin it in the requirements)"
        out.append(_finding("package-version", name, f"{name} {version} in research, {current} now.", fix, severity,
                            version, current))
    return out


def _platform(a: dict[str, Any], b: dict[str, Any]) -> list[Finding]:
    out = []
    for key in ("system", "machine"):
        va, vb = a.get(key), b.get(key)
        if va and vb and va != vb:
            out.append(_finding("platform", key, f"Platform {key} {va} in research, {vb} now.",
                                "Expect last-bit differences in floating point; compare with tolerances (--rtol).",
                                "warning", va, vb))
    return out


def _threads(a: dict[str, Any], b: dict[str, Any]) -> list[Finding]:
    pools_a = {str(p.get("internal_api")): p for p in a.get("threadpools") or [] if isinstance(p, dict)}
    pools_b = {str(p.get("internal_api")): p for p in b.get("threadpools") or [] if isinstance(p, dict)}
    out = []
    for api in sorted(set(pools_a) & set(pools_b)):
        na, nb = pools_a[api].get("num_threads"), pools_b[api].get("num_threads")
        if na is not None and nb is not None and na != nb:
            out.append(_finding("blas-threads", api, f"{api} ran with {na} thread(s) in research, {nb} now.",
                                f"Set the thread count as in research (e.g. OMP_NUM_THREADS={na}) if results differ "
                                "in their last digits.", "warning", na, nb))
    return out


def _variables(a: dict[str, str], b: dict[str, str]) -> list[Finding]:
    out = []
    for name in sorted(set(a) | set(b)):
        va, vb = a.get(name), b.get(name)
        if va == vb:
            continue
        cause = "blas-threads" if name in THREAD_VARIABLES else "platform"
        shown_a = f"{name}={va}" if va is not None else f"{name} unset"
        shown_b = f"{name}={vb}" if vb is not None else f"{name} unset"
        fix = f"export {name}={shlex.quote(va)}" if va is not None else f"unset {name}"
        out.append(_finding(cause, name, f"{shown_a} in research, {shown_b} now.", fix, "warning", va, vb))
    return out


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", str(name)).lower()
