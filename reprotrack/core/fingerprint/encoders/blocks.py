"""Rows that are fixed-size sub-arrays (N-d arrays): one row hash from the element hashes of the row."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from reprotrack.core.fingerprint import canonical as C
from reprotrack.core.fingerprint.encoders.base import Encoder, all_hashes, combine_rows, key_vector
from reprotrack.core.fingerprint.encoders.numbers import NumberEncoder


class BlockEncoder(Encoder):
    """Rows that are fixed-size sub-arrays (N-d arrays, structured sub-fields): element hashes, one per row."""

    kind = "block"

    def __init__(self, values: np.ndarray, container: Callable[[Any], int] | None = None):
        self.values = values
        self.n = len(values)
        self.width = int(np.prod(values.shape[1:])) if values.ndim > 1 else 1
        self.keys = key_vector(self.width)
        self.container = container

    def chunk(self, lo: int, hi: int, values: Any, mask: Any, want: bool) -> np.ndarray | None:
        flat = np.ascontiguousarray(self.values[lo:hi]).reshape(-1)
        h = element_hashes(flat, self.container)
        values.update(h.astype("<u8", copy=False))
        return combine_rows(h.reshape(hi - lo, self.width), self.keys) if want else None

    def numbers(self, lo: int, hi: int) -> np.ndarray | None:
        if self.values.dtype.kind not in "fiub":
            return None
        return np.ascontiguousarray(self.values[lo:hi], dtype=np.float64).reshape(-1)

    def take_floats(self, positions: np.ndarray) -> np.ndarray | None:
        """One element per sampled row, at a canonical offset inside the row."""
        if self.values.dtype.kind != "f" or not self.width:
            return None
        offsets = (C.mix(positions.astype(C.U64) + C.U64(C.GOLDEN)) % C.U64(self.width)).astype(np.int64)
        rows = self.values[positions].reshape(len(positions), -1)
        return rows[np.arange(len(positions)), offsets].astype(np.float64) + 0.0



def element_hashes(flat: np.ndarray, container: Callable[[Any], int] | None = None) -> np.ndarray:
    """Per-element canonical hashes of a contiguous 1-D numpy array of any dtype."""
    k = flat.dtype.kind
    if k in "fiubcmM":
        return all_hashes(NumberEncoder(flat))
    if k == "U":
        return C.str_hashes(flat.tolist())
    if k == "S":
        return C.bytes_hashes(flat.tolist())
    return C.object_hashes(flat.astype(object, copy=False), container)


