"""Fingerprints of distributed data (Dask, Spark) equal to the pandas fingerprint of the same data.

``engine_of(obj)`` recognises a Dask or Spark frame by its type's module name, so that
``reprotrack.core.fingerprint`` dispatches here without importing either library; ``reprotrack.core.fingerprint.distributed.dask``
imports Dask only when it is given a Dask object, ``reprotrack.core.fingerprint.distributed.spark`` PySpark only when given a
Spark one. The per-partition work (``partition``) and the merge (``merge``) are engine-neutral and pure; the
engines only schedule them. See ``merge`` for which fields are identical to the pandas fingerprint and which
are approximate (and by how much), and ``spark`` for which pandas frame a Spark frame is compared with.
"""

from __future__ import annotations

from typing import Any


def engine_of(obj: Any) -> str | None:
    """"dask" for a Dask DataFrame/Series, "spark" for a PySpark DataFrame, else None (no imports)."""
    cls = type(obj)
    module = getattr(cls, "__module__", "") or ""
    name = getattr(cls, "__name__", "")
    if module.startswith(("dask.dataframe", "dask_expr")) and name in ("DataFrame", "Series"):
        return "dask"
    if module.startswith("pyspark.sql") and name == "DataFrame":
        return "spark"
    return None


def fingerprint_distributed(obj: Any, engine: str, *, sample: int, parts: tuple[str, ...]) -> dict[str, Any]:
    if engine == "dask":
        from reprotrack.core.fingerprint.distributed.dask import fingerprint_dask

        return fingerprint_dask(obj, sample=sample, parts=parts)
    from reprotrack.core.fingerprint.distributed.spark import fingerprint_spark

    return fingerprint_spark(obj, sample=sample, parts=parts)
