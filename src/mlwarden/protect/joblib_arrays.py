"""Arrays that joblib writes as raw bytes in the middle of its pickle stream.

``joblib.dump`` pickles each NumPy array as a ``NumpyArrayWrapper`` (shape, order, dtype,
alignment) and writes the array bytes right after that object's ``BUILD`` opcode; arrays of
Python objects are written as a nested pickle instead. The wrapper class is never imported
here: :class:`JoblibArrayRecord` stands in for it and the bytes are read by this module.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from mlwarden.protect.errors import CheckpointFormatError
from mlwarden.protect.stream import BoundedStream

_REQUIRED = frozenset({"shape", "order", "dtype"})
_KNOWN = _REQUIRED | {"subclass", "allow_mmap", "numpy_array_alignment_bytes"}
_MAX_ALIGNMENT = 4096


class JoblibArrayRecord:
    """Stands in for ``joblib.numpy_pickle.NumpyArrayWrapper``: it holds no code and no data."""

    __slots__ = ()


def _shape_of(value: object, what: str) -> tuple[int, ...]:
    if not isinstance(value, tuple | list) or not all(type(n) is int and n >= 0 for n in value):
        raise CheckpointFormatError(f"{what}: joblib array shape {value!r} is not a shape")
    return tuple(value)


def read_joblib_array(
    state: object, source: BoundedStream, nested_load: Callable[[], object]
) -> Any:
    """Read the array a joblib wrapper describes from ``source``, right after its ``BUILD``.

    ``nested_load`` unpickles the nested pickle of an object array with the same restrictions.
    """
    import numpy as np

    what = source.what
    if not isinstance(state, dict) or not set(state) >= _REQUIRED or not set(state) <= _KNOWN:
        raise CheckpointFormatError(f"{what}: joblib array wrapper with unexpected state")
    dtype, order = state["dtype"], state["order"]
    shape = _shape_of(state["shape"], what)
    if not isinstance(dtype, np.dtype) or order not in ("C", "F"):
        raise CheckpointFormatError(f"{what}: joblib array wrapper with a bad dtype or order")
    subclass = state.get("subclass", np.ndarray)
    if subclass is not np.ndarray:
        raise CheckpointFormatError(f"{what}: joblib array of subclass {subclass!r} refused")

    if dtype.hasobject:
        array = nested_load()
        if not isinstance(array, np.ndarray) or array.shape != shape:
            raise CheckpointFormatError(f"{what}: joblib object array does not match its wrapper")
        return array

    alignment = state.get("numpy_array_alignment_bytes")
    if alignment is not None:
        if type(alignment) is not int or not 1 <= alignment <= _MAX_ALIGNMENT:
            raise CheckpointFormatError(f"{what}: joblib array alignment {alignment!r} refused")
        padding = source.read(1)[0]
        if padding > alignment:
            raise CheckpointFormatError(f"{what}: joblib array padding longer than its alignment")
        source.read(padding)

    count = math.prod(shape)
    nbytes = count * dtype.itemsize
    source.claim(nbytes, "a joblib array")
    if nbytes == 0:
        return np.empty(shape, dtype=dtype, order=order)
    buffer = bytearray(nbytes) if source.remaining is not None else None
    if buffer is not None:
        source.readinto(buffer)
    else:
        buffer = bytearray(source.read(nbytes))
    flat = np.frombuffer(buffer, dtype=dtype, count=count)
    array = flat.reshape(shape[::-1]).T if order == "F" else flat.reshape(shape)
    if dtype.byteorder not in ("=", "|") and not dtype.isnative:
        # joblib gives arrays in the byte order of the machine that loads them; so do we.
        array = array.byteswap().view(dtype.newbyteorder("="))
    return array
