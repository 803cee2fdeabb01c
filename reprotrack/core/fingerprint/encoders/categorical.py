"""pandas Categoricals: hashed as their values, from the codes and the categories' own encoder."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from reprotrack.core.fingerprint import canonical as C
from reprotrack.core.fingerprint import valuestream as VS
from reprotrack.core.fingerprint.encoders.base import Encoder, all_hashes
from reprotrack.core.fingerprint.encoders.numbers import NumberEncoder

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


class CategoricalEncoder(Encoder):
    """pandas Categorical: the bytes and hashes of its values (taken from the categories by code)."""

    def __init__(self, cat: pd.Categorical, categories: Encoder):
        self.codes = np.asarray(cat.codes)
        self.n = len(self.codes)
        self.categories = categories
        self.kind = self.categories.kind
        self.cat_list = list(cat.categories)
        self.nulls = bool((self.codes < 0).any())
        self.has_mask = (self.nulls and self.kind in ("int", "uint", "bool")) or categories.has_mask
        self.cat_array = (self.categories.values if hasattr(self.categories, "values")
                          else np.asarray(cat.categories, dtype=object))
        self.uh: np.ndarray | None = None
        self.table: Any = None

    @property
    def content_kind(self) -> str:
        return self.categories.content_kind

    def prepare(self, full: bool) -> None:
        if self.uh is None and (full or isinstance(self.categories, NumberEncoder)):
            self.uh = all_hashes(self.categories)
            self.kind = self.categories.kind

    def chunk(self, lo: int, hi: int, values: Any, mask: Any, want: bool) -> np.ndarray | None:
        codes = self.codes[lo:hi]
        null = codes < 0
        if isinstance(self.categories, NumberEncoder):  # numbers: exactly the bytes of the values
            picked = self.cat_array.take(np.maximum(codes, 0)) if len(self.cat_array) else \
                np.zeros(hi - lo, dtype=self.cat_array.dtype)
            return self.categories.chunk_values(picked, null if self.nulls else None, values,
                                                mask if self.has_mask else None, want)
        streams = getattr(self.categories, "streams", False)
        if streams:
            if self.table is None:
                self.table = self.categories.value_table()
            VS.feed(values, mask, *self.table.expand(codes))
            if not want:
                return None
        self.prepare(True)
        h = self.uh.take(np.maximum(codes, 0)) if len(self.uh) else np.zeros(hi - lo, dtype=C.U64)
        h[null] = C.U64(C.NULL)
        if not streams:
            values.update(h.astype("<u8", copy=False))
        return h

    def numbers(self, lo: int, hi: int) -> np.ndarray | None:
        if not isinstance(self.categories, NumberEncoder) or self.kind in ("bool", "complex"):
            return None
        nums = self.categories.numbers(0, self.categories.n)
        codes = self.codes[lo:hi]
        f = nums.take(np.maximum(codes, 0)) if len(nums) else np.full(hi - lo, np.nan)
        f[codes < 0] = np.nan
        return f

    def labels(self) -> tuple[np.ndarray, list[Any]] | None:
        return self.codes, self.cat_list

    def take_floats(self, positions: np.ndarray) -> np.ndarray | None:
        floats = self.categories.take_floats(np.arange(self.categories.n))
        if floats is None:
            return None
        codes = self.codes[positions]
        f = floats.take(np.maximum(codes, 0)) if len(floats) else np.full(len(codes), np.nan)
        f[codes < 0] = np.nan
        return f


