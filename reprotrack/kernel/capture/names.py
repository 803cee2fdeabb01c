"""Which top-level names a cell may have created, changed or deleted, read from its AST alone.

The data capture fingerprints only these names after a cell (never the whole namespace), so this is where
precision and cost are traded. The rules, from certain to possible:

* ``assigned``: names the cell binds at top level: ``=``, ``+=``, annotated and walrus assignments, ``for``
  and ``with … as`` targets, ``except … as``, ``match`` captures, ``def``/``class`` names. Imports are
  skipped (modules and library callables are not data); a star import makes the cell ``opaque``.
* ``mutated``: names whose object the cell certainly changes in place: targets of item and attribute
  assignment or deletion (``df["c"] = …``, ``df.loc[m, "c"] = …``, ``obj.attr = …``, ``del d[k]``), and
  receivers of a method call with a literal ``inplace=True``.
* ``maybe``: names whose object the cell *may* change: receivers of any other method call
  (``lst.append(…)``, ``arr.sort()``, ``model.fit(…)``) and names passed as arguments to a call (a
  function may change its argument in place). Calls known not to change anything (``print``, ``len``,
  ``df.head()``, ``df.describe()``, ``model.predict(X)``…) are left out: the lists below are for methods of
  pandas, numpy, scikit-learn and builtins whose names say they read only. An argument counts by its root
  name: ``shuffle(df["x"].values)`` may change ``df``. Everything unknown is kept:
  correctness first. ``out=arr`` (numpy) always counts as a change of ``arr``. The data capture confirms a ``maybe`` name by comparing its content hash with the
  last one recorded, so a false ``maybe`` costs one content hash, never a wrong record.
* ``deleted``: names removed by ``del name``.
* ``called``: plain names the cell calls; a function defined in the notebook may read or rebind
  globals (``global x``), which the data capture follows through the function's code.
* ``clocks``: assigned names that hold clock readings (``start = time.perf_counter()``, ``elapsed = … - start``):
  durations differ between any two runs and are not data (``clock_names``).
* ``opaque``: the namespace may change in ways the AST does not show (star imports, ``exec``/``eval``,
  ``globals()``/``vars()``, magics such as ``%run`` or ``%%capture out``); the data capture then compares
  the namespace before and after the cell by identity.

Only names bound at the top level count: names bound inside function and class bodies, lambdas and
comprehensions are local to them (a walrus inside a comprehension binds in the cell, and is counted).
Pure: no IPython, no namespace, no I/O.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import lru_cache

#: Methods that read their receiver and arguments without changing them (unless ``inplace=True``).
READ_ONLY_METHODS = frozenset("""
    head tail describe info copy mean median mode sum prod min max std var sem count nunique unique value_counts
    groupby agg aggregate apply applymap map transform pipe plot hist boxplot to_csv to_numpy to_dict to_list
    tolist to_json to_parquet to_pickle to_excel to_feather to_frame to_string to_markdown to_latex to_records
    isna isnull notna notnull any all astype corr corrwith cov merge join pivot pivot_table melt explode stack
    unstack sample predict predict_proba predict_log_proba decision_function score score_samples
    get_params get_feature_names_out reshape ravel flatten dot items keys values get iterrows itertuples equals
    round abs cumsum cumprod cummax cummin diff shift pct_change rolling expanding ewm resample nlargest
    nsmallest idxmax idxmin argmax argmin argsort quantile memory_usage select_dtypes filter reindex duplicated
    isin between format startswith endswith split rsplit strip lower upper encode decode find replace fillna
    dropna drop rename sort_values sort_index reset_index set_index drop_duplicates clip where mask interpolate
    query eval assign squeeze nonzero searchsorted view take compress repeat transpose swapaxes all_equal
    assert_frame_equal assert_series_equal
""".split())
#: Callables that do not change their arguments (they may change their receiver: ``model.fit(X, y)``).
ARGS_READ_ONLY = READ_ONLY_METHODS | frozenset("""
    print len repr str bytes int float bool complex type isinstance issubclass id hash sorted reversed sum
    min max abs round list tuple dict set frozenset enumerate zip range iter next format any all getattr
    hasattr callable display vars dir help divmod pow ord chr hex oct bin
    fit partial_fit fit_transform fit_predict fit_resample concat array asarray zeros_like ones_like
    empty_like full_like DataFrame Series Index train_test_split cross_val_score cross_validate
    cross_val_predict allclose array_equal isclose where concatenate stack vstack hstack open
    log log1p log2 log10 exp expm1 sqrt square sin cos tan floor ceil isnan isfinite isinf nanmean nanstd
    nanmin nanmax nansum percentile histogram bincount corrcoef matmul outer einsum unique sort
    scatter bar barh imshow heatmap histplot lineplot scatterplot pairplot displot countplot barplot
    violinplot regplot lmplot catplot relplot kdeplot boxenplot stripplot swarmplot jointplot
""".split())
#: Calls that can change the namespace in ways an AST cannot show.
_OPAQUE_CALLS = frozenset({"exec", "eval", "globals", "vars", "locals", "execfile", "run_line_magic",
                           "run_cell_magic", "__import__", "setattr", "delattr"})
_METRIC_SUFFIXES = ("_score", "_error", "_loss")
_READER_PREFIXES = ("read_", "load")


@dataclass(frozen=True)
class CellNames:
    assigned: frozenset[str] = frozenset()
    mutated: frozenset[str] = frozenset()
    maybe: frozenset[str] = frozenset()
    deleted: frozenset[str] = frozenset()
    called: frozenset[str] = frozenset()
    opaque: bool = False
    clocks: frozenset[str] = frozenset()

    @property
    def certain(self) -> frozenset[str]:
        """Names certainly (re)bound or changed by the cell."""
        return self.assigned | self.mutated


EMPTY = CellNames()


def cell_names(tree: ast.AST | None) -> CellNames:
    """The names a cell (its parsed, IPython-transformed module) may have created, changed or deleted."""
    if tree is None:
        return EMPTY
    v = _Visitor()
    v.visit(tree)
    assigned = frozenset(v.assigned)
    mutated = frozenset(v.mutated - assigned)
    maybe = frozenset(v.maybe - assigned - mutated)
    return CellNames(assigned=assigned, mutated=mutated, maybe=maybe, deleted=frozenset(v.deleted - assigned),
                     called=frozenset(v.called), opaque=v.opaque, clocks=clock_names(tree) & assigned)


def clock_names(tree: ast.AST) -> frozenset[str]:
    """Names the cell binds to clock readings and arithmetic on them: ``start = time.perf_counter()``,
    ``deadline = start + 0.3``, ``elapsed = round(time.time() - start, 2)``, ``rate = n / elapsed``. Only
    plain arithmetic counts: ``score = train(deadline - time.time())`` is a result, not a reading."""
    clocks: set[str] = set()
    statements = [n for n in _walk_cell(tree) if isinstance(n, (ast.Assign, ast.AugAssign, ast.AnnAssign))]
    for _ in range(2):  # a loop may use a reading before the statement that binds it
        for node in statements:
            if node.value is None or not _reads_clock(node.value, clocks):
                continue
            for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                if isinstance(target, ast.Name):
                    clocks.add(target.id)
    return frozenset(clocks)


def _walk_cell(tree: ast.AST):
    """Every node of the cell's own scope (not inside function, class or lambda bodies)."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                todo.append(child)


def _reads_clock(node: ast.AST, clocks: set[str]) -> bool:
    """Arithmetic over constants and names with at least one clock call or clock name in it."""
    found = False
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            if _is_clock_call(sub):
                found = True
            elif not (isinstance(sub.func, ast.Name) and sub.func.id in _CLOCK_ARITHMETIC):
                return False
        elif isinstance(sub, ast.Name):
            found = found or sub.id in clocks
        elif not isinstance(sub, _ARITHMETIC_NODES):
            return False
    return found


def _is_clock_call(call: ast.Call) -> bool:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id in _CLOCK_FUNCTIONS or (func.id == "time" and not call.args and not call.keywords)
    if isinstance(func, ast.Attribute):
        owner = func.value.attr if isinstance(func.value, ast.Attribute) else getattr(func.value, "id", None)
        if func.attr in _CLOCK_FUNCTIONS or func.attr == "time":
            return owner in ("time", "timeit")
        return func.attr in ("now", "utcnow", "today") and owner in ("datetime", "date", "Timestamp")
    return False


_CLOCK_FUNCTIONS = frozenset({"perf_counter", "perf_counter_ns", "monotonic", "monotonic_ns", "process_time",
                              "process_time_ns", "thread_time", "thread_time_ns", "time_ns", "default_timer"})
_CLOCK_ARITHMETIC = frozenset({"round", "float", "int", "abs", "min", "max", "len"})
_ARITHMETIC_NODES = (ast.BinOp, ast.UnaryOp, ast.Constant, ast.Attribute, ast.operator, ast.unaryop, ast.Load,
                     ast.keyword, ast.Tuple)


@lru_cache(maxsize=256)
def names_of_source(code: str) -> CellNames | None:
    """``cell_names`` of plain Python source, cached (cells are often re-run); None if it does not parse."""
    try:
        return cell_names(ast.parse(code))
    except (SyntaxError, ValueError):
        return None


def root_name(node: ast.AST) -> str | None:
    """``df`` for ``df``, ``df["a"]``, ``df.loc[m, "a"]``, ``df.a.b``; None when the root is not a name."""
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Starred)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _callee_name(func: ast.AST) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _args_read_only(name: str | None) -> bool:
    return name is not None and (name in ARGS_READ_ONLY or name.endswith(_METRIC_SUFFIXES)
                                 or name.startswith(_READER_PREFIXES))


class _Visitor(ast.NodeVisitor):
    def __init__(self) -> None:
        self.assigned: set[str] = set()
        self.mutated: set[str] = set()
        self.maybe: set[str] = set()
        self.deleted: set[str] = set()
        self.called: set[str] = set()
        self.opaque = False
        self.hidden: list[set[str]] = []  # names local to the enclosing comprehensions

    def _local(self, name: str) -> bool:
        return any(name in scope for scope in self.hidden)

    def _add(self, bucket: set[str], name: str | None) -> None:
        if name is not None and not self._local(name):
            bucket.add(name)

    # -- binding targets -------------------------------------------------------------------------
    def _target(self, node: ast.AST) -> None:
        if isinstance(node, ast.Name):
            self._add(self.assigned, node.id)
        elif isinstance(node, (ast.Tuple, ast.List)):
            for elt in node.elts:
                self._target(elt)
        elif isinstance(node, ast.Starred):
            self._target(node.value)
        elif isinstance(node, (ast.Subscript, ast.Attribute)):
            self._add(self.mutated, root_name(node))
            self.visit(node)  # the index and the receiver chain are evaluated (calls in them count)

    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)
        for target in node.targets:
            self._target(target)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.visit(node.value)
        self._target(node.target)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)
            self._target(node.target)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        if isinstance(node.target, ast.Name):  # binds in the cell even inside a comprehension
            self.assigned.add(node.target.id)

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        self.visit(node.iter)
        self._target(node.target)
        for stmt in node.body + node.orelse:
            self.visit(stmt)

    visit_AsyncFor = visit_For

    def visit_withitem(self, node: ast.withitem) -> None:
        self.visit(node.context_expr)
        if node.optional_vars is not None:
            self._target(node.optional_vars)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.type is not None:
            self.visit(node.type)
        if node.name:
            self._add(self.assigned, node.name)
        for stmt in node.body:
            self.visit(stmt)

    def visit_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            self._delete(target)

    def _delete(self, node: ast.AST) -> None:
        if isinstance(node, ast.Name):
            self._add(self.deleted, node.id)
        elif isinstance(node, (ast.Tuple, ast.List)):
            for elt in node.elts:
                self._delete(elt)
        else:
            self._add(self.mutated, root_name(node))
            self.visit(node)

    def visit_MatchAs(self, node: ast.MatchAs) -> None:
        if node.pattern is not None:
            self.visit(node.pattern)
        if node.name:
            self._add(self.assigned, node.name)

    def visit_MatchStar(self, node: ast.MatchStar) -> None:
        if node.name:
            self._add(self.assigned, node.name)

    def visit_MatchMapping(self, node: ast.MatchMapping) -> None:
        self.generic_visit(node)
        if node.rest:
            self._add(self.assigned, node.rest)

    # -- imports: modules and library callables are not data -----------------------------------------
    def visit_Import(self, node: ast.Import) -> None:
        return

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if any(alias.name == "*" for alias in node.names):
            self.opaque = True

    # -- scopes of their own ---------------------------------------------------------------------
    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for expr in [*node.decorator_list, *node.args.defaults, *[d for d in node.args.kw_defaults if d]]:
            self.visit(expr)
        self._add(self.assigned, node.name)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for expr in [*node.decorator_list, *node.bases, *[k.value for k in node.keywords]]:
            self.visit(expr)
        self._add(self.assigned, node.name)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        for expr in [*node.args.defaults, *[d for d in node.args.kw_defaults if d]]:
            self.visit(expr)

    def _comprehension(self, node: ast.AST, elements: list[ast.AST]) -> None:
        generators: list[ast.comprehension] = node.generators  # type: ignore[attr-defined]
        self.visit(generators[0].iter)  # evaluated in the cell's scope
        scope: set[str] = set()
        for gen in generators:
            scope.update(n.id for n in ast.walk(gen.target) if isinstance(n, ast.Name))
        self.hidden.append(scope)
        try:
            for i, gen in enumerate(generators):
                if i:
                    self.visit(gen.iter)
                for cond in gen.ifs:
                    self.visit(cond)
            for element in elements:
                self.visit(element)
        finally:
            self.hidden.pop()

    def visit_ListComp(self, node: ast.ListComp) -> None:
        self._comprehension(node, [node.elt])

    visit_SetComp = visit_GeneratorExp = visit_ListComp  # type: ignore[assignment]

    def visit_DictComp(self, node: ast.DictComp) -> None:
        self._comprehension(node, [node.key, node.value])

    # -- calls -----------------------------------------------------------------------------------
    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = _callee_name(func)
        if name in _OPAQUE_CALLS:
            self.opaque = True
        if isinstance(func, ast.Name):
            self._add(self.called, func.id)
        elif isinstance(func, ast.Attribute):
            receiver = root_name(func.value)
            inplace = any(k.arg == "inplace" and isinstance(k.value, ast.Constant) and k.value.value is True
                          for k in node.keywords)
            if inplace:
                self._add(self.mutated, receiver)
            elif name not in READ_ONLY_METHODS:
                self._add(self.maybe, receiver)
        for k in node.keywords:
            if k.arg == "out":  # numpy's out=: written in place whatever the function
                self._add(self.mutated, root_name(k.value))
        if not _args_read_only(name):
            for arg in [*node.args, *[k.value for k in node.keywords]]:
                self._add(self.maybe, root_name(arg))  # shuffle(a), f(*a), shuffle(df["x"].values)
        self.generic_visit(node)
