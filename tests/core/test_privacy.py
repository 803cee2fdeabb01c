"""The privacy policy in the pure core: which labels a fingerprint keeps, keyed hashes that still compare, and
the diff finding new categories whatever the policy."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from reprotrack.core.diff.data import classify
from reprotrack.core.fingerprint import fingerprint
from reprotrack.core.privacy import identifying, keyed, protect, protect_message, protect_text_summary, redact_identifying
from reprotrack.errors import UsageError

SALT = "0123456789abcdef"


def _customers(n: int = 2000, extra: list[str] | None = None) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    city = rng.choice(["Paris", "Lyon", "Nantes"], size=n).tolist()
    rare = ["Brest"] * 5  # 5 rows: under MIN_ROWS
    email = [f"user{i % 5}@example.com" for i in range(n + 5)]  # frequent, but identifying
    return pd.DataFrame({"city": city + rare + (extra or []),
                         "email": email + [f"x{i}@example.org" for i in range(len(extra or []))],
                         "amount": rng.normal(size=n + 5 + len(extra or []))})


def _top(fp: dict, column: str) -> list:
    return next(s for s in fp["stats"] if s["name"] == column)["top"]


@pytest.mark.parametrize("value, kind", [
    ("alice@example.com", "email"), ("4111 1111 1111 1111", "card"), (4111111111111111, "card"),
    ("123-45-6789", "national-id"), ("GB82WEST12345698765432", "national-id"), ("10.0.0.1", "ip"),
    ("2001:db8::1", "ip"), ("+33 6 12 34 56 78", "phone"), ("(415) 555-0100", "phone"),
    ("sk_live_4eC39HqLyjWDarjtT1zdp7dc", "token"), ("a8F3kL9pQ2zX7mN4vB6cW1", "token"),
])
def test_identifying_values_are_recognised(value, kind):
    assert identifying(value) == kind


@pytest.mark.parametrize("value", ["Paris", "New York City", "2024-01-15", "12:30:45", "12.34", 42,
                                   "4111 1111 1111 1112", "customer_segment", None, True])
def test_ordinary_labels_are_not_identifying(value):
    assert identifying(value) is None  # the last card number fails Luhn


def test_safe_keeps_only_frequent_non_identifying_labels():
    fp = fingerprint(_customers())
    safe = protect(fp, "safe", SALT)
    assert fp == fingerprint(_customers())  # protect works on a copy
    cities = dict((k, c) for k, c in _top(safe, "city"))
    assert {"Paris", "Lyon", "Nantes"} <= set(cities)
    assert "Brest" not in cities and keyed("Brest", SALT) in cities  # 5 rows: withheld, counted
    text = json.dumps(safe)
    assert "@example.com" not in text and "user1" not in text
    assert all(label.startswith("h:") for label, _ in _top(safe, "email"))


def test_hashed_keeps_no_label_and_values_keeps_all():
    fp = fingerprint(_customers())
    hashed = protect(fp, "hashed", SALT)
    assert all(label.startswith("h:") and len(label) == 18 for label, _ in _top(hashed, "city"))
    assert "Paris" not in json.dumps(hashed)
    assert protect(fp, "values", SALT) == fp
    assert protect(hashed, "hashed", SALT) == hashed  # idempotent
    # equal labels, equal keys under one salt; another salt, other keys
    assert _top(protect(fp, "hashed", "other"), "city") != _top(hashed, "city")
    assert [c for _, c in _top(hashed, "city")] == [c for _, c in _top(fp, "city")]


def test_dict_keys_and_leaf_paths_of_containers_are_protected():
    fp = fingerprint({"alice@example.com": 1.5, "score": 0.9})
    safe = json.dumps(protect(fp, "safe", SALT))
    assert "alice@example.com" not in safe and "score" in safe
    assert "score" not in json.dumps(protect(fp, "hashed", SALT)["schema"])


def test_a_wrong_policy_is_a_usage_error():
    with pytest.raises(UsageError, match="values, safe, hashed"):
        protect({}, "open", SALT)


@pytest.mark.parametrize("policy", ["values", "safe", "hashed"])
def test_new_categories_are_found_under_every_policy(policy):
    research = protect(fingerprint(_customers()), policy, SALT)
    replay = protect(fingerprint(_customers(extra=["Nice"] * 300 + ["Rennes"] * 300 + ["Metz"] * 300)), policy, SALT)
    found = [d for d in classify(research, replay, rtol=1e-9, atol=0.0) if d.cause == "new-categories"]
    assert found, policy
    message = found[0].message
    if policy == "hashed":
        assert "3 new categories (labels withheld by the privacy policy)" in message
        assert "Nice" not in message
    else:  # frequent and not identifying: the labels are named
        assert "Nice" in message and "Metz" in message


def test_a_label_frequent_in_one_run_and_withheld_in_the_other_is_not_new():
    base = _customers()
    research = protect(fingerprint(base), "safe", SALT)  # Brest: 5 rows, withheld
    more = pd.concat([base, base[base.city == "Brest"].iloc[[0] * 1]] * 1 + [base[base.city == "Brest"]] * 4)
    replay = protect(fingerprint(more), "safe", SALT)  # Brest: 30 rows, kept
    assert "Brest" in dict((k, c) for k, c in _top(replay, "city"))
    causes = [d.cause for d in classify(research, replay, rtol=1e-9, atol=0.0)]
    assert "new-categories" not in causes


def test_two_locks_with_their_own_salts_compare_label_by_label():
    """Two research runs, or a production run against research: each lock has its own salt. Plain labels are
    re-keyed with the research salt; a label the other lock withheld cannot be, so it is left out and its
    frequencies are not compared -- no false new category, no false shift, and a real new one is still found."""
    from reprotrack.core.privacy import under

    research = protect(fingerprint(_customers()), "safe", SALT)
    other = {"policy": "safe", "salt": "fedcba9876543210"}
    same = protect(fingerprint(_customers()), "safe", other["salt"])
    causes = [d.cause for d in classify(research, under(same, {"policy": "safe", "salt": SALT}, other),
                                        rtol=1e-9, atol=0.0)]
    assert "new-categories" not in causes and "distribution-shift" not in causes
    grown = protect(fingerprint(_customers(extra=["Nice"] * 300)), "safe", other["salt"])
    found = [d for d in classify(research, under(grown, {"policy": "safe", "salt": SALT}, other),
                                 rtol=1e-9, atol=0.0) if d.cause == "new-categories"]
    assert found and "Nice" in found[0].message and "Brest" not in found[0].message
    raw = [d.message for d in classify(research, grown, rtol=1e-9, atol=0.0) if d.cause == "new-categories"]
    assert raw and "withheld" in raw[0]  # compared raw, another salt's keys look like new labels
    fresh = under(fingerprint(_customers()), {"policy": "safe", "salt": SALT})  # a fingerprint made just now
    assert fresh == research
    # research kept values, production the default policy: labels compare by their text
    plain = fingerprint(_customers())
    found = [d for d in classify(plain, under(grown, {"policy": "values"}, other), rtol=1e-9, atol=0.0)
             if d.cause == "new-categories"]
    assert found and "Nice" in found[0].message and "Paris" not in found[0].message


def test_printed_text_and_messages_under_each_policy():
    text = "sent to alice@example.com with card 4111-1111-1111-1111 from 10.0.0.1: accuracy 0.93"
    safe = redact_identifying(text, SALT)
    assert "alice" not in safe and "4111" not in safe and "10.0.0.1" not in safe
    assert "accuracy 0.93" in safe and "<email " in safe and not any(ch.isdigit() for ch in safe.split("<email ")[1][:16])
    assert redact_identifying(text.replace("alice", "bob"), SALT) != safe  # a changed address still shows
    summary = {"text": safe, "sha256": "ab" * 32, "masked_sha256": "cd" * 32, "numbers": [0.93], "chars": len(safe)}
    hidden = protect_text_summary(summary, "hashed", SALT)
    assert hidden["text"] == "" and hidden["text_withheld"] and hidden["sha256"].startswith("h:")
    assert hidden["numbers"] == [0.93]  # a metric is still compared
    assert protect_message("no user bob@example.com", "safe", SALT).startswith("no user <email ")
    assert protect_message("no user bob@example.com", "hashed", SALT).startswith("h:")
    assert protect_message("no user bob@example.com", "values", SALT) == "no user bob@example.com"
