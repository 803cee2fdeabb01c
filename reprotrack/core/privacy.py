"""What a lock may hold of the data it describes: the privacy policy applied to labels and text.

A lock travels from research to engineering, into git and CI logs, so by default it holds no raw value that
could identify a person or open a door. Three policies:

* ``values`` -- labels and text verbatim (opt in; what locks held before ``privacy`` existed);
* ``safe`` (default) -- a category label is kept only when it is frequent (at least ``MIN_ROWS`` rows and
  ``MIN_SHARE`` of the column's non-null values) and does not look identifying (an email, a Luhn-valid card
  number, a national id, an IP address, a phone number, a high-entropy token or key); every other label is
  replaced by its keyed hash. Printed text and error messages keep an excerpt in which identifying tokens are
  replaced by ``<email kpbm…>``-style tags (so a changed email still changes the text);
* ``hashed`` -- no label and no text at all: every label is a keyed hash, printed text is reduced to keyed
  hashes (and the numbers it showed, so a metric can still be compared), error messages to a keyed hash.

Keyed hashes (``"h:" + 16 hex``, BLAKE2b keyed by the lock's ``salt``) keep equality: equal labels under one
salt give equal keys, so a replay that uses the research lock's salt still finds new categories and moved
frequencies. Every ``top`` entry under ``safe``/``hashed`` gets a parallel ``top_keys`` list (the key of each
label, kept or withheld), which the diff compares so that a label frequent in one run and rare in the other
is still recognised. The salt is stored in the lock: a keyed hash hides a value from a reader who does not
guess it, not from one who can enumerate candidates (short numeric ids); ``hashed`` is not anonymisation.

Pure: no I/O, no IPython; ``new_salt`` is the only source of randomness.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import math
import re
import secrets
from collections import Counter
from functools import lru_cache
from typing import Any

from reprotrack.errors import UsageError

POLICIES = ("values", "safe", "hashed")
DEFAULT_POLICY = "safe"
#: A category label is stored under ``safe`` only when it has at least this many rows …
MIN_ROWS = 10
#: … and at least this share of the column's non-null values.
MIN_SHARE = 0.01
KEY_PREFIX = "h:"
#: The message fragment reports use when labels are hashes.
WITHHELD = "labels withheld by the privacy policy"


def new_salt() -> str:
    """A fresh salt for a research run (32 hex characters)."""
    return secrets.token_hex(16)


def keyed(value: Any, salt: str) -> str:
    """``h:`` + 16 hex characters of a BLAKE2b hash of ``value`` keyed by ``salt``: ``1`` and ``"1"`` differ."""
    text = f"{type(value).__name__ if not isinstance(value, str) else 'str'}:{value}"
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8,
                             key=salt.encode("utf-8")[:64]).hexdigest()
    return KEY_PREFIX + digest


def is_key(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 18 and value.startswith(KEY_PREFIX)


# -- what identifies a person or opens a door -----------------------------------------------------------
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_CARD = re.compile(r"(?<![\w.])\d(?:[ -]?\d){12,18}(?![\w.])")
_NATIONAL_IDS = (
    re.compile(r"(?<!\d)\d{3}-\d{2}-\d{4}(?!\d)"),  # US social security number
    re.compile(r"\b[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b"),  # UK national insurance
    re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b"),  # IBAN
    re.compile(r"(?<!\d)[12]\d{2}(?:0[1-9]|1[0-2])\d{2}\d{3}\d{3}\d{2}(?!\d)"),  # French NIR (15 digits)
)
_IPV4 = re.compile(r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?![\d.])")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")
_PHONE = re.compile(r"(?<![\w+])(?:\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,4}){1,4}"
                    r"|\(\d{2,4}\)[ .-]?\d{3,4}[ .-]?\d{3,4}|\d{3}[-.]\d{3}[-.]\d{4})(?![\w])")
_KEY_PREFIXES = re.compile(r"\b(?:sk|pk|rk)[-_](?:live|test|proj)?[-_]?[A-Za-z0-9]{12,}|\bAKIA[0-9A-Z]{16}\b|"
                           r"\bgh[pousr]_[A-Za-z0-9]{20,}|\bxox[abprs]-[A-Za-z0-9-]{10,}|\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_.-]+")
_TOKEN = re.compile(r"[A-Za-z0-9+/=_\-]{20,}")


def _luhn(digits: str) -> bool:
    total, double = 0, False
    for ch in reversed(digits):
        d = ord(ch) - 48
        if double:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
        double = not double
    return total % 10 == 0


def _is_card(text: str) -> bool:
    digits = re.sub(r"[ -]", "", text)
    return 13 <= len(digits) <= 19 and digits.isdigit() and _luhn(digits) and len(set(digits)) > 1


def _is_phone(text: str) -> bool:
    digits = sum(ch.isdigit() for ch in text)
    return 7 <= digits <= 15 and (text.startswith("+") or "(" in text or re.search(r"[ .-]", text) is not None)


#: Names made of words (``RandomForestClassifier``, ``HistGradientBoosting``, ``train_test_split``): code, not keys.
_WORDS = re.compile(r"(?:[A-Z]?[a-z]{2,}|[A-Z]{2,}(?=[A-Z][a-z]|_|$)|_)+")


def _entropy(text: str) -> float:
    counts = Counter(text)
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def _is_token(text: str) -> bool:
    """A secret-looking word: long, mixed character classes, close to random (a key, a session id, a hash)."""
    if len(text) < 20 or not _TOKEN.fullmatch(text) or _WORDS.fullmatch(text):
        return False
    classes = sum(bool(re.search(p, text)) for p in (r"[a-z]", r"[A-Z]", r"\d"))
    return classes >= 2 and _entropy(text) >= 3.5


def _is_ipv6(text: str) -> bool:
    # a clock time (12:30:45) has two colons and no "::": a real address has five or more, or "::"
    return (("::" in text or text.count(":") >= 5) and any(ch not in ":" for ch in text)
            and _IPV6.fullmatch(text) is not None)


def identifying(label: Any) -> str | None:
    """What kind of identifying value ``label`` looks like (``email``, ``card``, ``national-id``, ``ip``,
    ``phone``, ``token``), or None. Numbers are checked by their digits (a card number stored as an int)."""
    if isinstance(label, bool) or label is None:
        return None
    if isinstance(label, int):
        text = str(label)
    elif isinstance(label, str):
        text = label.strip()
    else:
        return None
    if not text or len(text) > 200:
        return "token" if len(text) > 200 else None
    digits = sum(ch.isdigit() for ch in text)  # each shape needs so many digits: most labels skip every regex
    if "@" in text and _EMAIL.search(text):
        return "email"
    if digits >= 13 and _CARD.fullmatch(text) and _is_card(text):
        return "card"
    if digits >= 6 and not _DATETIME.fullmatch(text) and any(p.fullmatch(text) for p in _NATIONAL_IDS):
        return "national-id"
    if (text.count(".") == 3 and _IPV4.fullmatch(text)) or (":" in text and _is_ipv6(text)):
        return "ip"
    if digits >= 7 and _PHONE.fullmatch(text) and _is_phone(text):
        return "phone"
    if len(text) >= 16 and (_KEY_PREFIXES.search(text) or _is_token(text)):
        return "token"
    return None


#: Dates and times printed by a cell are not identifying (and are the commonest long digit runs).
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}(?::\d{2}(?::\d{2}(?:\.\d+)?)?)?)?|\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?")


# -- fingerprints --------------------------------------------------------------------------------------
def check_policy(policy: Any) -> str:
    if policy not in POLICIES:
        raise UsageError(f"privacy must be one of {', '.join(POLICIES)}, not {policy!r}")
    return policy


def protect(fp: dict, policy: str, salt: str) -> dict:
    """A copy of fingerprint ``fp`` with its labels treated by ``policy`` (see the module docstring).
    ``values`` returns an unchanged copy; labels already keyed are left as they are (idempotent)."""
    check_policy(policy)
    out = plain_copy(fp)
    if policy == "values" or not isinstance(out, dict):
        return out
    _walk(out, policy, salt)
    return out


def plain_copy(value: Any) -> Any:
    """A deep copy of JSON-like data (dicts, lists, tuples of scalars): what a fingerprint is made of, copied
    ~5x faster than ``copy.deepcopy`` (which every tracked cell paid per recorded value). Anything else is
    deep-copied the general way."""
    cls = type(value)
    if cls is dict:
        return {k: plain_copy(v) for k, v in value.items()}
    if cls is list:
        return [plain_copy(v) for v in value]
    if value is None or cls in (str, int, float, bool):
        return value
    if cls is tuple:
        return tuple(plain_copy(v) for v in value)
    return copy.deepcopy(value)


def _walk(fp: dict[str, Any], policy: str, salt: str) -> None:
    stats = fp.get("stats")
    if isinstance(stats, list):
        for entry in stats:
            if isinstance(entry, dict):
                _protect_top(entry, policy, salt)
    elif isinstance(stats, dict):
        _protect_top(stats, policy, salt)
    schema = fp.get("schema")
    if isinstance(schema, dict) and isinstance(schema.get("keys"), list):  # names, kept unless identifying
        schema["keys"] = [_protect_label(k, policy, salt, frequent=True) for k in schema["keys"]]
    approx = fp.get("approx")
    if isinstance(approx, dict) and isinstance(approx.get("positions"), list) and any(
            isinstance(p, str) for p in approx["positions"]):  # a container's leaf paths name its keys
        approx["positions"] = [_protect_path(p, policy, salt) if isinstance(p, str) else p
                               for p in approx["positions"]]
    for value in fp.values():  # estimators and containers nest fingerprints
        if isinstance(value, dict) and ("stats" in value or "schema" in value) and value is not schema:
            _walk(value, policy, salt)


def _protect_top(entry: dict[str, Any], policy: str, salt: str) -> None:
    top = entry.get("top")
    if not isinstance(top, list):
        return
    count = entry.get("count")
    total = count if isinstance(count, int) and not isinstance(count, bool) else sum(
        c for _, c in _pairs(top))
    kept, keys = [], []
    for item in top:
        if not (isinstance(item, list) and len(item) == 2):
            kept.append(item)
            keys.append(None)
            continue
        value, rows = item
        if is_key(value):
            kept.append(item)
            keys.append(value)
            continue
        frequent = isinstance(rows, int) and rows >= MIN_ROWS and rows >= MIN_SHARE * max(total, 0)
        keys.append(keyed(value, salt) if value is not None else None)
        kept.append([_protect_label(value, policy, salt, frequent), rows])
    entry["top"] = kept
    if "top_keys" not in entry or not isinstance(entry.get("top_keys"), list):
        entry["top_keys"] = keys


def _pairs(top: list[Any]):
    for item in top:
        if isinstance(item, list) and len(item) == 2 and isinstance(item[1], int):
            yield item[0], item[1]


def _protect_label(value: Any, policy: str, salt: str, frequent: bool) -> Any:
    if value is None or isinstance(value, bool) or is_key(value):
        return value
    if policy == "safe" and frequent and identifying(value) is None:
        return value
    return keyed(value, salt)


def _protect_path(path: str, policy: str, salt: str) -> str:
    """A container's leaf path (``alice@example.com[2]``): keyed whole (hashed), identifying parts tagged (safe)."""
    return keyed(path, salt) if policy == "hashed" else redact_identifying(path, salt)


def under(fp: Any, privacy: dict[str, Any] | None, own: dict[str, Any] | None = None) -> Any:
    """``fp`` -- a fresh fingerprint, or one from another lock whose privacy is ``own`` -- with its labels
    keyed as the lock of ``privacy`` keys them, so that the two compare label by label.

    A fresh fingerprint (``own`` None) or one written under ``values`` is simply protected under ``privacy``.
    One written under another salt keeps its plain labels (re-keyed with ``privacy``'s salt, withheld as its
    policy says); a label the other lock already withheld cannot be re-keyed, so it is left out of ``top`` and
    the entry says how many rows it held (``labels_dropped``): the diff then finds new categories among the
    labels both can read and does not compare frequencies it cannot see."""
    if not isinstance(fp, dict) or _keyed_alike(privacy, own):
        return fp
    policy = (privacy or {}).get("policy") or "values"
    own_policy = (own or {}).get("policy") or "values"
    salt = str((privacy or {}).get("salt") or "")
    out = plain_copy(fp)
    if own_policy != "values":  # labels compare by text (research keeps values) or are re-keyed below
        _drop_foreign_keys(out)
    if policy != "values":
        _walk(out, policy, salt)
    return out


def lock_under(other: Any, privacy: dict[str, Any] | None) -> Any:
    """A copy of lock ``other`` whose cells' data and checkpoints are keyed as ``privacy`` keys them
    (``under``): two locks recorded with different salts -- two research runs, a production run -- compare
    label by label. ``other`` itself when nothing needs re-keying."""
    own = getattr(other, "privacy", None)
    if _keyed_alike(privacy, own):
        return other
    cells = [dataclasses.replace(c, data={k: under(v, privacy, own or {"policy": "values"}) for k, v in c.data.items()})
             for c in other.cells]
    checkpoints = {k: under(v, privacy, own or {"policy": "values"}) for k, v in other.checkpoints.items()}
    return dataclasses.replace(other, cells=cells, checkpoints=checkpoints)


def _keyed_alike(privacy: dict[str, Any] | None, own: dict[str, Any] | None) -> bool:
    """Whether labels written under ``own`` already compare with those of ``privacy``: both keep values, or
    both key them with one salt."""
    policy = (privacy or {}).get("policy") or "values"
    own_policy = (own or {}).get("policy") or "values"
    if policy == "values" or own_policy == "values":
        return policy == own_policy
    return str((own or {}).get("salt") or "") == str((privacy or {}).get("salt") or "")


def _drop_foreign_keys(fp: dict[str, Any]) -> None:
    stats = fp.get("stats")
    for entry in stats if isinstance(stats, list) else [stats] if isinstance(stats, dict) else []:
        if isinstance(entry, dict) and isinstance(entry.get("top"), list):
            entry.pop("top_keys", None)
            foreign = [item for item in entry["top"] if isinstance(item, list) and len(item) == 2 and is_key(item[0])]
            if foreign:
                entry["top"] = [item for item in entry["top"] if item not in foreign]
                entry["labels_dropped"] = sum(int(n) for _, n in foreign if isinstance(n, int))
    for key, value in fp.items():
        if isinstance(value, dict) and ("stats" in value or "schema" in value) and key != "schema":
            _drop_foreign_keys(value)


def top_keys(entry: dict[str, Any]) -> list[str]:
    """The comparable identity of each ``top`` label: its key when the lock has them, else the label's text."""
    keys = entry.get("top_keys")
    top = entry.get("top") or []
    if isinstance(keys, list) and len(keys) == len(top):
        return [str(k) if k is not None else str(item[0]) for k, item in zip(keys, top)]
    return [str(item[0]) for item in top]


# -- printed text and error messages -------------------------------------------------------------------
_TEXT_PATTERNS = (
    ("email", _EMAIL, None),
    ("token", _KEY_PREFIXES, None),
    ("national-id", _NATIONAL_IDS[0], None),
    ("national-id", _NATIONAL_IDS[1], None),
    ("national-id", _NATIONAL_IDS[2], None),
    ("card", _CARD, _is_card),
    ("ip", _IPV4, None),
    ("ip", _IPV6, _is_ipv6),
    ("phone", _PHONE, _is_phone),
    ("token", re.compile(r"(?<![A-Za-z0-9+/=_\-])[A-Za-z0-9+/=_\-]{20,}(?![A-Za-z0-9+/=_\-])"), _is_token),
)


#: Tags in text spell their key with letters: digits would be read as numbers printed by the cell.
_LETTERS = str.maketrans("0123456789abcdef", "abcdefghijklmnop")

#: One pass over printed text finds the *shapes* an identifying value can have (a run of digits with
#: separators, an address, a long word, an IPv6 address, a spaced IBAN or NI number); each candidate is then
#: judged (``identifying``), and a long digit run that is not one value as a whole is searched piecewise.
#: Ten patterns run one after another over 64 KB of output cost more than normalising it.
_DIGIT_RUN = r"\+?\(?\d[\d ().:-]{5,}\d"
_LONG_WORD = r"[A-Za-z0-9+/=_\-]{20,}"
_IPV6_SHAPE = r"[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{0,4}){2,7}"
_SPACED_ID = r"\b[A-Z]{2} ?\d{2}(?: ?[A-Z0-9]{1,4}){2,8}\b"
_EMAIL_SHAPE = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
_UPPER_DIGITS = re.compile(r"[A-Z]{2} ?\d{2}")


@lru_cache(maxsize=8)
def _candidates(email: bool, ipv6: bool, spaced: bool) -> re.Pattern[str]:
    """The shapes worth scanning for in a text: a shape whose telltale is absent costs nothing."""
    parts = [_EMAIL_SHAPE] * email + [_DIGIT_RUN, _LONG_WORD] + [_IPV6_SHAPE] * ipv6 + [_SPACED_ID] * spaced
    return re.compile("|".join(parts))


def redact_identifying(text: str, salt: str) -> str:
    """``text`` with each identifying token replaced by ``<kind …>`` (its keyed hash spelt in letters, so a
    changed email still changes the text, and no digit of it is taken for a printed number)."""
    pattern = _candidates("@" in text, "::" in text or text.count(":") >= 5,
                          _UPPER_DIGITS.search(text) is not None)

    def judge(match: re.Match[str]) -> str:
        found = match.group(0)
        core = found.strip(" .:-()")
        if _DATETIME.fullmatch(core):  # the commonest long digit run in printed output
            return found
        kind = identifying(core)
        if kind is not None:
            return f"<{kind} {_tag(found, salt)}>"
        if sum(ch.isdigit() for ch in found) >= 7:
            return _piecewise(found, salt)  # "4111 1111 1111 1111 2020": the value inside a longer run
        return found

    return pattern.sub(judge, text)


def _tag(found: str, salt: str) -> str:
    return keyed(found, salt)[2:].translate(_LETTERS)


def _piecewise(text: str, salt: str) -> str:
    for kind, pattern, accept in _TEXT_PATTERNS:
        def tag(match: re.Match[str], kind: str = kind, accept: Any = accept) -> str:
            found = match.group(0)
            if found.startswith("<") or (accept is not None and not accept(found)):
                return found
            return f"<{kind} {_tag(found, salt)}>"
        text = pattern.sub(tag, text)
    return text


def protect_text_summary(summary: dict[str, Any], policy: str, salt: str) -> dict[str, Any]:
    """A printed-text summary (``reprotrack.core.noise.rules.summarise_text``) under ``policy``. The caller
    summarises text already passed through ``redact_identifying`` under ``safe``/``hashed``; here ``hashed``
    drops the excerpt and keys the hashes (equal text → equal keys; the numbers stay for tolerant metrics)."""
    check_policy(policy)
    out = dict(summary)
    if policy != "hashed":
        return out
    out["text"] = ""
    out["text_withheld"] = True
    for key in ("sha256", "masked_sha256"):
        if isinstance(out.get(key), str) and not is_key(out[key]):
            out[key] = keyed(out[key], salt)
    return out


def protect_message(message: str, policy: str, salt: str) -> str:
    """An exception message: verbatim (``values``), identifying tokens tagged (``safe``), a keyed hash (``hashed``)."""
    check_policy(policy)
    if policy == "values" or not isinstance(message, str):
        return message
    if policy == "hashed":
        return keyed(message, salt) if message and not is_key(message) else message
    return redact_identifying(message, salt)
