"""Locks built by hand for the diff and report tests: real fingerprints, real split indices and real output
summaries in a four-cell study (seed, load, split, metric)."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd

from reprotrack.core.diff import Report
from reprotrack.core.fingerprint import fingerprint
from reprotrack.core.lockfile import CellRecord, Lock, sha256_text
from reprotrack.core.noise.rules import summarise_text
from reprotrack.core.split_indices import describe_part
from reprotrack.kernel.capture.outputs import summarise_result

ENV = {
    "python": "3.11.4", "implementation": "CPython",
    "platform": {"system": "Linux", "machine": "x86_64", "release": "6.1"},
    "packages": {"numpy": "1.26.4", "pandas": "2.2.1", "scikit-learn": "1.4.2", "ipykernel": "6.29.0"},
    "threadpools": [{"internal_api": "openblas", "num_threads": 4, "user_api": "blas"}],
    "variables": {},
}


def cell(index: int, source: str = "", *, order: int | None = None, cid: str | None = None, **kw) -> CellRecord:
    return CellRecord(id=cid or f"c{index}", order=index if order is None else order,
                      source_sha256=sha256_text(source or f"cell {index}"), index=index, **kw)


def lock(*cells: CellRecord, env: dict | None = None, checkpoints: dict | None = None) -> Lock:
    return Lock(environment=copy.deepcopy(ENV if env is None else env), cells=list(cells),
                checkpoints=checkpoints or {}, notebook="study.ipynb")


def frame(n: int = 50, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"a": rng.normal(size=n), "b": rng.integers(0, 5, size=n),
                         "c": rng.choice(["x", "y", "z"], size=n)})


def pipeline(df: pd.DataFrame, *, inputs_content: str = "sha256:aaa", seed: int = 0, split_seed: int | None = 0,
             split: tuple | None = None, metric: float = 0.91) -> Lock:
    """A four-cell study: seed, load (reads a file), split, metric."""
    n = len(df)
    if split is None:
        perm = np.random.default_rng(split_seed if split_seed is not None else 12345).permutation(n)
        split = (perm[: n * 3 // 4], perm[n * 3 // 4:])
    rec = {"api": "train_test_split", "random_state": split_seed, "shuffle": True, "stratify": False,
           "groups": False, "fold": None, "n_samples": n,
           "parts": {"train": describe_part(split[0]), "test": describe_part(split[1])}}
    return lock(
        cell(0, "np.random.seed(0)", seeds=[{"api": "numpy.random.seed", "value": seed}]),
        cell(1, "df = pd.read_csv('data.csv')", inputs=[{"path": "data.csv", "bytes": 100, "content": inputs_content}],
             data={"df": fingerprint(df)}),
        cell(2, "X_train, X_test = train_test_split(df)", splits=[rec]),
        cell(3, "score", outputs={"stdout": summarise_text(f"accuracy: {metric}\n"),
                                  "result": summarise_result(metric)}),
    )


def causes(report: Report) -> list[tuple[str, int | None]]:
    return [(f.cause, f.cell_index) for f in report.findings]


def by_cause(report: Report, cause: str):
    found = [f for f in report.findings if f.cause == cause]
    assert found, (cause, causes(report))
    return found[0]
