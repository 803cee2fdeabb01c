"""Training job: the research notebook's pipeline as a script, with the same checkpoints.

    reprotrack run churn/train.py --against ../handoff-research.reprotrack.lock            # v2 features
    reprotrack run churn/train.py --features v1 --against ../handoff-research.reprotrack.lock

No reprotrack import is needed for the seeds, inputs and splits to be recorded; ``reprotrack.checkpoint``
marks where the stages meet (``features_v2`` is mapped to research's ``features`` in pyproject.toml).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

import reprotrack
from churn.features import build_features, build_features_v2

SEED = 7
DATA = Path(__file__).resolve().parents[1] / "data" / "customers.csv"


def main(argv: list[str] | None = None) -> LogisticRegression:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", default=str(DATA))
    parser.add_argument("--features", choices=["v1", "v2"], default="v2")
    args = parser.parse_args(argv)

    raw = pd.read_csv(args.data)
    features = (build_features if args.features == "v1" else build_features_v2)(raw)
    reprotrack.checkpoint("features_v2", features)

    X_train, X_test, y_train, y_test = train_test_split(
        features, raw["churned"], test_size=0.25, random_state=SEED, stratify=raw["churned"])
    reprotrack.checkpoint("train", X_train)

    model = LogisticRegression(max_iter=1000).fit(X_train, y_train)
    reprotrack.checkpoint("model", model)
    print(f"test accuracy: {model.score(X_test, y_test):.3f}")
    return model


if __name__ == "__main__":
    main()
