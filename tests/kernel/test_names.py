"""The names a cell may have created, changed or deleted, read from its AST (pure, no shell)."""

from __future__ import annotations

import ast

import pytest

from reprotrack.kernel.capture.names import EMPTY, cell_names, names_of_source


def names(source: str):
    return cell_names(ast.parse(source))


@pytest.mark.parametrize(
    "source, assigned",
    [
        ("x = 1", {"x"}),
        ("a, (b, *c) = f()", {"a", "b", "c"}),
        ("a = b = 2", {"a", "b"}),
        ("n += 1", {"n"}),
        ("t: int = 3\nu: int", {"t"}),
        ("if (w := g()) > 1:\n    pass", {"w"}),
        ("for i, j in pairs:\n    k = i", {"i", "j", "k"}),
        ("with open(p) as fh, ctx() as (a, b):\n    pass", {"fh", "a", "b"}),
        ("try:\n    pass\nexcept ValueError as err:\n    pass", {"err"}),
        ("def f():\n    inner = 1\nclass K:\n    attr = 2", {"f", "K"}),
        ("match v:\n    case [first, *rest]:\n        pass\n    case {'k': kv, **others}:\n        pass", {"first", "rest", "kv", "others", }),
        ("if flag:\n    x = 1\nelse:\n    y = 2\nwhile cond:\n    z = 3", {"x", "y", "z"}),
    ],
)
def test_assigned_names(source, assigned):
    assert names(source).assigned == frozenset(assigned)


def test_item_and_attribute_assignment_mutates_the_root_name():
    n = names('df["c"] = 1\ndf2.loc[m, "x"] = 2\nobj.attr = 3\nd[k][j] = 4\narr[0] += 1\ndel e[1], o.a')
    assert n.mutated == {"df", "df2", "obj", "d", "arr", "e", "o"}
    assert n.assigned == frozenset()


def test_inplace_true_is_certain_other_methods_possible_read_only_methods_neither():
    n = names("df.fillna(0, inplace=True)\narr.sort()\nlst.append(y)\ntbl.head()\nm.predict(X)\nser.str.upper()")
    assert n.mutated == {"df"}
    assert n.maybe == {"arr", "lst", "y"}  # y: passed to a call that may change it
    assert not {"tbl", "m", "X", "ser"} & (n.mutated | n.maybe)


def test_inplace_on_a_column_mutates_the_frame():
    assert names('df["a"].fillna(0, inplace=True)').mutated == {"df"}


def test_passed_arguments_unless_the_callee_reads_only():
    n = names("process(a, *b, key=c)\nprint(d)\nlen(e)\nmodel.fit(X, y)\nshuffle(f)\nscore = accuracy_score(g, h)")
    assert n.maybe == {"a", "b", "c", "model", "f"}
    assert n.called == {"process", "print", "len", "shuffle", "accuracy_score"}


def test_chained_calls_on_a_temporary_are_not_the_names():
    n = names("out = df.fillna(0).sort_values('a').head()")
    assert n.assigned == {"out"} and n.maybe == frozenset() and n.mutated == frozenset()


def test_names_local_to_functions_lambdas_and_comprehensions_are_ignored():
    n = names("def f(a=default(v)):\n    x = 1\n    lst.append(x)\n"
              "g = lambda q: q.sort()\n"
              "r = [i.upper() for i in items if keep(i)]\n"
              "s = {k: v2 for k, v2 in d.items()}")
    assert n.assigned == {"f", "g", "r", "s"}
    assert "lst" not in n.maybe and "x" not in n.assigned  # inside a function body
    assert "v" in n.maybe  # a default argument is evaluated in the cell
    assert not {"i", "q", "k", "v2"} & (n.assigned | n.maybe | n.mutated)


def test_walrus_in_a_comprehension_binds_in_the_cell_and_outer_receivers_count():
    n = names("[last := x for x in range(3) if acc.append(x) is None]")
    assert "last" in n.assigned and "acc" in n.maybe and "x" not in n.assigned


def test_deleted_names():
    n = names("del a, (b, c)\ndel d[0]")
    assert n.deleted == {"a", "b", "c"} and n.mutated == {"d"}


def test_imports_are_not_data_and_star_imports_are_opaque():
    n = names("import numpy as np\nfrom os import path as p")
    assert n == EMPTY
    assert names("from math import *").opaque


@pytest.mark.parametrize("source", ["exec('x = 1')", "globals()['y'] = 2", "get_ipython().run_line_magic('run', 'x.py')",
                                    "get_ipython().run_cell_magic('capture', 'out', 'print(1)')", "setattr(o, 'a', 1)"])
def test_namespace_changes_the_ast_cannot_show_make_the_cell_opaque(source):
    assert names(source).opaque


def test_plain_cells_are_not_opaque():
    assert not names("x = f(1)\ny = x + 2").opaque


def test_names_of_source_is_cached_and_none_when_it_does_not_parse():
    assert names_of_source("x = 1") is names_of_source("x = 1")
    assert names_of_source("%time x = 1") is None
    assert cell_names(None) == EMPTY


def test_global_declarations_show_through_the_called_function():
    n = names("def bump():\n    global counter\n    counter += 1\nbump()")
    assert "bump" in n.called and "bump" in n.assigned


def test_numpy_out_argument_is_a_change_and_plots_read_only():
    n = names("np.log(a, out=b)\nsns.histplot(df)\nplt.scatter(x, y)\nnp.sort(c)\nc.sort()")
    assert n.mutated == {"b"} and n.maybe == {"c", "np", "sns", "plt"}  # modules are dropped later: not data
