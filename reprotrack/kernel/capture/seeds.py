"""Every seed a cell sets, with its API and value (``cells[].seeds[]``).

Two ways in, because two kinds of API exist:

* Seeding *functions* are wrapped (reversibly, see ``patching``): ``random.seed``/``random.setstate``,
  ``numpy.random.seed``/``numpy.random.set_state``, and, only when the user already imported them,
  ``torch.manual_seed``/``torch.cuda.manual_seed(_all)``, ``tensorflow.random.set_seed`` and
  ``keras.utils.set_random_seed``. Seeding the Python or numpy global generator is also what makes later
  draws from it reproducible: ``ledger.mark_seeded`` tells the randomness capture.
* Generator *classes* of numpy (``RandomState``, ``Generator``, ``SeedSequence``, ``PCG64`` and the other bit
  generators) and ``random.Random`` are compiled or used by identity (``isinstance`` checks, pickles), so
  they are not replaced: their calls are read from the cell's source after it ran, resolving the callee
  in the user's namespace by identity and the seed argument as a literal or a variable's value. A
  constructor called without a seed is an unseeded generator and is noted as unseeded randomness --
  for numpy's classes only when it really ran: every numpy bit generator made without a seed draws OS
  entropy through ``numpy.random.bit_generator.randbits`` (looked up as a module global, so it is wrapped),
  and the wrapper notes the line of the user's code that asked; a ``RandomState()`` in a branch that did
  not run (``RandomState() if fresh else 0``) is no warning. Calls hidden inside functions defined in
  other cells or modules are not seen this way.

``default_rng`` is a function and is wrapped by ``randomness`` (which also pins unseeded ones on replay);
scikit-learn ``random_state=`` is noted by the randomness (estimators) and splits (splitters) captures.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import os
import sys
import types
from itertools import islice
from typing import TYPE_CHECKING, Any

from reprotrack.kernel.capture import Capture, ledger
from reprotrack.kernel.capture.patching import Patcher
from reprotrack.kernel.context import current_cell

if TYPE_CHECKING:  # pragma: no cover
    from reprotrack.kernel.context import CellContext
    from reprotrack.kernel.session import Session

#: Words whose presence in a cell's source makes the source scan worth doing (a substring test is cheap).
_CLASS_HINTS = ("RandomState", "Generator", "SeedSequence", "PCG64", "MT19937", "Philox", "SFC64", "Random")
_NUMPY_CLASSES = ("RandomState", "Generator", "SeedSequence", "PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")


class SeedCapture(Capture):
    name = "seeds"

    def __init__(self) -> None:
        self.patcher = Patcher()

    def install(self, session: Session) -> None:
        ledger.reset()
        p = self.patcher
        p.when_imported("random", self._patch_random)
        p.when_imported("numpy.random", self._patch_numpy)
        p.when_imported("torch", self._patch_torch)
        p.when_imported("tensorflow", self._patch_tensorflow)
        p.when_imported("keras", self._patch_keras)

    def uninstall(self) -> None:
        self.patcher.restore_all()
        _ENTROPY.hooked, _ENTROPY.lines = False, None

    def before_cell(self, ctx: CellContext) -> None:
        self.patcher.poll()
        self.patcher.rebind(ctx.user_ns)

    def after_cell(self, ctx: CellContext) -> None:
        source = ctx.source
        lines, _ENTROPY.lines = _ENTROPY.lines, None
        if any(hint in source for hint in _CLASS_HINTS):
            scan_constructors(ctx, (lines or set()) if _ENTROPY.hooked else None)

    # -- the libraries -----------------------------------------------------------------------------
    def _patch_random(self, module: Any) -> None:
        self.patcher.patch(module, "seed", seeding_wrapper("random.seed", "random"), rebind=True)
        self.patcher.patch(module, "setstate", seeding_wrapper("random.setstate", "random", state=True), rebind=True)

    def _patch_numpy(self, module: Any) -> None:
        self.patcher.patch(module, "seed", seeding_wrapper("numpy.random.seed", "numpy"), rebind=True)
        self.patcher.patch(module, "set_state", seeding_wrapper("numpy.random.set_state", "numpy", state=True), rebind=True)
        bit_generator = sys.modules.get("numpy.random.bit_generator")
        if bit_generator is not None and self.patcher.patch(bit_generator, "randbits", _entropy_wrapper):
            _ENTROPY.hooked = True

    def _patch_torch(self, module: Any) -> None:
        self.patcher.patch(module, "manual_seed", seeding_wrapper("torch.manual_seed", "torch"), rebind=True)
        cuda = getattr(module, "cuda", None)
        if isinstance(cuda, types.ModuleType):
            for name in ("manual_seed", "manual_seed_all"):
                self.patcher.patch(cuda, name, seeding_wrapper(f"torch.cuda.{name}", "torch.cuda"), rebind=True)

    def _patch_tensorflow(self, module: Any) -> None:
        random = getattr(module, "random", None)
        if random is not None:
            self.patcher.patch(random, "set_seed", seeding_wrapper("tensorflow.random.set_seed", "tensorflow"), rebind=True)

    def _patch_keras(self, module: Any) -> None:
        utils = getattr(module, "utils", None)
        if utils is not None:
            self.patcher.patch(utils, "set_random_seed", seeding_wrapper("keras.utils.set_random_seed", "keras"), rebind=True)


def seeding_wrapper(api: str, generator: str, *, state: bool = False):
    """A wrapper factory for a seeding function: call it, then note the seed (never altering the call)."""

    def make(original: Any) -> Any:
        @functools.wraps(original)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            result = original(*args, **kwargs)
            try:
                value = _state_digest(args[0] if args else next(iter(kwargs.values()), None)) if state else _seed_arg(args, kwargs)
                ledger.mark_seeded(generator, value)
                ledger.note_seed(current_cell(), api, value)
            except Exception:  # noqa: BLE001 - bookkeeping never reaches the user
                pass
            return result

        return wrapper

    return make


def _seed_arg(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    if args:
        return args[0]
    for key in ("seed", "a"):
        if key in kwargs:
            return kwargs[key]
    return None


def _state_digest(state: Any) -> str:
    """A restored generator state is a seed too: recorded by a digest of its repr-stable parts."""
    try:
        if isinstance(state, dict):  # numpy's dict form
            inner = state.get("state", {})
            key = inner.get("key") if isinstance(inner, dict) else None
            body = key.tobytes() if hasattr(key, "tobytes") else repr(inner).encode()
            body += repr(inner.get("pos") if isinstance(inner, dict) else None).encode()
        elif isinstance(state, tuple) and len(state) >= 2 and hasattr(state[1], "tobytes"):  # numpy legacy tuple
            body = state[1].tobytes() + repr(state[2:]).encode()
        else:
            body = repr(state).encode()
    except Exception:  # noqa: BLE001
        body = b""
    return "state sha256:" + hashlib.sha256(body).hexdigest()[:16]


# -- entropy drawn by numpy bit generators made without a seed ---------------------------------------
class _Entropy:
    hooked = False  # randbits is wrapped: an unseeded numpy constructor can be confirmed
    lines: set[tuple[int | None, ...]] | None = None  # where user code (not libraries) drew entropy: spans


_ENTROPY = _Entropy()
#: code that is not the user's: the interpreter's libraries and reprotrack itself (its default_rng wrapper)
_LIBRARY_PREFIXES = tuple(p.rstrip("/\\") + os.sep for p in {sys.prefix, sys.base_prefix, sys.exec_prefix,
                                                                sys.base_exec_prefix, __file__.rsplit("capture", 1)[0]}
                          if len(p.rstrip("/\\")) > 2)  # never "/" (a container's system Python): that is everything


def _position(frame: Any) -> tuple[int | None, ...]:
    """The span of the expression the frame is executing (the call itself, on Python 3.11+), else its line."""
    positions = getattr(frame.f_code, "co_positions", None)
    if positions is not None and frame.f_lasti >= 0:
        try:
            pos = next(islice(positions(), frame.f_lasti // 2, None), None)  # one entry per 2-byte code unit
            if pos is not None:
                return tuple(pos)
        except Exception:  # noqa: BLE001
            pass
    return (frame.f_lineno,)


def _entropy_wrapper(original: Any) -> Any:
    @functools.wraps(original)
    def randbits(*args: Any, **kwargs: Any) -> Any:
        try:
            if current_cell() is not None:
                frame = sys._getframe(1)
                if not frame.f_code.co_filename.startswith(_LIBRARY_PREFIXES):
                    lines = _ENTROPY.lines
                    if lines is None:
                        lines = _ENTROPY.lines = set()
                    if len(lines) < 10_000:
                        lines.add(_position(frame))
        except Exception:  # noqa: BLE001 - bookkeeping never fails the user's generator
            pass
        return original(*args, **kwargs)

    return randbits


# -- generator classes, read from the source ---------------------------------------------------------
def scan_constructors(ctx: CellContext, entropy_lines: set[tuple[int | None, ...]] | None = None) -> None:
    """``entropy_lines``: where numpy drew OS entropy for user code in this cell (None: not known)."""
    tree = ctx.tree
    if tree is None:
        return
    ns = ctx.user_ns
    known = _known_classes()
    if not known:
        return
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        target = _resolve(node.func, ns)
        api = known.get(id(target)) if target is not None else None
        if api is None:
            continue
        arg = node.args[0] if node.args else _keyword(node, ("seed", "entropy", "bit_generator", "x"))
        if arg is None and api.startswith("numpy.") and entropy_lines is not None:
            span = (node.lineno, node.end_lineno, node.col_offset, node.end_col_offset)
            if not any(pos == span or len(pos) == 1 and node.lineno <= (pos[0] or 0) <= (node.end_lineno or 0)
                       for pos in entropy_lines):
                continue  # written in the cell but never run (a branch not taken): no generator was made
        if arg is None:
            ledger.note_seed(ctx, api, None)
            ledger.note_randomness(
                ctx, f"{api}()", False, fix=f"pass a seed: {api.rsplit('.', 1)[-1]}(<int>)", found="source"
            )
            continue
        ledger.note_seed(ctx, api, _value_of(arg, ns))


def _known_classes() -> dict[int, str]:
    import sys

    found: dict[int, str] = {}
    random_module = sys.modules.get("random")
    if random_module is not None:
        found[id(random_module.Random)] = "random.Random"
    numpy_random = sys.modules.get("numpy.random")
    if numpy_random is not None:
        for name in _NUMPY_CLASSES:
            cls = getattr(numpy_random, name, None)
            if cls is not None:
                found[id(cls)] = f"numpy.random.{name}"
    return found


def _resolve(node: ast.expr, ns: dict[str, Any]) -> Any:
    """The object a callee expression names, following module attributes only (no user code runs)."""
    chain: list[str] = []
    while isinstance(node, ast.Attribute):
        chain.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    obj = ns.get(node.id)
    for attr in reversed(chain):
        if not isinstance(obj, types.ModuleType):
            return None
        try:
            obj = getattr(obj, attr)
        except Exception:  # noqa: BLE001 - lazy module loaders may raise anything
            return None
    return obj


def _keyword(node: ast.Call, names: tuple[str, ...]) -> ast.expr | None:
    for kw in node.keywords:
        if kw.arg in names:
            return kw.value
    return None


def _value_of(node: ast.expr, ns: dict[str, Any]) -> Any:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        pass
    if isinstance(node, ast.Name) and node.id in ns:
        value = ns[node.id]
        if value is None or isinstance(value, (int, float, str)):
            return value
    try:
        text = " ".join(ast.unparse(node).split())
    except Exception:  # noqa: BLE001
        return "expr"
    return "expr: " + (text if len(text) <= 70 else text[:69] + "…")
