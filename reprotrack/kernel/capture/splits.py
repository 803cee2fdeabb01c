"""Every scikit-learn split a cell makes, with the exact row positions of each part (``cells[].splits[]``).

* **Cross-validators.** ``split`` is wrapped on every class of ``sklearn.model_selection._split`` that
  defines it (``BaseCrossValidator``, ``_BaseKFold``, ``StratifiedKFold``, ``BaseShuffleSplit``,
  ``_RepeatedSplits``, ``PredefinedSplit``…), so every splitter, and user subclasses, are covered
  however they were imported, including the splits ``cross_val_score``, ``cross_validate`` and
  ``GridSearchCV``/``RandomizedSearchCV`` make with ``cv=`` (they split in this process before dispatching
  fits to joblib; a search nested inside a parallel ``cross_val_score(n_jobs>1)`` splits in worker
  processes, which are not seen). The returned generator is wrapped, not consumed: folds are recorded as
  the caller draws them and reach it unchanged. Only the outermost split records (``super().split`` and a
  repeated splitter's inner ``KFold`` do not record again).
* **train_test_split** returns data, not indices: it is called once, with ``numpy.arange(n)`` appended to
  the caller's arrays, and the two extra outputs (the positions of the train and test rows, in the order
  returned) are stripped from the result. The caller's outputs are untouched: the same random draws pick
  the same rows (the extra array is indexed last, by the same positions). When the arrays are
  inconsistent (the original must raise its own error), empty, or scikit-learn's array API dispatch is on,
  the original runs alone and no indices are kept. Only the ``sklearn.model_selection`` and
  ``sklearn.model_selection._split`` attributes and the user's namespace are patched, so scikit-learn's
  internal early-stopping splits are not recorded.

One record per fold: ``api``, ``random_state``, ``shuffle``, ``stratify``, ``groups``, ``fold`` (None for
``train_test_split``), ``n_samples`` and ``parts`` ``{"train"|"test": {"size", "sha256", "set_sha256",
"indices"}}`` (see ``reprotrack.core.split_indices``: digests over int64 little-endian positions in the order
returned; ``set_sha256`` over the sorted ones). Bounds per cell: an identical fold (same splitter call
description and digests) is recorded once with a ``calls`` count; ``MAX_INDEXED_FOLDS`` folds keep their
indices, later ones digests and sizes only; beyond ``MAX_FOLDS`` folds a note says how many were dropped.
"""

from __future__ import annotations

import functools
import sys
import types
from typing import TYPE_CHECKING, Any

from reprotrack.core import split_indices as index_codec
from reprotrack.kernel.capture import Capture, ledger
from reprotrack.kernel.capture.patching import Patcher, Reentry
from reprotrack.kernel.context import current_cell

if TYPE_CHECKING:  # pragma: no cover
    from reprotrack.kernel.context import CellContext
    from reprotrack.kernel.session import Session

MAX_INDEXED_FOLDS = 100
MAX_FOLDS = 2000
_REENTRY = Reentry()
_CELL: dict[str, Any] = {"record": None, "seen": {}, "indexed": 0, "dropped": 0}
_TTS = "train_test_split"


class SplitCapture(Capture):
    name = "splits"

    def __init__(self) -> None:
        self.patcher = Patcher()

    def install(self, session: Session) -> None:
        self.patcher.when_imported("sklearn.model_selection._split", self._patch_split_module)
        self.patcher.when_imported(
            "sklearn.model_selection", lambda m: self.patcher.patch(m, _TTS, _train_test_split_wrapper, rebind=True)
        )

    def uninstall(self) -> None:
        self.patcher.restore_all()

    def before_cell(self, ctx: CellContext) -> None:
        self.patcher.poll()
        self.patcher.rebind(ctx.user_ns)

    def after_cell(self, ctx: CellContext) -> None:
        if _CELL["record"] is ctx.record and _CELL["dropped"]:
            ctx.record.notes.append(
                f"splits: {_CELL['dropped']} more fold(s) not recorded (at most {MAX_FOLDS} per cell)"
            )
        _CELL.update(record=None, seen={}, indexed=0, dropped=0)

    def _patch_split_module(self, module: Any) -> None:
        for obj in list(vars(module).values()):
            if isinstance(obj, type) and obj.__module__ == module.__name__:
                if isinstance(obj.__dict__.get("split"), types.FunctionType):
                    self.patcher.patch(obj, "split", _split_wrapper)
        self.patcher.patch(module, _TTS, _train_test_split_wrapper, rebind=True)


# -- cross-validators ---------------------------------------------------------------------------------
def _split_wrapper(original: Any) -> Any:
    @functools.wraps(original)
    def split(self: Any, *args: Any, **kwargs: Any) -> Any:
        if _REENTRY.depth or current_cell() is None:
            return original(self, *args, **kwargs)
        _REENTRY.depth += 1
        try:
            folds = original(self, *args, **kwargs)
        finally:
            _REENTRY.depth -= 1
        try:
            meta = _splitter_facts(self, args, kwargs)
            if isinstance(folds, (list, tuple)):  # a subclass returning folds eagerly keeps its list
                for fold, (train, test) in enumerate(folds):
                    _record(dict(meta, fold=fold), train, test)
                return folds
        except Exception:  # noqa: BLE001 - bookkeeping never reaches the user
            return folds
        if not isinstance(folds, types.GeneratorType):
            return folds
        return _observe(folds, meta)

    return split


def _observe(folds: Any, meta: dict[str, Any]):
    """Yield the splitter's folds unchanged, recording each as it is drawn."""
    iterator = iter(folds)
    fold = 0
    try:
        while True:
            _REENTRY.depth += 1
            try:
                item = next(iterator)
            except StopIteration:
                return
            finally:
                _REENTRY.depth -= 1
            try:
                train, test = item
                _record(dict(meta, fold=fold), train, test)
            except Exception:  # noqa: BLE001
                pass
            fold += 1
            yield item
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()


def _splitter_facts(splitter: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    cls = type(splitter)
    X = args[0] if args else kwargs.get("X")
    groups = args[2] if len(args) > 2 else kwargs.get("groups")
    names = {c.__name__ for c in cls.__mro__}
    shuffles = bool(
        names & {"BaseShuffleSplit", "_RepeatedSplits"} or getattr(splitter, "shuffle", False) is True
    )
    state = getattr(splitter, "random_state", None)
    ctx = current_cell()
    if shuffles:
        api = ledger.public_name(cls)
        if state is None or ledger.is_global_randomstate(state):
            ledger.note_randomness(
                ctx, f"{api}.split", ledger.is_seeded("numpy"), fix=f"pass random_state=<int> to {cls.__name__}(...)"
            )
        ledger.note_seed(ctx, f"{api}(random_state=)", state)
    return {
        "api": f"{cls.__name__}.split",
        "random_state": ledger.describe_seed(state) if shuffles else None,
        "shuffle": shuffles,
        "stratify": "Stratified" in cls.__name__,
        "groups": groups is not None,
        "n_samples": _num_samples(X),
    }


# -- train_test_split ---------------------------------------------------------------------------------
def _train_test_split_wrapper(original: Any) -> Any:
    @functools.wraps(original)
    def train_test_split(*arrays: Any, **options: Any) -> Any:
        ctx = current_cell()
        if ctx is None or _REENTRY.depth:
            return original(*arrays, **options)
        n = _probe_length(arrays)
        if n is None:
            _REENTRY.depth += 1
            try:
                result = original(*arrays, **options)
            finally:
                _REENTRY.depth -= 1
            _note_tts(ctx, options, None, None, None)
            return result
        import numpy as np

        _REENTRY.depth += 1
        try:
            result = original(*arrays, np.arange(n, dtype=np.int64), **options)
        finally:
            _REENTRY.depth -= 1
        train, test = result[-2], result[-1]
        _note_tts(ctx, options, n, train, test)
        return result[:-2]

    return train_test_split


def _note_tts(ctx: CellContext, options: dict[str, Any], n: int | None, train: Any, test: Any) -> None:
    try:
        shuffle = bool(options.get("shuffle", True))
        state = options.get("random_state")
        if shuffle:
            api = "sklearn.model_selection.train_test_split"
            if state is None or ledger.is_global_randomstate(state):
                fix = "pass random_state=<int> to train_test_split(...)"
                ledger.note_randomness(ctx, api, ledger.is_seeded("numpy"), fix=fix)
            ledger.note_seed(ctx, f"{api}(random_state=)", state)
        meta = {
            "api": _TTS,
            "random_state": ledger.describe_seed(state) if shuffle else None,
            "shuffle": shuffle,
            "stratify": options.get("stratify") is not None,
            "groups": False,
            "fold": None,
            "n_samples": n,
        }
        if train is None:
            _record(meta, None, None)
        else:
            _record(meta, train, test)
    except Exception:  # noqa: BLE001
        pass


def _probe_length(arrays: tuple[Any, ...]) -> int | None:
    """The number of rows if the arrays are consistent and an index probe is safe, else None."""
    if not arrays:
        return None
    validation = sys.modules.get("sklearn.utils.validation")
    sklearn = sys.modules.get("sklearn")
    if validation is None or sklearn is None:
        return None
    try:
        if sklearn.get_config().get("array_api_dispatch"):
            return None
        validation.check_consistent_length(*arrays)
        n = validation._num_samples(arrays[0])
    except Exception:  # noqa: BLE001 - the original will raise its own error
        return None
    return int(n) if isinstance(n, int) or hasattr(n, "__index__") else None


def _num_samples(X: Any) -> int | None:
    validation = sys.modules.get("sklearn.utils.validation")
    if X is None or validation is None:
        return None
    try:
        return int(validation._num_samples(X))
    except Exception:  # noqa: BLE001
        return None


# -- the record ---------------------------------------------------------------------------------------
def _record(meta: dict[str, Any], train: Any, test: Any) -> None:
    ctx = current_cell()
    if ctx is None:
        return
    if _CELL["record"] is not ctx.record:
        _CELL.update(record=ctx.record, seen={}, indexed=0, dropped=0)
    if train is None:
        key = repr(sorted(meta.items()))
        parts = None
    else:
        train_arr, test_arr = index_codec.as_index_array(train), index_codec.as_index_array(test)
        digests = (index_codec.digest(train_arr), index_codec.digest(test_arr))
        key = repr((sorted(meta.items()), digests))
    seen = _CELL["seen"]
    if key in seen:
        seen[key]["calls"] += 1
        return
    if len(seen) >= MAX_FOLDS:
        _CELL["dropped"] += 1
        return
    entry = dict(meta)
    if train is not None:
        keep = _CELL["indexed"] < MAX_INDEXED_FOLDS
        _CELL["indexed"] += 1
        cap = index_codec.MAX_ENCODED if keep else -1
        parts = {
            "train": index_codec.describe_part(train_arr, cap=cap, sha256=digests[0]),
            "test": index_codec.describe_part(test_arr, cap=cap, sha256=digests[1]),
        }
        if entry.get("n_samples") is None:
            entry["n_samples"] = int(train_arr.size + test_arr.size)
    entry["parts"] = parts
    entry["calls"] = 1
    seen[key] = entry
    ctx.record.splits.append(entry)
