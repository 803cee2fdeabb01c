"""The package's layers hold: the pure core loads no IPython or kernel machinery, and no module imports
another in a cycle (in-function imports included). ``lint-imports`` in .ci/run checks the layer order."""

from __future__ import annotations

import subprocess
import sys

import grimp

HEAVY = ("IPython", "ipykernel", "ipywidgets", "nbclient", "nbformat", "jupyter_client", "git", "zmq")


def test_importing_the_core_loads_no_ipython_or_kernel_machinery():
    code = ("import sys, reprotrack.core, reprotrack.core.fingerprint, reprotrack.core.diff, reprotrack.core.lockfile, "
            "reprotrack.core.noise.rules, reprotrack.core.text, reprotrack.core.split_indices; "
            f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_importing_reprotrack_itself_is_light():
    """Every IPython shell of an environment with reprotrack imports it at start-up."""
    code = "import sys, reprotrack; print(sorted({m.split('.')[0] for m in sys.modules} & {'IPython', 'numpy', 'pandas'}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_module_of_the_package_imports_another_in_a_cycle():
    graph = grimp.build_graph("reprotrack", include_external_packages=False, exclude_type_checking_imports=True)
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    graph = grimp.ImportGraph()
    for a, b in (("p.a", "p.b"), ("p.b", "p.c"), ("p.c", "p.a"), ("p.c", "p.d")):
        graph.add_import(importer=a, imported=b)
    assert _cycles(graph) == [["p.a", "p.b", "p.c"]]
