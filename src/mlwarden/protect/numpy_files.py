"""NumPy ``.npy`` and ``.npz`` files, object arrays included, without ``allow_pickle=True``.

An ``.npy`` file is a magic string, a header (a Python literal read with ``ast.literal_eval``
by NumPy, never evaluated as code) and the array: raw bytes, or a pickle of the array when its
dtype holds Python objects. That pickle goes through the restricted unpickler.
"""

from __future__ import annotations

import math
import zipfile
from typing import Any

from mlwarden.protect.errors import CheckpointFormatError, SafeLoadError
from mlwarden.protect.stream import BoundedStream
from mlwarden.protect.torch_checkpoint import check_ratio
from mlwarden.protect.torch_storages import torch_substitutes
from mlwarden.protect.unpickler import GlobalGate, RestrictedUnpickler
from mlwarden.scanners.interface import Limits


def _header(source: BoundedStream) -> tuple[tuple[int, ...], bool, Any]:
    import numpy as np

    fmt = np.lib.format
    try:
        version = fmt.read_magic(source)
        if version == (1, 0):
            return fmt.read_array_header_1_0(source)
        if version == (2, 0):
            return fmt.read_array_header_2_0(source)
        read_any = getattr(fmt, "_read_array_header", None)
        if version == (3, 0) and read_any is not None:
            header: tuple[tuple[int, ...], bool, Any] = read_any(source, version)
            return header
    except SafeLoadError:
        raise
    except (ValueError, SyntaxError) as exc:
        raise CheckpointFormatError(f"{source.what}: bad .npy header: {exc}") from None
    raise CheckpointFormatError(f"{source.what}: .npy format version {version} is not known")


def load_npy(source: BoundedStream, gate: GlobalGate, limits: Limits) -> Any:
    """The array of an ``.npy`` stream; object arrays through the restricted unpickler."""
    import numpy as np

    shape, fortran_order, dtype = _header(source)
    if dtype.hasobject:
        array = RestrictedUnpickler(
            source,
            gate,
            max_opcodes=limits.max_pickle_opcodes,
            substitutes=torch_substitutes(None),
        ).load_object()
        if not isinstance(array, np.ndarray) or array.shape != tuple(shape):
            raise CheckpointFormatError(
                f"{source.what}: the pickled array does not match the .npy header"
            )
    else:
        count = math.prod(shape)
        nbytes = count * dtype.itemsize
        source.claim(nbytes, "the array")
        if nbytes == 0:
            array = np.empty(shape, dtype=dtype, order="F" if fortran_order else "C")
        else:
            buffer = bytearray(nbytes)
            source.readinto(buffer)
            flat = np.frombuffer(buffer, dtype=dtype, count=count)
            array = flat.reshape(shape, order="F" if fortran_order else "C")
    if not source.at_end():
        raise CheckpointFormatError(f"{source.what}: data follows the array")
    return array


def load_npz(
    archive: zipfile.ZipFile, *, what: str, gate: GlobalGate, limits: Limits
) -> dict[str, Any]:
    """The arrays of an ``.npz`` archive by name (``"x.npy"`` is ``"x"``)."""
    arrays: dict[str, Any] = {}
    for info in archive.infolist():
        if info.is_dir():
            continue
        check_ratio(info, limits, what)
        with archive.open(info) as raw:
            source = BoundedStream(
                raw,
                size=info.file_size,
                max_bytes=limits.max_uncompressed_bytes,
                what=f"{what}!{info.filename}",
            )
            arrays[info.filename.removesuffix(".npy")] = load_npy(source, gate, limits)
    return arrays
