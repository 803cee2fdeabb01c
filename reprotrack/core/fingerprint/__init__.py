"""Canonical fingerprints of data: prove two values identical, and when they are not, say how they differ.

``fingerprint(obj)`` returns a JSON-serialisable dict with the keys

* ``type`` -- public dotted type name (``pandas.DataFrame``, ``numpy.ndarray``, ``int``,
  ``sklearn.linear_model.LogisticRegression``);
* ``shape`` -- list of ints, or null for scalars and unknown objects;
* ``schema`` -- column names and dtypes (frames), dtype (arrays), learned attribute names and parameters
  (estimators), keys (dicts); null for scalars. Not part of ``content``: a renamed column or an int32 column
  that became int64 changes ``schema`` only;
* ``content`` -- ``"xxh3-128:<hex>"``: order-sensitive hash of the canonical values of the whole object, no
  sampling (null for unknown objects);
* ``rows`` -- ``"sum128:<hex>"``: the multiset of rows (same rows in another order: same ``rows``);
* ``approx`` -- exact float values at canonical positions, compared with a tolerance by
  ``reprotrack.core.diff.data`` to tell precision noise from real changes;
* ``stats`` -- per column summaries; each entry also carries the column's own content ``hash``.

Frames, Series and Indexes may add ``index_content`` (null for a RangeIndex), and wide frames
``stats_truncated``.

The canonical encoding of values is defined in ``reprotrack.core.fingerprint.canonical`` and ``reprotrack.core.fingerprint.encoders.base`` (NaN/None/
NA/NaT are one null, -0.0 is 0.0, all integer widths are one kind, all float widths are widened to float64,
datetimes are UTC nanoseconds, strings are UTF-8; categoricals hash as their values, so a categorical and an
object column with equal strings have equal ``content`` -- their dtypes differ in ``schema``; an int column and
a float column with equal numbers differ in ``content``: integers and floats are different kinds). Data layout
never matters: C or Fortran order, views and slices hash as their values. Containers hash their items in order
(lists, tuples) or sorted by hash (dicts, sets), with bounded depth and cycle detection. Estimators (anything
with ``fit`` and ``get_params``) hash their learned attributes (names ending in ``_``; trees through their state
arrays) as ``content`` and keep ``get_params()`` apart in ``schema``. Any other object is reported by type name
with null content: this module never calls ``repr`` on user objects, never pickles, and does no I/O.
"""

from __future__ import annotations

from typing import Any

from reprotrack.core.fingerprint.engine import Fingerprinter
from reprotrack.core.fingerprint.record import KEYS, PARTS

__all__ = ["fingerprint", "content_hash", "KEYS", "PARTS"]


def fingerprint(obj: Any, *, sample: int = 64, parts: tuple[str, ...] | None = None) -> dict[str, Any]:
    """Fingerprint ``obj``. ``parts`` limits the work (e.g. ``("content",)``); skipped parts are null."""
    from reprotrack.core.fingerprint.distributed import engine_of, fingerprint_distributed

    parts = PARTS if parts is None else tuple(parts)
    engine = engine_of(obj)  # Dask/Spark frames, recognised by type name (neither library imported here)
    if engine is not None:
        return fingerprint_distributed(obj, engine, sample=sample, parts=parts)
    return Fingerprinter(sample, parts).run(obj)


def content_hash(obj: Any) -> str | None:
    """Only the ``content`` hash: the cheapest proof that two values are identical."""
    return fingerprint(obj, parts=("content",))["content"]
