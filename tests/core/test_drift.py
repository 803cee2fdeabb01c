"""The generated drift suite: research statistics from a real fingerprint, new samples with known changes.

Each scenario changes one thing (mean, scale, a growing tail, a category that appears or vanishes, a rising
null rate, a dropped column) and must flag exactly the changed column with the right cause; fresh samples
from the research distribution, at several sizes and many seeds, must not flag the data set. The measured
false-alarm rates are asserted with margins (the per-column rate of a p < 0.05 test is ~5% by design).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from reprotrack.core.drift import (
    DriftOptions,
    Thresholds,
    drift_report,
    merge,
    plan_of,
    profile,
)
from reprotrack.core.drift.measures import js_distance, ks_bound, psi
from reprotrack.core.drift.plan import collapse_ties, mid_distribution
from reprotrack.core.fingerprint import fingerprint
from reprotrack.core.fingerprint.cdf import GRID_STEPS

RESEARCH_ROWS = 40_000
CATS = ["north", "south", "east", "west", "centre"]
SHARES = [0.35, 0.25, 0.2, 0.15, 0.05]


def population(n: int, seed: int, *, mean=0.0, scale=1.0, tail=0.0, new_cat=0.0, drop_cat=None,
               nulls=0.02) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    amount = rng.lognormal(3.0, 0.5, n)
    if tail:
        grow = rng.random(n) < tail
        amount[grow] = amount[grow] * rng.uniform(3, 6, grow.sum())
    income = rng.normal(50 + mean * 10, 10 * scale, n)
    income[rng.random(n) < nulls] = np.nan
    shares = np.array(SHARES)
    cats = list(CATS)
    if drop_cat is not None:
        shares[cats.index(drop_cat)] = 0
        shares = shares / shares.sum()
    region = rng.choice(cats, n, p=shares).astype(object)
    if new_cat:
        region[rng.random(n) < new_cat] = "islands"
    return pd.DataFrame({"income": income, "amount": amount, "region": region,
                         "visits": rng.poisson(3, n), "member": rng.random(n) < 0.4})


@pytest.fixture(scope="module")
def research():
    return fingerprint(population(RESEARCH_ROWS, 0))


def check(research, frame, **limits):
    plans = plan_of(research)
    options = DriftOptions(defaults=Thresholds(**limits)) if limits else DriftOptions()
    return drift_report(research, profile(frame, plans), "features", options, plans)


def flagged(report) -> dict:
    return {c.name: sorted(c.causes) for c in report.columns if c.drifted}


SEEDS = range(11, 16)


@pytest.mark.parametrize("n", [300, 5000])
@pytest.mark.parametrize("change,column,cause", [
    (dict(mean=0.5), "income", "distribution-shift"),
    (dict(scale=1.6), "income", "distribution-shift"),
    (dict(tail=0.15), "amount", "distribution-shift"),
    (dict(new_cat=0.08), "region", "new-categories"),
    (dict(drop_cat="east"), "region", "rare-categories"),
    (dict(nulls=0.25), "income", "null-rate"),
])
def test_one_change_flags_its_column(research, n, change, column, cause):
    reports = [check(research, population(n, seed, **change)) for seed in SEEDS]
    for report in reports:
        assert cause in flagged(report).get(column, []), flagged(report)
        assert any(f.cause == cause and f.subject == column and f.kind == "drift" for f in report.findings)
    # the other columns are fresh samples: a p < 0.05 test alarms ~5% of them by chance on small data
    others = sum(1 for r in reports for name in flagged(r) if name != column)
    assert others <= (2 if n <= 1000 else 0), [flagged(r) for r in reports]


def test_a_growing_tail_is_out_of_range(research):
    frame = population(5000, 3)
    frame.loc[:600, "income"] = 200.0  # far beyond the research max
    report = check(research, frame)
    assert flagged(report)["income"] == ["distribution-shift", "out-of-range"]
    income = next(c for c in report.columns if c.name == "income")
    assert income.measures["above_max"] >= 601 and income.measures["out_of_range"] > 0.12  # of the non-null values


def test_a_dropped_column_is_missing_and_the_data_set_drifts(research):
    report = check(research, population(2000, 5).drop(columns=["visits"]))
    assert report.status == "drift" and report.summary["missing"] == ["visits"]
    assert flagged(report) == {"visits": ["missing-column"]}


def test_a_new_column_and_a_dtype_change_are_schema_findings(research):
    frame = population(2000, 5)
    frame["extra"] = 1
    frame["visits"] = frame["visits"].astype("float64")
    frame["income"] = frame["income"].astype(str)
    report = check(research, frame)
    causes = {(f.kind, f.cause, f.subject, f.severity) for f in report.findings}
    assert ("data", "schema-changed", "extra", "warning") in causes
    assert ("data", "schema-changed", "income", "error") in causes  # numbers became text: cannot be tested
    visits = next(c for c in report.columns if c.name == "visits")
    assert not visits.drifted and "int64 became float64" in visits.note


def test_dataset_verdict_follows_the_share_and_required_columns(research):
    frame = population(3000, 9, mean=0.6)  # only income drifts: 1 of 5 columns
    assert check(research, frame).status == "no-drift"
    assert check(research, frame, required=True).status == "drift"
    plans = plan_of(research)
    options = DriftOptions(dataset_share=0.2)
    assert drift_report(research, profile(frame, plans), "f", options, plans).status == "drift"


@pytest.mark.parametrize("n", [100, 1000, 10_000])
def test_no_false_drift_on_fresh_samples(research, n):
    seeds = range(1, 41)
    reports = [check(research, population(n, seed)) for seed in seeds]
    dataset_alarms = sum(r.status == "drift" for r in reports)
    column_alarms = sum(c.drifted for r in reports for c in r.columns)
    columns = sum(len(r.columns) for r in reports)
    assert dataset_alarms == 0
    # p < 0.05 tests alarm ~5% of columns by design at small sizes; distances above 1,000 rows almost never
    assert column_alarms / columns <= (0.10 if n <= 1000 else 0.01), column_alarms


def test_profiles_merge_to_the_whole(research):
    frame = population(9000, 4, new_cat=0.05)
    plans = plan_of(research)
    whole = profile(frame, plans)
    parts = [profile(frame.iloc[a:a + 2500], plans) for a in range(0, 9000, 2500)]
    merged = merge(merge(parts[3], parts[1], plans), merge(parts[0], parts[2], plans), plans)
    assert json.loads(json.dumps(merged, sort_keys=True)) == json.loads(json.dumps(whole, sort_keys=True))


def test_old_locks_without_the_grid_still_test_coarsely(research):
    old = json.loads(json.dumps(research))
    for s in old["stats"]:
        s.pop("cdf_grid", None)
    report = check(old, population(3000, 2, mean=0.6))
    assert flagged(report) == {"income": ["distribution-shift"]}
    assert any("seven quantiles" in n for n in report.notes)
    assert check(old, population(3000, 2)).status == "no-drift"


def test_withheld_labels_stay_in_other_and_are_never_called_new(research):
    """A lock that lists only some labels (a privacy policy keeps the frequent ones): unnamed labels are one
    'other' group, so a label missing from the list cannot be called new."""
    safe = json.loads(json.dumps(research))
    region = next(s for s in safe["stats"] if s["name"] == "region")
    region["top"] = [t for t in region["top"] if t[0] != "centre"]  # counts still known: 5% is "other"
    report = check(safe, population(3000, 6))
    assert report.status == "no-drift" and not flagged(report)
    assert any("only some labels" in n for n in report.notes)
    grown = population(3000, 6)
    grown.loc[:900, "region"] = "centre"  # the withheld label grows from 5% to ~33%: "other" moves
    got = flagged(check(safe, grown))
    assert got == {"region": ["distribution-shift"]}


def test_hashed_labels_compare_by_hash_and_the_report_says_so(research):
    def h(label):
        return "h:" + format(abs(hash(("salt", label))) % (1 << 64), "016x")

    hashed = json.loads(json.dumps(research))
    region = next(s for s in hashed["stats"] if s["name"] == "region")
    region["top"] = [[h(label), count] for label, count in region["top"]]
    frame = population(3000, 8, drop_cat="east")
    frame["region"] = frame["region"].map(h)  # what protect() does to the new data's labels before comparing
    report = check(hashed, frame)
    assert flagged(report) == {"region": ["distribution-shift", "rare-categories"]}
    assert any("keyed hashes" in n for n in report.notes)
    assert next(c for c in report.columns if c.name == "region").measures["vanished"] == [h("east")]


def test_the_grid_is_bounded_and_exact_for_small_data():
    fp = fingerprint(pd.DataFrame({"x": np.arange(1000.0)}))
    grid = fp["stats"][0]["cdf_grid"]
    assert len(grid) == GRID_STEPS + 1 and grid[0] == 0.0 and grid[-1] == 999.0
    assert len(json.dumps(grid)) < 1024
    big = fingerprint(pd.DataFrame({"x": np.random.default_rng(0).normal(size=200_000) * 1e300}))
    assert len(json.dumps(big["stats"][0]["cdf_grid"])) <= 1100  # 41 floats of at most 24 characters


def test_measures_on_known_values():
    assert psi([0.5, 0.5], [0.5, 0.5]) == 0.0
    assert psi([0.5, 0.5], [0.9, 0.1]) == pytest.approx(0.4 * np.log(0.9 / 0.5) - 0.4 * np.log(0.1 / 0.5))
    assert js_distance([1, 0], [0, 1]) == pytest.approx(np.sqrt(np.log(2)))
    lower, upper = ks_bound(np.array([0.25, 0.5, 0.75, 1.0]), np.array([0.5, 0.5, 0.75, 1.0]))
    assert lower == 0.25 and 0.25 <= upper <= 0.5
    points, cdf, _ = collapse_ties([0, 1, 1, 1, 2], [0, 0.25, 0.5, 0.75, 1.0])
    assert points == [0, 1, 2] and cdf == [0, 0.875, 1.0]
    points, mid, err = mid_distribution([0, 1, 1, 1, 2], [0, 0.25, 0.5, 0.75, 1.0])
    assert points == [0, 1, 2] and mid == [0.0625, 0.5, 0.9375] and err == [0.0625, 0.125, 0.0625]
