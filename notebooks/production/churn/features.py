"""Feature engineering, restructured from the research notebook's features cell.

``build_features`` is the research logic. ``build_features_v2`` is the "tidied" rewrite engineering shipped,
with one deliberate drift: missing monthly charges are filled with 0 instead of the median -- the kind of
change that passes every unit test and moves the model. ``reprotrack check`` finds it at the ``features``
checkpoint, in column ``monthly_charges``.
"""

from __future__ import annotations

import pandas as pd

CONTRACTS = ["month-to-month", "one-year", "two-year"]


def build_features(raw: pd.DataFrame) -> pd.DataFrame:
    charges = raw["monthly_charges"].fillna(raw["monthly_charges"].median())
    return _assemble(raw, charges)


def build_features_v2(raw: pd.DataFrame) -> pd.DataFrame:
    charges = raw["monthly_charges"].fillna(0.0)  # the drift: research filled with the median
    return _assemble(raw, charges)


def _assemble(raw: pd.DataFrame, charges: pd.Series) -> pd.DataFrame:
    features = pd.DataFrame({
        "tenure_months": raw["tenure_months"].astype("float64"),
        "monthly_charges": charges,
        "calls_per_year": raw["support_calls"] * 12 / raw["tenure_months"],
    })
    for contract in CONTRACTS:
        features[f"contract_{contract}"] = (raw["contract"] == contract).astype("int64")
    return features
