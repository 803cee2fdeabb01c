"""Which distributions the user's code imported: the packages a result can depend on.

A kernel imports a great deal that no cell asked for (ipykernel, tornado, pyzmq, debugpy…), the panel
imports ipywidgets, reprotrack imports what it needs. Compared between a JupyterLab research run and a
headless replay, or a notebook and a production script, those are false "missing" packages. So the lock's
``environment.user_packages`` names only what the user's code reached:

- the roots: every module a tracked cell names in an import statement (``import sklearn.model_selection as
  ms``, ``from sklearn import model_selection``, ``importlib.import_module("x")`` with a literal name), and
  every module a cell *uses* that was imported before (a name in the cell bound to a module, or to a
  function or class of one: ``np`` from a start-up file);
- the user's own modules imported from cells (a ``.py`` beside the notebook that no distribution owns) are
  read for their imports in turn (bounded, never executed);
- each root's distribution, and what it requires (``Requires-Dist`` without extras), recursively, as far
  as it is installed: scikit-learn brings numpy, scipy, joblib, threadpoolctl.

The result depends on the code and the environment, never on what the kernel or a start-up file imported
before ``%reprotrack start`` (a module already in ``sys.modules`` is found from the code, not from the
import event). Reading the source costs one AST walk per cell (the parse is shared with other captures).
Nothing here imports a module.
"""

from __future__ import annotations

import ast
import re
import sys
import types
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from reprotrack.kernel.capture.owners import distribution_owners

#: Never a user package, whatever imports it: the tracker itself.
SELF = frozenset({"reprotrack"})
#: Distributions whose requirements are not followed: they run the notebook, not its computation. A cell
#: that imports ``IPython.display`` uses IPython, not prompt-toolkit and jedi.
NOT_FOLLOWED = frozenset({"ipython", "ipykernel", "ipywidgets", "jupyter-client", "jupyter-core", "notebook",
                          "jupyterlab", "jupyter-server", "nbformat", "nbclient"})
#: The user's own modules read for their imports, at most (a package of thousands of files is not walked).
MAX_LOCAL_MODULES = 200
#: The largest user module read for its imports, in bytes.
MAX_LOCAL_BYTES = 2_000_000
_IMPORTERS = frozenset({"import_module", "__import__"})
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def canonical(name: str) -> str:
    """PEP 503 normalised distribution name ('scikit_learn' and 'Scikit-Learn' are 'scikit-learn')."""
    return re.sub(r"[-_.]+", "-", str(name)).lower()


def cell_roots(source: str, tree: Callable[[], ast.AST | None], namespace: dict[str, Any],
               hidden: dict[str, Any] | None = None) -> set[str]:
    """The top-level modules one cell imports (``imported_names``, parsed only when the text says
    ``import``) or uses (a word of the cell bound in ``namespace`` to a module, a function or class of one,
    or an instance of such a class), names the shell put there itself (``hidden``: ``get_ipython``, ``In``…)
    left out. The words are cached per source text: a cell costs a few microseconds."""
    words, may_import = _words(source)
    found = set(imported_names(tree())) if may_import else set()
    hidden = hidden or {}
    for word in words:
        value = namespace.get(word)
        if value is not None and (word not in hidden or hidden[word] is not value):
            module = _module_of(value)
            if module:
                found.add(module.partition(".")[0])
    return found


@lru_cache(maxsize=1024)
def _words(source: str) -> tuple[frozenset[str], bool]:
    return frozenset(_WORD.findall(source)), "import" in source


def imported_names(tree: ast.AST | None) -> set[str]:
    """Top-level module names the code imports: import statements (relative ones excluded) and
    ``importlib.import_module`` / ``__import__`` called with a literal name."""
    found: set[str] = set()
    if tree is None:
        return found
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.module and not node.level:
                found.add(node.module.partition(".")[0])
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            first = node.args[0]
            if called in _IMPORTERS and isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.add(first.value.partition(".")[0])
    found.discard("")
    return found


def _module_of(value: Any) -> str | None:
    """The module a value comes from: a module itself, a function's or class's module, an instance's
    class's module (``df`` is pandas)."""
    try:
        if isinstance(value, types.ModuleType):
            return value.__name__
        if isinstance(value, (type, types.FunctionType, types.BuiltinFunctionType)):
            module = getattr(value, "__module__", None)
        else:
            module = type(value).__module__
    except Exception:  # noqa: BLE001 - a hostile object's attributes are not worth an error
        return None
    return module if isinstance(module, str) else None


def local_imports(roots: Iterable[str], modules: dict[str, Any] | None = None) -> set[str]:
    """``roots`` plus the imports of the user's own modules among them, recursively (read, not run).

    A user module is one that is imported (in ``modules``), has a ``.py`` file, and that no installed
    distribution owns."""
    modules = sys.modules if modules is None else modules
    owners = _owners()
    seen: set[str] = set()
    todo = list(roots)
    read = 0
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        if name in owners or name in sys.stdlib_module_names or read >= MAX_LOCAL_MODULES:
            continue
        for path in _sources(modules, name):
            read += 1
            if read > MAX_LOCAL_MODULES:
                break
            todo.extend(imported_names(parse_source(path)) - seen)
    return seen


def _sources(modules: dict[str, Any], top: str) -> list[Path]:
    """The ``.py`` files of the imported user module ``top`` and its imported submodules."""
    files = []
    for name, module in list(modules.items()):
        if name != top and not name.startswith(top + "."):
            continue
        path = getattr(module, "__file__", None)
        if isinstance(path, str) and path.endswith(".py"):
            files.append(Path(path))
    return sorted(files)


def parse_source(path: Path) -> ast.AST | None:
    try:
        if path.stat().st_size > MAX_LOCAL_BYTES:
            return None
        return ast.parse(path.read_bytes())
    except (OSError, SyntaxError, ValueError):
        return None


def distributions(top_level: Iterable[str]) -> list[str]:
    """Sorted canonical names of the installed distributions owning ``top_level`` modules, with what they
    require (no extras) as far as it is installed; reprotrack itself never, tooling not followed."""
    owners = _owners()
    found: set[str] = set()
    todo: list[str] = []
    for module in top_level:
        todo.extend(canonical(d) for d in owners.get(module, ()))
    while todo:
        dist = todo.pop()
        if dist in found or dist in SELF or _version(dist) is None:
            continue
        found.add(dist)
        if dist not in NOT_FOLLOWED:
            todo.extend(_requirements(dist))
    return sorted(found)


def versions(names: Iterable[str]) -> dict[str, str]:
    """Installed version of each named distribution (those not installed are left out)."""
    out = {}
    for name in names:
        version = _version(name)
        if version is not None:
            out[name] = version
    return out


def _owners() -> Mapping[str, list[str]]:
    return distribution_owners()


@lru_cache(maxsize=1024)
def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except (metadata.PackageNotFoundError, ValueError):
        return None


@lru_cache(maxsize=1024)
def _requirements(dist: str) -> tuple[str, ...]:
    """Canonical names of ``dist``'s unconditional requirements (and those conditional on the platform or
    Python version, which hold here if they are installed; ``extra ==`` ones are the user's choice)."""
    try:
        raw = metadata.requires(dist) or []
    except (metadata.PackageNotFoundError, ValueError):
        return ()
    out = []
    for requirement in raw:
        spec, _, marker = requirement.partition(";")
        if "extra" in marker:
            continue
        match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", spec)
        if match:
            out.append(canonical(match.group(1)))
    return tuple(out)


def forget_installed() -> None:
    """Drop what was learnt of the installed distributions (after a ``pip install`` in the kernel)."""
    _version.cache_clear()
    _requirements.cache_clear()
