"""Column encoders: one 1-D column of any pandas/numpy dtype, seen as canonical bytes, row hashes and numbers.

A fingerprint walks a table in row chunks. For each chunk a column feeds its canonical content bytes to an
xxh3 hasher (and its null mask, one byte per row, to a second one when the column has nulls) and, when asked,
returns its per-row 64-bit hashes. The content bytes of each kind (the ``kind`` is part of the column digest):

* ``float``/``complex``: float64 values (complex: real, imaginary interleaved), -0.0 as 0.0, every NaN (and
  every null) as the quiet NaN 0x7ff8000000000000; no mask;
* ``int``/``uint``/``bool``: int64 / uint64 / uint8 values, nulls as 0 plus the mask;
* ``datetime``/``timedelta``: int64 nanoseconds (UTC), NaT as int64 min; no mask;
* ``str`` and ``object`` (mixed types), both under the content kind "values": a lengths stream (int64 per
  row: the UTF-8 length of a string, -1 for a null, -2 for any other value) in place of the mask, and a data
  stream of the strings' UTF-8 bytes and the other values' 64-bit canonical hashes
  (``reprotrack.core.fingerprint.valuestream``): what an Arrow string column already holds, so it is hashed
  at memory speed; factorised, categorical and dictionary columns expand their distinct values' streams.

All little-endian and independent of the chunk size. Categoricals produce exactly the bytes of their values
(so they equal the same values stored as objects). For statistics a column gives float64 values (nulls as
NaN) or integer codes into its distinct values. Encoders copy nothing beyond one chunk or one factorisation.

Pure: numpy and pandas only, no I/O.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from reprotrack.core.fingerprint import canonical as C

CANON_NAN = np.frombuffer(np.uint64(0x7FF8000000000000).tobytes(), dtype=np.float64)[0]
INT64_MIN = np.iinfo(np.int64).min


class Encoder:
    """Base: ``kind``, ``n``, ``has_mask``; ``chunk``; optional ``numbers``, ``labels``, ``take_floats``."""

    kind = "object"
    n = 0
    has_mask = False

    @property
    def content_kind(self) -> str:
        """The kind named in the column's content digest (fixed before the first chunk is hashed)."""
        return self.kind

    def chunk(self, lo: int, hi: int, values: Any, mask: Any, want: bool) -> np.ndarray | None:
        """Feed rows [lo, hi) to the ``values`` (and ``mask``) hashers; return per-row hashes if ``want``."""
        raise NotImplementedError  # pragma: no cover

    def numbers(self, lo: int, hi: int) -> np.ndarray | None:
        """float64 values for statistics (nulls as NaN), or None when the column is not numeric."""
        return None

    def labels(self) -> tuple[np.ndarray, list[Any]] | None:
        """(codes with -1 for null, distinct values) when cheap; None for high-cardinality columns."""
        return None

    def take_floats(self, positions: np.ndarray) -> np.ndarray | None:
        """Exact float values at row positions (for ``approx``), or None when the column is not float."""
        return None


class Sink:
    rows = 0

    def update(self, _: Any) -> None:
        pass

    def update_rows(self, _: Any, __: Any) -> None:
        pass


def all_hashes(enc: Encoder) -> np.ndarray:
    if hasattr(enc, "prepare"):
        enc.prepare(True)
    h = enc.chunk(0, enc.n, Sink(), Sink(), True)
    return h if h is not None else np.zeros(0, dtype=C.U64)


def key_vector(m: int) -> np.ndarray:
    """Odd multipliers for column positions 0..m-1 (vectorised ``canonical.column_key``)."""
    k = np.arange(1, m + 1, dtype=C.U64) + C.U64(C.GOLDEN)
    return C.mix(k) | C.U64(1)


def combine_rows(h: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Row hash of an (rows, m) block of element hashes: sum of h[:, j] * key[j] mod 2**64, then mixed."""
    r = h[:, 0] * keys[0] if h.shape[1] == 1 else np.sum(h * keys[None, :], axis=1, dtype=C.U64)
    return C.mix(r)


