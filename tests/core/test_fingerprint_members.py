"""Containers fingerprinted by their members, and the diff naming the member that changed."""

from __future__ import annotations

import types

import numpy as np
import pandas as pd
from lockbuilders import cell, lock
from sklearn.datasets import load_digits
from sklearn.utils import Bunch

from reprotrack.core.diff.causality import compare
from reprotrack.core.diff.data import classify
from reprotrack.core.fingerprint import content_hash, fingerprint, members


class Dataset(dict):
    """statsmodels' ``Dataset``: a dict whose attributes are its keys."""

    def __init__(self, **kw):
        dict.__init__(self, kw)
        self.__dict__ = self


def test_a_bunch_is_fingerprinted_by_its_members():
    digits = load_digits()
    fp = fingerprint(digits)
    assert fp["type"] == "sklearn.utils.Bunch" and fp["shape"] == [len(digits)]
    assert list(fp["members"]) == [".data", ".target", ".target_names", ".images"]  # scalars and lists are not
    assert fp["members"][".target"] == fingerprint(digits.target)
    assert fp["members"][".images"]["shape"] == [1797, 8, 8]
    assert content_hash(digits) == fp["content"]  # members reused for the container's hash: same content
    assert fingerprint(load_digits())["content"] == fp["content"]  # a new object with the same values


def test_dict_subclasses_objects_lists_and_tuples_have_members():
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0]})
    ds = Dataset(data=frame, endog=frame["a"], names=["a"])
    assert list(fingerprint(ds)["members"]) == [".data", ".endog"]
    ns = types.SimpleNamespace(X=np.ones((3, 2)), label="x")
    fp = fingerprint(ns)
    assert fp["type"] == "types.SimpleNamespace" and list(fp["members"]) == [".X"] and fp["content"]
    assert fingerprint(types.SimpleNamespace(X=np.zeros((3, 2)), label="x"))["content"] != fp["content"]
    assert list(fingerprint([frame, frame.iloc[:1]])["members"]) == ["[0]", "[1]"]
    nested = fingerprint({"train": {"X": np.zeros(3), "y": [np.ones(2)]}, "a b": np.arange(2), 3: np.arange(1)})
    assert list(nested["members"]) == [".train.X", ".train.y[0]", "['a b']", "[3]"]
    assert "members" not in fingerprint({"a": 1.0, "b": [1, 2]})  # scalars only: nothing to name
    holder = types.SimpleNamespace(X=np.ones(2), model=object())  # holds something that is not data
    assert fingerprint(holder)["content"] is None


def test_members_are_bounded_in_number_and_depth():
    many = {f"k{i}": np.arange(i + 1) for i in range(members.MAX_MEMBERS + 6)}
    fp = fingerprint(many)
    assert len(fp["members"]) == members.MAX_MEMBERS and fp["members_omitted"] == 6
    deep: object = np.arange(3)
    for _ in range(members.MAX_DEPTH + 1):
        deep = {"x": deep}
    fp = fingerprint({"shallow": np.arange(2), "deep": deep})
    assert list(fp["members"]) == [".shallow"] and fp["members_omitted"] == 1
    again = {"x": np.arange(3)}
    again["self"] = again  # a cycle is walked once
    assert list(fingerprint(again)["members"]) == [".x"]


def test_classify_names_the_member_and_its_cause():
    research = fingerprint(load_digits())

    def changed(**members):
        bunch = load_digits()
        for key, value in members.items():
            bunch[key] = value
        return [(d.member, d.cause) for d in classify(research, fingerprint(bunch))]

    target = load_digits().target
    assert changed(target=target[:-17]) == [(".target", "rows-removed")]
    assert changed(target=target[::-1].copy()) == [(".target", "rows-reordered")]
    nudged = target.astype(float)
    assert (".target", "schema-changed") in changed(target=nudged)
    images = load_digits().images
    assert changed(images=images * (1 + 1e-12))[0] == (".images", "precision")
    edited = images.copy()
    edited[:, 3, 3] += 5
    assert changed(images=edited)[0] == (".images", "values-changed")
    assert changed(extra=np.arange(3)) == [(".extra", "schema-changed")]
    assert changed(DESCR="another text") == [("", "values-changed")]  # no member changed: the whole


def test_the_report_says_which_member_changed_at_the_loading_cell():
    digits, fewer = load_digits(), load_digits()
    fewer.target = fewer.target[:-17]
    research = lock(cell(0, "digits = load_digits()", data={"digits": fingerprint(digits)}))
    replay = lock(cell(0, "digits = load_digits()", data={"digits": fingerprint(fewer)}))
    report = compare(research, replay)
    found = [f for f in report.findings if f.kind == "data"]
    assert [(f.cell_index, f.cause, f.subject) for f in found] == [(0, "rows-removed", "digits.target")]
    assert found[0].message.startswith("digits.target: 17 row(s) removed (1797 → 1780)")
    assert found[0].evidence["research"]["shape"] == [1797]  # the member's own fingerprints as evidence
    checkpoints = compare(lock(checkpoints={"loaded": fingerprint(digits)}),
                          lock(checkpoints={"loaded": fingerprint(fewer)}))
    assert [f.subject for f in checkpoints.findings if f.kind == "data"] == ["checkpoint loaded.target"]


def test_a_bunch_from_sklearn_utils_and_a_plain_dict_with_equal_members_share_member_fingerprints():
    arrays = {"data": np.arange(6.0).reshape(3, 2), "target": np.array([0, 1, 0])}
    assert fingerprint(Bunch(**arrays))["members"] == fingerprint(dict(arrays))["members"]
