"""Regression tests of the production stages against the research run (the ``reprotrack_research`` fixture
reads ``reprotrack_against`` from pyproject.toml). ``REPROTRACK_FEATURES=v2`` runs them on the drifted rewrite:
the features test then fails with the checkpoint diagnosis."""

import os

import pandas as pd
from churn.features import build_features, build_features_v2
from churn.train import DATA, SEED
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

BUILD = build_features_v2 if os.environ.get("REPROTRACK_FEATURES") == "v2" else build_features


def test_features(reprotrack_research):
    raw = pd.read_csv(DATA)
    reprotrack_research.assert_matches("features_v2", BUILD(raw))


def test_model_coefficients(reprotrack_research):
    raw = pd.read_csv(DATA)
    features = BUILD(raw)
    X_train, _, y_train, _ = train_test_split(features, raw["churned"], test_size=0.25, random_state=SEED,
                                              stratify=raw["churned"])
    reprotrack_research.assert_matches("train", X_train)
    # another max_iter: a hyperparameter that changes nothing learned (the fit converges long before)
    model = LogisticRegression(max_iter=5000).fit(X_train, y_train)
    reprotrack_research.assert_matches("model", model)
