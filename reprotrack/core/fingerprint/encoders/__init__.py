"""Column encoders (see ``encoders.base`` for the canonical bytes of each kind); ``encoder_for`` picks one."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from reprotrack.core.fingerprint.encoders.arrow import ArrowStringEncoder, arrow_chunks, hashable_type
from reprotrack.core.fingerprint.encoders.base import Encoder, combine_rows, key_vector
from reprotrack.core.fingerprint.encoders.blocks import BlockEncoder, element_hashes
from reprotrack.core.fingerprint.encoders.categorical import CategoricalEncoder
from reprotrack.core.fingerprint.encoders.numbers import NumberEncoder
from reprotrack.core.fingerprint.encoders.objects import ObjectEncoder

__all__ = ["Encoder", "NumberEncoder", "CategoricalEncoder", "BlockEncoder", "ObjectEncoder", "ArrowStringEncoder",
           "encoder_for", "element_hashes", "key_vector", "combine_rows"]


def encoder_for(values: Any, container: Callable[[Any], int] | None = None, streams: bool = True) -> Encoder:
    """Pick the encoder for a pandas Series/Index/ExtensionArray or a 1-D numpy array; ``streams`` False for
    numpy arrays (their object values keep the per-value hash content, see ``ObjectEncoder``). pandas is
    imported only for values that are not numpy arrays (a notebook without pandas never loads it)."""
    if isinstance(values, np.ndarray):
        return _numpy_encoder(np.asarray(values), container, streams)  # np.matrix and friends: plain ndarray
    import pandas as pd

    if isinstance(values, (pd.Series, pd.Index)):
        values = values.array if not isinstance(values.dtype, np.dtype) else values.to_numpy()
    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return CategoricalEncoder(values, encoder_for(values.categories, container, streams))
    if isinstance(dtype, np.dtype):
        return _numpy_encoder(np.asarray(values), container, streams)
    if isinstance(dtype, pd.DatetimeTZDtype):
        return NumberEncoder(np.asarray(values.tz_convert("UTC").tz_localize(None)))
    data = arrow_chunks(values)
    if data is not None:
        hash_kind = hashable_type(data.type)
        if hash_kind is not None:  # strings and binaries from the Arrow buffers: no Python object per value
            return ArrowStringEncoder(data, hash_kind, streams)
    kind = getattr(dtype, "kind", "O")
    if isinstance(dtype, pd.api.extensions.ExtensionDtype) and kind in "iufb" and hasattr(values, "isna"):
        mask = np.asarray(values.isna(), dtype=bool)
        if kind == "f":
            return NumberEncoder(values.to_numpy(dtype=np.float64, na_value=np.nan), mask)
        np_dtype = {"i": np.int64, "u": np.uint64, "b": np.bool_}[kind]
        return NumberEncoder(values.to_numpy(dtype=np_dtype, na_value=np_dtype(0)), mask)
    if isinstance(dtype, pd.PeriodDtype):
        return NumberEncoder(np.asarray(values.asi8), np.asarray(values.isna()))
    if isinstance(dtype, pd.SparseDtype):
        return encoder_for(np.asarray(values), container, streams)
    return ObjectEncoder(np.asarray(values.to_numpy(dtype=object), dtype=object), container, streams=streams)


def _numpy_encoder(arr: np.ndarray, container: Callable[[Any], int] | None, streams: bool) -> Encoder:
    if arr.ndim > 1:
        return BlockEncoder(arr, container)
    if arr.dtype.kind in "fiubcmM":
        return NumberEncoder(arr)
    if arr.dtype.kind == "S":
        return ObjectEncoder(arr.astype(object), container, factorize=False, streams=streams)
    return ObjectEncoder(arr.astype(object, copy=False), container, streams=streams)
