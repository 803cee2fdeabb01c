"""Which random sources a cell drew from, and whether they were seeded (``cells[].randomness[]``).

* **Global generators.** The Python ``random`` and numpy legacy global generators are fingerprinted before
  and after each cell (~1 µs each: both raw MT19937 state structs are read straight from memory, Python's
  after a once-per-process check of its layout, see ``RawState``). A change means the cell drew from it; the draw is ``seeded`` when the generator was
  seeded (``random.seed``/``np.random.seed`` with a value, or its state set) since tracking started. Seeding
  in the cell itself resets the "before" fingerprint, so seeding alone is not a draw. Not seen: a cell that
  only consumes numpy's cached second normal deviate (that flag lives outside the state struct).
* **Calls that draw without a seed of their own**, named precisely: ``numpy.random.default_rng()`` (its
  entropy is recorded, as a decimal string, so that a replay can pin it; ``default_rng`` calls made while
  a module is being imported, like a default argument value, are not the user's and are left out), pandas ``sample`` and
  scikit-learn ``shuffle``/``resample`` with ``random_state=None``, and scikit-learn estimators fit with
  ``random_state=None`` whose fit actually changed the global numpy state (every ``fit``/``fit_transform``/
  ``fit_predict``/``partial_fit`` defined on a ``BaseEstimator`` subclass of an imported module is wrapped;
  the classes are re-scanned when ``sys.modules`` grows; classes defined in the notebook itself are left
  alone, since joblib sends them to workers by value; SVC/NuSVC without ``probability`` draw a seed they
  document as ignored, which is not a draw of the cell), and the sampling helpers of ``SAMPLING_HELPERS``
  (``silhouette_score(sample_size=…)``, ``permutation_importance``, the dataset generators) called with
  ``random_state=None`` that actually drew from the global generator. Splitters are noted by ``splits``; constructors such as
  ``RandomState()`` by ``seeds``. Fits run in joblib worker processes (``n_jobs`` > 1 with loky) draw from
  the workers' generators, which this process cannot see.

A cell with an unseeded draw gets one warning line naming the call and the fix; seeded code gets none.

Replays: a global generator drawn from while unseeded also gets its state at the start of the cell recorded
(``run.state``), and ``install_pins(cells)`` (from ``pins``) makes a replay draw the same numbers: the n-th
unseeded ``default_rng()`` of a cell gets the recorded entropy, and the global generators are set to the
recorded state before the cell. ``pins`` says what cannot be pinned.
"""

from __future__ import annotations

import ctypes
import functools
import inspect
import struct
import sys
import types
from typing import TYPE_CHECKING, Any

from reprotrack.kernel.capture import Capture, ledger, pins
from reprotrack.kernel.capture.imports import WATCHER, Listener
from reprotrack.kernel.capture.patching import Patcher, Reentry
from reprotrack.kernel.capture.pins import install_pins  # noqa: F401 - the replay engine's entry point: randomness.install_pins
from reprotrack.kernel.context import cell_label, current_cell

if TYPE_CHECKING:  # pragma: no cover
    from reprotrack.kernel.context import CellContext
    from reprotrack.kernel.session import Session

GLOBAL_SOURCES = {"random": "random (Python global generator)", "numpy": "numpy.random (global generator)"}
GLOBAL_FIXES = {
    "random": "call random.seed(<int>) before drawing",
    "numpy": "call np.random.seed(<int>) first, or pass random_state=<int> / use np.random.default_rng(<int>)",
}
DEFAULT_RNG = "numpy.random.default_rng"
_FIT_METHODS = ("fit", "fit_transform", "fit_predict", "partial_fit")
_MISSING = object()
_REENTRY = Reentry()
#: The randomness capture of the running session (the fit wrappers are module-level functions).
_ACTIVE: list[Any] = [None]
#: Public helpers that sample from the global generator when their ``random_state`` is None.
SAMPLING_HELPERS = {
    "sklearn.metrics": ("silhouette_score",),
    "sklearn.inspection": ("permutation_importance",),
    "sklearn.model_selection": ("permutation_test_score",),
    "sklearn.datasets": ("make_classification", "make_regression", "make_blobs", "make_moons", "make_circles"),
}



class RandomnessCapture(Capture, Listener):
    name = "randomness"

    def __init__(self) -> None:
        self.patcher = Patcher()
        self.session: Session | None = None
        self._baseline: dict[str, Any] = {}
        self._modules_seen = -1
        self._classes_seen: set[type] = set()
        self._pinned: set[str] = set()
        self._at_import: dict[str, Any] = {}

    def install(self, session: Session) -> None:
        self.session = session
        ledger.SEED_LISTENERS.append(self._on_seed)
        p = self.patcher
        p.when_imported("numpy.random", lambda m: p.patch(m, "default_rng", _default_rng_wrapper, rebind=True))
        p.when_imported("pandas.core.generic", lambda m: p.patch(m.NDFrame, "sample", _draw_wrapper("pandas", "sample")))
        p.when_imported(
            "pandas.core.groupby.groupby", lambda m: p.patch(m.GroupBy, "sample", _draw_wrapper("pandas", "sample"))
        )
        for module in ("sklearn.utils._indexing", "sklearn.utils"):
            for name in ("shuffle", "resample"):
                p.when_imported(module, functools.partial(self._patch_function, name))
        for module, names in SAMPLING_HELPERS.items():
            p.when_imported(module, functools.partial(self._patch_helpers, module, names))
        _ACTIVE[0] = self
        WATCHER.watch(self)
        self._scan_estimators()

    def uninstall(self) -> None:
        WATCHER.unwatch(self)
        if _ACTIVE[0] is self:
            _ACTIVE[0] = None
        try:
            ledger.SEED_LISTENERS.remove(self._on_seed)
        except ValueError:
            pass
        self.patcher.restore_all()

    def before_cell(self, ctx: CellContext) -> None:
        self.patcher.poll()
        self.patcher.rebind(ctx.user_ns)
        if len(sys.modules) != self._modules_seen:
            self._scan_estimators()
        self._pinned = pins.begin_cell(ctx.record)
        self._baseline = {"random": python_state(), "numpy": numpy_fingerprint()}

    # -- imports inside the cell (``imports.Listener``) --------------------------------------------------
    def module_imported(self, name: str, module: Any) -> None:
        """An outermost import has completed: estimator classes it defined are wrapped before the importing
        statement binds them (``from sklearn.ensemble import RandomForestClassifier`` and ``.fit`` in one cell)."""
        if not WATCHER.importing() and "sklearn.base" in sys.modules:
            self._scan_estimators()

    # draws a library makes while it is imported are not the cell's
    def import_started(self) -> None:
        if self._baseline:
            self._at_import = {"random": python_state(), "numpy": numpy_fingerprint()}

    def import_finished(self) -> None:
        before, self._at_import = self._at_import, {}
        if not before or not self._baseline:
            return
        for generator, now in (("random", python_state()), ("numpy", numpy_fingerprint())):
            was = before.get(generator)
            if now is None or _key(generator, was) == _key(generator, now):
                continue
            base = self._baseline.get(generator)
            if base is None or _key(generator, base) == _key(generator, was):
                # the cell had not drawn before this import (or the generator did not exist yet): the
                # import's own draw moves the baseline, so only the cell's draws count
                self._baseline[generator] = now

    def after_cell(self, ctx: CellContext) -> None:
        now = {"random": python_state(), "numpy": numpy_fingerprint()}
        for generator in ("random", "numpy"):
            before, after = self._baseline.get(generator), now[generator]
            if before is None or after is None or _key(generator, before) == _key(generator, after):
                continue
            seeded = ledger.is_seeded(generator)
            extra: dict[str, Any] = {}
            if not seeded:  # what a pinned replay needs to draw the same numbers (see pins)
                try:
                    state = pins.python_state(state_tuple(before)) if generator == "random" \
                        else pins.numpy_state(before)
                    extra["run"] = {"state": state, "pinned": True} if generator in self._pinned else {"state": state}
                except Exception:  # noqa: BLE001
                    pass
            ledger.note_randomness(ctx, GLOBAL_SOURCES[generator], seeded, fix=GLOBAL_FIXES[generator], **extra)
        self._baseline = {}
        self._warn(ctx)

    # -- internals -------------------------------------------------------------------------------------
    def _on_seed(self, generator: str, value: Any) -> None:
        if generator in self._baseline:
            self._baseline[generator] = python_state() if generator == "random" else numpy_fingerprint()

    def _warn(self, ctx: CellContext) -> None:
        unseeded = [e for e in ctx.record.randomness if not e.get("seeded", True)]
        if not unseeded or self.session is None:
            return
        specific = [e for e in unseeded if e.get("source") not in GLOBAL_SOURCES.values()]
        source = (specific or unseeded)[0].get("source", "?")
        fix = ledger.fixes_for(ctx).get(source) or "seed it"
        record = ctx.record
        self.session.warn(f"{cell_label(record)} drew unseeded randomness from {source}; {fix}", cell=record)

    def _patch_function(self, name: str, module: Any) -> None:
        if callable(getattr(module, name, None)):
            self.patcher.patch(module, name, _draw_wrapper("sklearn.utils", name), rebind=True)

    def _patch_helpers(self, module_name: str, names: tuple[str, ...], module: Any) -> None:
        for name in names:
            if callable(getattr(module, name, None)):
                self.patcher.patch(module, name, _measured_wrapper(f"{module_name}.{name}"), rebind=True)

    def _scan_estimators(self) -> None:
        """Wrap the fit methods of every scikit-learn estimator class defined so far (new ones only)."""
        self._modules_seen = len(sys.modules)
        base = sys.modules.get("sklearn.base")
        root = getattr(base, "BaseEstimator", None)
        if root is None:
            return
        stack, seen = [root], self._classes_seen
        while stack:
            cls = stack.pop()
            try:
                subclasses = type.__subclasses__(cls)
            except TypeError:
                continue
            for sub in subclasses:
                if sub in seen:
                    stack.append(sub)
                    continue
                seen.add(sub)
                stack.append(sub)
                module = getattr(sub, "__module__", None)
                if module == "__main__" or module not in sys.modules:
                    continue  # cloudpickle (joblib) copies such classes by value: their dict must stay picklable
                for method in _FIT_METHODS:
                    if isinstance(sub.__dict__.get(method), types.FunctionType):
                        self.patcher.patch(sub, method, _fit_wrapper(method))


# -- fingerprints of the global generators ---------------------------------------------------------
class RawState:
    """Python's global Mersenne Twister read in place (a 2 500-byte copy, ~1 µs; ``getstate()`` builds a
    625-int tuple, ~10 µs): CPython's ``RandomObject`` is a ``PyObject_HEAD``, an ``int`` index and the 624
    state words. The layout is checked once per process against ``getstate()`` of a private generator
    (``raw_layout_ok``); elsewhere (another interpreter, a replaced ``random._inst``) ``getstate()`` is used."""

    __slots__ = ("raw", "gauss")

    def __init__(self, raw: bytes, gauss: Any) -> None:
        self.raw, self.gauss = raw, gauss

    def getstate(self) -> tuple[Any, ...]:
        return 3, _words(self.raw), self.gauss


_HEAD = object.__basicsize__
_RAW_BYTES = 4 + 624 * 4
_RAW_OK: list[bool | None] = [None]


def _words(raw: bytes) -> tuple[int, ...]:
    return struct.unpack("=624I", raw[4:]) + (int.from_bytes(raw[:4], sys.byteorder, signed=True),)


def raw_layout_ok() -> bool:
    try:
        import random

        probe = random.Random(20240917)
        probe.random()
        version, words, _ = probe.getstate()
        return version == 3 and _words(ctypes.string_at(id(probe) + _HEAD, _RAW_BYTES)) == words
    except Exception:  # noqa: BLE001 - not CPython's layout: getstate() it is
        return False


#: generator → (the object read, a memoryview of its state struct in place): a copy of it is ~0.2 µs, where
#: ``ctypes.string_at`` is ~1 µs and numpy's ``bit_generator.ctypes`` builds a named tuple each time. The view
#: holds the object, so the memory it reads stays the object's; a replaced generator gets a new view.
_VIEWS: dict[str, tuple[Any, memoryview]] = {}


def _view(generator: str, owner: Any, address: int, size: int) -> memoryview:
    view = memoryview((ctypes.c_char * size).from_address(address)).cast("B")
    _VIEWS[generator] = (owner, view)
    return view


def python_state() -> Any:
    """The state of Python's global generator (a ``RawState``, or ``getstate()``'s tuple), or None."""
    module = sys.modules.get("random")
    inst = getattr(module, "_inst", None)
    if inst is None:
        return None
    try:
        view = _VIEWS.get("random")
        if view is not None and view[0] is inst:
            return RawState(view[1].tobytes(), inst.gauss_next)
        if type(inst) is module.Random:
            if _RAW_OK[0] is None:
                _RAW_OK[0] = raw_layout_ok()
            if _RAW_OK[0]:
                return RawState(_view("random", inst, id(inst) + _HEAD, _RAW_BYTES).tobytes(), inst.gauss_next)
        return inst.getstate()
    except Exception:  # noqa: BLE001
        return None


def state_tuple(state: Any) -> Any:
    """``random.getstate()``'s form of a ``python_state()``."""
    return state.getstate() if isinstance(state, RawState) else state


def python_fingerprint() -> Any:
    """Position, a few state words and the cached gauss of Python's global Mersenne Twister: any draw moves
    the position, and a draw of exactly 624·k words regenerates (changes) every word."""
    return _key("random", python_state())


def _key(generator: str, state: Any) -> Any:
    if generator != "random" or state is None:
        return state
    if isinstance(state, RawState):  # the whole state: one memcmp
        return state.raw, state.gauss
    version, words, gauss = state
    return (words[-1], words[0], words[1], words[311], words[-2], gauss)


def numpy_fingerprint() -> Any:
    """The raw MT19937 state (624 words + position) of numpy's global RandomState, or None."""
    mtrand = sys.modules.get("numpy.random.mtrand")
    rs = getattr(mtrand, "_rand", None)
    if rs is None:
        return None
    try:
        bit_generator = rs._bit_generator
        view = _VIEWS.get("numpy")
        if view is not None and view[0] is bit_generator:
            return view[1].tobytes()
        if type(bit_generator).__name__ == "MT19937":
            return _view("numpy", bit_generator, bit_generator.ctypes.state_address, 624 * 4 + 4).tobytes()
        return repr(bit_generator.state)
    except Exception:  # noqa: BLE001
        return None


# -- wrappers ----------------------------------------------------------------------------------------
def _fit_wrapper(method: str):
    def make(original: Any) -> Any:
        @functools.wraps(original)
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            ctx = current_cell()
            if ctx is None:
                return original(self, *args, **kwargs)
            try:
                state = vars(self).get("random_state", _MISSING)
            except Exception:  # noqa: BLE001 - objects without __dict__
                state = _MISSING
            if state is _MISSING:
                return original(self, *args, **kwargs)
            measure, before = False, None
            try:
                measure = state is None or ledger.is_global_randomstate(state)
                if _REENTRY.depth == 0:
                    ledger.note_seed(ctx, f"{ledger.public_name(type(self))}(random_state=)", state)
                if measure:
                    before = numpy_fingerprint()
            except Exception:  # noqa: BLE001
                pass
            _REENTRY.depth += 1
            try:
                return original(self, *args, **kwargs)
            finally:
                _REENTRY.depth -= 1
                if measure:
                    try:
                        if before is not None and numpy_fingerprint() != before and _ignores_random_state(self):
                            _absorb(before)
                        elif before is not None and numpy_fingerprint() != before:
                            name = type(self).__name__
                            ledger.note_randomness(
                                ctx,
                                f"{ledger.public_name(type(self))}.{method}",
                                ledger.is_seeded("numpy"),
                                fix=f"pass random_state=<int> to {name}(...)",
                            )
                    except Exception:  # noqa: BLE001
                        pass

        return wrapper

    return make


def _ignores_random_state(est: Any) -> bool:
    """Estimators that draw from the global generator although their results do not depend on it: libsvm's
    classifiers take a seed for probability calibration only ("random_state: ignored when probability is
    False", scikit-learn's documentation of SVC and NuSVC)."""
    cls = type(est)
    if not (cls.__module__ or "").startswith("sklearn.svm") or cls.__name__ not in ("SVC", "NuSVC"):
        return False
    probability = getattr(est, "probability", True)
    return probability is False or probability == "deprecated"  # 1.9's default: the parameter is deprecated


def _absorb(before: Any) -> None:
    """A draw that cannot change results, made while the global generator was still at the state the cell
    started with: the cell's "before" moves past it, so the draw is not reported (any later one still is)."""
    capture = _ACTIVE[0]
    if capture is not None and capture._baseline.get("numpy") == before:
        capture._baseline["numpy"] = numpy_fingerprint()


def _signature(original: Any) -> inspect.Signature | None:
    """How ``original`` binds its arguments (None for a builtin that does not say): read once, at patch time."""
    try:
        return inspect.signature(original)
    except (TypeError, ValueError):
        return None


def _measured_wrapper(api: str):
    """Library helpers that sample when asked (``silhouette_score(sample_size=…)``, ``permutation_importance``,
    the dataset generators): named as the source when ``random_state`` is None and the call actually drew
    from the global generator."""

    def make(original: Any) -> Any:
        signature = _signature(original)

        @functools.wraps(original)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            ctx = current_cell()
            if ctx is None or signature is None or _REENTRY.depth:
                return original(*args, **kwargs)
            before = None
            try:
                bound = signature.bind(*args, **kwargs).arguments
                state = bound.get("random_state", signature.parameters.get("random_state").default)
                if state is None or ledger.is_global_randomstate(state):
                    before = numpy_fingerprint()
                else:
                    ledger.note_seed(ctx, f"{api}(random_state=)", state)
            except Exception:  # noqa: BLE001
                before = None
            _REENTRY.depth += 1
            try:
                return original(*args, **kwargs)
            finally:
                _REENTRY.depth -= 1
                if before is not None:
                    try:
                        if numpy_fingerprint() != before:
                            ledger.note_randomness(ctx, api, ledger.is_seeded("numpy"),
                                                   fix=f"pass random_state=<int> to {api.rsplit('.', 1)[-1]}(...)")
                    except Exception:  # noqa: BLE001
                        pass

        return wrapper

    return make


def _draw_wrapper(prefix: str, name: str):
    """pandas ``sample`` / scikit-learn ``shuffle``, ``resample``: unseeded when random_state is None."""

    def make(original: Any) -> Any:
        signature = _signature(original)

        @functools.wraps(original)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if _REENTRY.depth:  # sklearn's shuffle calls resample: name the outer call only
                return original(*args, **kwargs)
            _REENTRY.depth += 1
            try:
                result = original(*args, **kwargs)
            finally:
                _REENTRY.depth -= 1
            try:
                ctx = current_cell()
                if ctx is not None and signature is not None:
                    state = signature.bind(*args, **kwargs).arguments.get("random_state")
                    owner = type(args[0]).__name__ + "." if prefix == "pandas" and args else ""
                    api = f"{prefix}.{owner}{name}"
                    if state is None or ledger.is_global_randomstate(state):
                        fix = f"pass random_state=<int> to {'.' if owner else ''}{name}(...)"
                        ledger.note_randomness(ctx, api, ledger.is_seeded("numpy"), fix=fix)
                    else:
                        ledger.note_seed(ctx, f"{api}(random_state=)", state)
            except Exception:  # noqa: BLE001
                pass
            return result

        return wrapper

    return make


def _default_rng_wrapper(original: Any) -> Any:
    @functools.wraps(original)
    def default_rng(*args: Any, **kwargs: Any) -> Any:
        ctx = current_cell()
        seed = args[0] if args else kwargs.get("seed")
        if ctx is not None and _importing():
            ctx = None  # a module-level default (sklearn's TreeGrower has one): not the user's generator
        pin = None
        if ctx is not None and seed is None and len(args) + len(kwargs) <= 1:
            try:
                pin = pins.next_entropy(ctx.record)
            except Exception:  # noqa: BLE001
                pin = None
        if pin is not None:
            import numpy as np

            result = original(np.random.SeedSequence(pin))
        else:
            result = original(*args, **kwargs)
        if ctx is None:
            return result
        try:
            if seed is None:
                entropy = result.bit_generator.seed_seq.entropy
                extra: dict[str, Any] = {"entropy": str(entropy)}
                if pin is not None:
                    extra["run"] = {"pinned": True}
                ledger.note_randomness(ctx, DEFAULT_RNG, False, fix="pass a seed: np.random.default_rng(<int>)", **extra)
            else:
                ledger.note_seed(ctx, DEFAULT_RNG, seed)
        except Exception:  # noqa: BLE001
            pass
        return result

    return default_rng


def _importing(depth: int = 40) -> bool:
    """Whether the caller runs inside an ``import`` (a module body), judged from the frames above it."""
    frame = sys._getframe(2)
    while frame is not None and depth > 0:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            return True
        frame = frame.f_back
        depth -= 1
    return False
