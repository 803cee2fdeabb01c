"""Rebuild the research side of ``broken-on-purpose.ipynb``: its lock and the CSV the notebook reads now.

Why a script and not a lock saved once from someone's laptop: a lock records the research run's Python,
package versions, platform and thread pools. A lock committed from one machine would make every other
machine's ``reprotrack verify`` lead with environment findings (numpy 2.1 in research, 2.2 now…) that have
nothing to do with what this notebook demonstrates. So the research run is *re-enacted* here, on whatever
machine runs the script, and the lock keeps only what the demonstration is about:

1. the research CSV is generated from the formula below (pure Python, no random numbers) into a temporary
   folder under the name the notebook reads, ``broken-on-purpose.csv``;
2. the research variant of the notebook is the shipped notebook with the cells in ``RESEARCH_SOURCES``
   as research wrote them;
3. ``reprotrack.verify.record_notebook`` runs that variant in a fresh kernel (the real recorder, nothing
   hand-written), then the environment section, git facts and ``run`` blocks (host, temporary paths,
   timings) are left out of the lock, and a note in the lock says so;
4. the CSV shipped beside the notebook is the research CSV after a lossy "ETL hop" (rows lost, spend
   rounded), so ``reprotrack verify`` sees a changed input file.

What remains in the lock (seeds, input hashes, fingerprints, split indices, outputs) is defined over values
that do not depend on library versions: all columns are numeric, the seeded generator is numpy's legacy
``RandomState`` (its stream is frozen), printed outputs are formatted numbers. The committed lock therefore
gives the same diagnoses everywhere; ``tests/test_notebooks.py`` checks both the committed lock and a fresh
one built by this script.

Usage: ``python notebooks/make_broken_lock.py [--lock PATH] [--csv PATH]`` (defaults: beside this script).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
NOTEBOOK = HERE / "broken-on-purpose.ipynb"
CSV_NAME = "broken-on-purpose.csv"
LOCK_NAME = "broken-on-purpose.reprotrack.lock"

#: The cells as research ran them (cell id → source); every other cell is the shipped notebook's.
RESEARCH_SOURCES = {
    "features": (
        "# missing spend means the customer bought nothing\n"
        "sales[\"spend\"] = sales[\"spend\"].fillna(0.0)\n"
        "sales[\"per_visit\"] = sales[\"spend\"] / sales[\"visits\"] + jitter\n"
        "print(f\"mean spend per visit: {sales['per_visit'].mean():.4f}\")"
    ),
}

NOTE = ("environment, git and run facts left out on purpose by notebooks/make_broken_lock.py: this demonstration "
        "lock must give the same diagnoses on every machine; a real research lock keeps them")


def research_csv() -> str:
    """The data as research had it: 160 customers, visits 1-12, spend in cents, every 23rd spend missing."""
    lines = ["customer,visits,spend"]
    for customer in range(1, 161):
        visits = 1 + (customer * 7) % 12
        spend = 20 + ((customer * 37) % 101) * 1.37 + visits * 3.1
        lines.append(f"{customer},{visits}," + ("" if customer % 23 == 0 else f"{spend:.2f}"))
    return "\n".join(lines) + "\n"


def shipped_csv() -> str:
    """The same file after the ETL hop engineering received it through: every 40th customer lost, spend
    rounded to one decimal."""
    lines = research_csv().splitlines()
    kept = [lines[0]]
    for line in lines[1:]:
        customer, visits, spend = line.split(",")
        if int(customer) % 40 == 0:
            continue
        kept.append(f"{customer},{visits}," + (f"{float(spend):.1f}" if spend else ""))
    return "\n".join(kept) + "\n"


def research_notebook():
    """The shipped notebook with research's version of the cells in ``RESEARCH_SOURCES``."""
    import nbformat

    nb = nbformat.read(str(NOTEBOOK), as_version=4)
    seen = set()
    for cell in nb.cells:
        if cell.get("id") in RESEARCH_SOURCES:
            cell.source = RESEARCH_SOURCES[cell["id"]]
            seen.add(cell["id"])
    missing = set(RESEARCH_SOURCES) - seen
    if missing:
        raise SystemExit(f"make_broken_lock: {NOTEBOOK.name} has no cell(s) {', '.join(sorted(missing))}")
    return nb


def build_lock(lock_path: Path, *, kernel: str | None = None) -> Path:
    """Record the research variant in a fresh kernel and write its environment-neutral lock to ``lock_path``."""
    import nbformat

    from reprotrack import store
    from reprotrack.verify import record_notebook

    with tempfile.TemporaryDirectory(prefix="reprotrack-research-") as tmp:
        folder = Path(tmp)
        (folder / CSV_NAME).write_text(research_csv(), encoding="utf-8")
        nbformat.write(research_notebook(), str(folder / NOTEBOOK.name))
        result = record_notebook(folder / NOTEBOOK.name, lock=folder / LOCK_NAME, kernel=kernel)
        if result.exit_code != 0 or result.errors:
            failed = result.replay.execution_error or ", ".join(f"cell {r.index}" for r in result.errors)
            raise SystemExit(f"make_broken_lock: the research variant did not run cleanly: {failed}")
        lock = store.read_lock(folder / LOCK_NAME)
    lock.environment = {"packages": {}}
    lock.git = None
    lock.run = {}
    for cell in lock.cells:
        cell.run = {}
    lock.notes = [NOTE]
    return store.write_lock(lock_path, lock)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lock", type=Path, default=HERE / LOCK_NAME, help="where to write the research lock")
    parser.add_argument("--csv", type=Path, default=HERE / CSV_NAME, help="where to write the CSV the notebook reads")
    parser.add_argument("--kernel", default=None, help="kernelspec to record in (default: python3)")
    args = parser.parse_args(argv)
    args.csv.write_text(shipped_csv(), encoding="utf-8")
    written = build_lock(args.lock.resolve(), kernel=args.kernel)
    print(f"make_broken_lock: wrote {args.csv} and {written}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
