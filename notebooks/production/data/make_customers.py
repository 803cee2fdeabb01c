"""Writes customers.csv, the small generated data set of the hand-off example (run once; the CSV is committed)."""

from pathlib import Path

import numpy as np
import pandas as pd

rng = np.random.default_rng(2024)
n = 240
tenure = rng.integers(1, 72, n)
contract = rng.choice(["month-to-month", "one-year", "two-year"], n, p=[0.55, 0.25, 0.2])
charges = np.round(rng.normal(65, 20, n).clip(18, 120), 2)
charges[rng.choice(n, 18, replace=False)] = np.nan  # the billing export misses some months
calls = rng.poisson(1.5, n)
logit = -1.0 + 0.6 * calls - 0.04 * tenure + 1.2 * (contract == "month-to-month") + 0.01 * np.nan_to_num(charges, nan=65)
churned = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
frame = pd.DataFrame({"customer_id": np.arange(1001, 1001 + n), "tenure_months": tenure, "contract": contract,
                      "monthly_charges": charges, "support_calls": calls, "churned": churned})
frame.to_csv(Path(__file__).with_name("customers.csv"), index=False)
