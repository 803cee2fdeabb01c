"""The shape of a fingerprint record and the facts every fingerprinting module shares.

``KEYS`` are a fingerprint's keys, ``PARTS`` the costly ones a caller may skip; ``empty`` is the record of an
object nothing is known about, ``content_digest`` the one way a content hash is written. Pure: no I/O.
"""

from __future__ import annotations

from typing import Any

import xxhash

from reprotrack.core.fingerprint import canonical as C
from reprotrack.core.fingerprint.table import FORMAT, digest_header

PARTS = ("content", "rows", "approx", "stats")
KEYS = ("type", "shape", "schema", "content", "rows", "approx", "stats")


def empty(obj: Any) -> dict[str, Any]:
    """The record of ``obj`` before anything is known: its type name, every other key null."""
    return {"type": C.type_name(type(obj)), "shape": None, "schema": None, "content": None, "rows": None,
            "approx": None, "stats": None}


def content_digest(*parts: Any) -> str:
    """``xxh3-128:<hex>`` over the format header and ``parts`` (how every non-table content is written)."""
    return "xxh3-128:" + xxhash.xxh3_128_hexdigest(digest_header(FORMAT, *parts))


def is_estimator(obj: Any) -> bool:
    """Anything with ``fit`` and ``get_params`` on its type (scikit-learn's protocol), not a class itself."""
    cls = type(obj)
    return not isinstance(obj, type) and callable(getattr(cls, "get_params", None)) and callable(
        getattr(cls, "fit", None))
