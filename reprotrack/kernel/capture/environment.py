"""The environment a run happened in: Python, platform, the distributions actually imported, BLAS/OpenMP
thread pools, and an allowlist of environment variables known to change results.

Nothing else from ``os.environ`` is ever read into a lock: variables hold tokens and passwords.

Which distribution owns which module (``importlib.metadata.packages_distributions()``) reads every installed
distribution's file list: seconds in a large environment. It is computed once per process, on a background
thread from the session's start, and kept until a ``sys.path`` folder changes (a ``pip install`` in a cell
adds a ``.dist-info`` folder, which moves the folder's modification time); every save and every replayed cell
that imported something then costs a dictionary lookup per module.
"""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata
from typing import TYPE_CHECKING, Any

from reprotrack.kernel.capture import Capture, userpackages
from reprotrack.kernel.capture.owners import distribution_owners, warm_up
from reprotrack.kernel.capture.owners import version as installed_version

if TYPE_CHECKING:  # pragma: no cover
    from reprotrack.core.lockfile import Lock
    from reprotrack.kernel.context import CellContext
    from reprotrack.kernel.session import Session

#: Environment variables that change numerical results or randomness. Only these are recorded.
RESULT_VARIABLES = (
    "PYTHONHASHSEED",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "MKL_CBWR",
    "OPENBLAS_CORETYPE",
    "CUDA_VISIBLE_DEVICES",
    "CUBLAS_WORKSPACE_CONFIG",
    "TF_DETERMINISTIC_OPS",
    "TF_ENABLE_ONEDNN_OPTS",
    "TZ",
    "LC_ALL",
    "LC_NUMERIC",
    "LANG",
)


def python_facts() -> dict[str, str]:
    return {"python": platform.python_version(), "implementation": platform.python_implementation()}


def platform_facts() -> dict[str, str]:
    return {"system": platform.system(), "machine": platform.machine(), "release": platform.release()}


#: Distributions the shell imports for itself, when it happens to need them: IPython's traceback formatter
#: (stack_data and its helpers, imported at the first exception shown) and its completer (jedi, parso, at
#: the first completion request). Whether they are imported says how a run went, not what it computed: a
#: research run with one traceback would otherwise differ from a clean replay by four "missing" packages.
SHELL_TOOLING = frozenset({"stack-data", "executing", "asttokens", "pure-eval", "jedi", "parso"})


def imported_distributions(modules: dict[str, Any] | None = None) -> dict[str, str]:
    """Distribution name → version for every distribution one of whose top-level modules is imported
    (the shell's own lazily imported helpers, ``SHELL_TOOLING``, left out)."""
    modules = sys.modules if modules is None else modules
    top_level = {name.partition(".")[0] for name in list(modules)}
    owners = distribution_owners()
    found: dict[str, str] = {}
    for module in sorted(top_level):
        for dist_name in owners.get(module, ()):
            if dist_name in found:
                continue
            if _canonical(dist_name) in SHELL_TOOLING:
                continue
            try:
                found[_canonical(dist_name)] = installed_version(dist_name)
            except metadata.PackageNotFoundError:
                continue
    return dict(sorted(found.items()))


def _canonical(name: str) -> str:
    """PEP 503 normalised distribution name, so 'scikit_learn' and 'scikit-learn' are one package."""
    import re

    return re.sub(r"[-_.]+", "-", name).lower()


def threadpools() -> list[dict[str, Any]]:
    """BLAS/OpenMP libraries loaded in this process and their thread counts (threadpoolctl ships with sklearn)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    pools = []
    for info in threadpool_info():
        pools.append(
            {
                "user_api": info.get("user_api"),
                "internal_api": info.get("internal_api"),
                "version": info.get("version"),
                "num_threads": info.get("num_threads"),
                "threading_layer": info.get("threading_layer"),
                "architecture": info.get("architecture"),
            }
        )
    pools.sort(key=lambda p: (str(p["internal_api"]), str(p["version"])))
    return pools


def result_variables(environ: dict[str, str] | None = None) -> dict[str, str]:
    environ = os.environ if environ is None else environ
    return {name: environ[name] for name in RESULT_VARIABLES if name in environ}


def environment_facts(packages: dict[str, str] | None = None) -> dict[str, Any]:
    """The environment now; ``packages``: ``imported_distributions()`` when the caller has just computed it."""
    facts: dict[str, Any] = python_facts()
    facts["platform"] = platform_facts()
    facts["packages"] = imported_distributions() if packages is None else packages
    facts["threadpools"] = threadpools()
    facts["variables"] = result_variables()
    return facts


class EnvironmentCapture(Capture):
    """The environment at save, and the top-level modules the tracked cells imported or used on the way
    (``userpackages``: what ``environment.user_packages`` is made of)."""

    name = "environment"

    def __init__(self) -> None:
        self.roots: set[str] = set()

    def after_cell(self, ctx: CellContext) -> None:
        hidden = getattr(ctx.shell, "user_ns_hidden", None)
        self.roots |= userpackages.cell_roots(ctx.source, lambda: ctx.tree, ctx.user_ns, hidden)

    def install(self, session: Session) -> None:
        warm_up()

    def on_save(self, lock: Lock) -> None:
        facts = environment_facts()
        roots = set(self.roots)
        if not lock.cells:  # a script (``reprotrack.start()`` with no shell): its own source says what it uses
            roots |= _script_imports()
        user = userpackages.distributions(userpackages.local_imports(roots - {"__main__"}))
        # what the user's code reached is recorded with its installed version even when nothing imported
        # it in this process yet: installed-but-not-imported is not "missing" on the other side
        facts["packages"] = dict(sorted({**userpackages.versions(user), **facts["packages"]}.items()))
        facts["user_packages"] = user
        lock.environment = facts
        lock.run.setdefault("executable", sys.executable)


def _script_imports() -> set[str]:
    path = getattr(sys.modules.get("__main__"), "__file__", None)
    if not isinstance(path, str) or not path.endswith(".py"):
        return set()
    from pathlib import Path

    return userpackages.imported_names(userpackages.parse_source(Path(path)))
