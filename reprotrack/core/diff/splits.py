"""Compare the train/test splits one cell made in two runs, and say how many rows moved.

A split record (``reprotrack.kernel.capture.splits``) has the splitter's facts (``api``, ``random_state``,
``shuffle``, ``stratify``, ``groups``, ``fold``, ``n_samples``) and per part (``train``/``test``) its size,
digest and, when small enough, its encoded indices. Two records are the same split when both parts have the
same digest. When they are not, the message counts the rows that moved between train and test (from the
decoded indices, when both runs kept them) and ``reason`` says which root cause to look for: ``unseeded``
(no ``random_state`` and shuffling), ``parameters`` (the splitter was called differently), ``sizes`` (the
data it split had another number of rows) or ``data`` (same call, same size: the rows it got differ).
Pure.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any


PARAMETERS = ("random_state", "shuffle", "stratify", "groups")


@dataclass
class SplitDifference:
    subject: str
    message: str
    reason: str  # unseeded | parameters | sizes | data
    evidence: dict[str, Any]


def compare_splits(research: list[dict[str, Any]], replay: list[dict[str, Any]]) -> list[SplitDifference]:
    """One difference per split that differs (paired by api and fold, k-th with k-th)."""
    out = []
    for key, a, b in _pairs(research or [], replay or []):
        subject = _subject(key)
        if a is None or b is None:
            which = "the replay" if a is None else "research"
            other = "research" if a is None else "the replay"
            out.append(SplitDifference(subject, f"{subject} was called in {which} but not in {other}.", "parameters",
                                       {"research": a, "replay": b}))
            continue
        if _same(a, b):
            continue
        out.append(_difference(subject, a, b))
    return out


def _pairs(a: list[dict[str, Any]], b: list[dict[str, Any]]):
    queues: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for rec in b:
        queues[_key(rec)].append(rec)
    for rec in a:
        key = _key(rec)
        yield key, rec, (queues[key].pop(0) if queues[key] else None)
    for key, left in queues.items():
        for rec in left:
            yield key, None, rec


def _key(rec: dict[str, Any]) -> tuple:
    return (str(rec.get("api")), rec.get("fold"))


def _subject(key: tuple) -> str:
    api, fold = key
    return api if fold is None else f"{api} fold {fold}"


def _parts(rec: dict[str, Any]) -> dict[str, Any]:
    parts = rec.get("parts")
    return parts if isinstance(parts, dict) else {}


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    pa, pb = _parts(a), _parts(b)
    if pa and pb:
        return all((pa.get(k) or {}).get("sha256") == (pb.get(k) or {}).get("sha256") for k in ("train", "test"))
    strip = ("calls", "run", "parts")
    return {k: v for k, v in a.items() if k not in strip} == {k: v for k, v in b.items() if k not in strip}


def _difference(subject: str, a: dict[str, Any], b: dict[str, Any]) -> SplitDifference:
    changed = [k for k in PARAMETERS if a.get(k) != b.get(k)]
    pa, pb = _parts(a), _parts(b)
    sizes_a = {k: (pa.get(k) or {}).get("size") for k in ("train", "test")}
    sizes_b = {k: (pb.get(k) or {}).get("size") for k in ("train", "test")}
    evidence = {"research": {"random_state": a.get("random_state"), "sizes": sizes_a},
                "replay": {"random_state": b.get("random_state"), "sizes": sizes_b}}
    bits = []
    if changed:
        bits.append("called with " + ", ".join(f"{k}={_short(a.get(k))} → {_short(b.get(k))}" for k in changed))
        reason = "parameters"
    elif a.get("n_samples") != b.get("n_samples"):
        bits.append(f"it split {a.get('n_samples')} rows in research, {b.get('n_samples')} now")
        reason = "sizes"
    elif sizes_a != sizes_b:
        bits.append(f"train/test sizes {sizes_a['train']}/{sizes_a['test']} in research, "
                    f"{sizes_b['train']}/{sizes_b['test']} now")
        reason = "sizes"
    elif a.get("random_state") is None and a.get("shuffle") is not False:
        reason = "unseeded"
    else:
        reason = "data"
    moved = rows_moved(pa, pb)
    if moved is not None:
        to_train, to_test = moved
        evidence["moved"] = {"to_train": to_train, "to_test": to_test}
        if to_train or to_test:
            bits.append(f"{to_train + to_test} row(s) moved between train and test "
                        f"({to_test} train → test, {to_train} test → train)")
        else:
            bits.append("the same rows in each part, in another order")
    elif not bits:
        bits.append("the train/test indices differ")
    if reason == "unseeded":
        bits.append("no random_state was passed")
    return SplitDifference(subject, f"{subject} split differently: " + "; ".join(bits) + ".", reason, evidence)


def moved_total(evidence: dict[str, Any] | None) -> int:
    """How many rows a split difference moved between train and test (0 when unknown or none)."""
    moved = (evidence or {}).get("moved") or {}
    return int(moved.get("to_train") or 0) + int(moved.get("to_test") or 0)


def moved_rows_message(name: str, subject: str, moved: int) -> str:
    """What a variable that looks reordered really is under a split that moved rows: other rows."""
    return (f"{name} holds other rows than in research: {subject} moved {moved} row(s) between train and test. "
            "Its values, taken together, are the same as research's (as few distinct values, labels for example, "
            "often are), which is all a row fingerprint can say; they are not the same rows.")


def rows_moved(pa: dict[str, Any], pb: dict[str, Any]) -> tuple[int, int] | None:
    """(research test rows now in train, research train rows now in test), or None without indices."""
    try:
        arrays = {}
        for name, parts in (("a", pa), ("b", pb)):
            for part in ("train", "test"):
                encoded = (parts.get(part) or {}).get("indices")
                if not encoded:
                    return None
                from reprotrack.core.split_indices import decode  # numpy, only when indices are compared

                arrays[name + part] = set(decode(encoded).tolist())
    except Exception:  # noqa: BLE001 - a malformed encoding only costs the count
        return None
    return len(arrays["atest"] & arrays["btrain"]), len(arrays["atrain"] & arrays["btest"])


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"
