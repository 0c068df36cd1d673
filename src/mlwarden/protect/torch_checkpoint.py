"""PyTorch checkpoints: the zip layout of ``torch.save`` and the legacy stream before it.

Zip checkpoint (PyTorch >= 1.6)::

    <prefix>/data.pkl        the pickle; tensors name storages by persistent id
    <prefix>/data/<key>      raw bytes of each storage, ``numel * element size`` long
    <prefix>/byteorder       "little" or "big" (absent in old files: little)
    <prefix>/version ...     other small records, not needed to load

Legacy stream (``_use_new_zipfile_serialization=False``): five pickles and raw data, in order:
the magic number, the protocol version (1001), system info, the object, the sorted list of
storage keys; then, for each key, an 8-byte little-endian element count and the bytes.
"""

from __future__ import annotations

import sys
import zipfile
from typing import Any

from mlwarden.protect.errors import CheckpointFormatError
from mlwarden.protect.stream import BoundedStream
from mlwarden.protect.torch_storages import (
    StorageTable,
    import_torch,
    swap_in_place,
    torch_substitutes,
)
from mlwarden.protect.unpickler import GlobalGate, RestrictedUnpickler
from mlwarden.scanners.interface import Limits

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001

#: Members that mark a TorchScript archive: it carries code, which is never loaded.
_TORCHSCRIPT_MARKERS = ("constants.pkl", "code/")


def torch_zip_prefix(names: list[str]) -> str | None:
    """The record prefix (``"archive/"``) of a PyTorch zip checkpoint, or ``None``."""
    pickles = [n for n in names if n.endswith("/data.pkl") and n.count("/") == 1]
    if not pickles:
        return None
    if len(pickles) > 1:
        raise CheckpointFormatError(f"several data.pkl records: {', '.join(sorted(pickles))}")
    return pickles[0][: -len("data.pkl")]


def check_ratio(info: zipfile.ZipInfo, limits: Limits, what: str) -> None:
    """Refuse a compressed member that expands more than the limit allows (a zip bomb)."""
    if info.compress_type == zipfile.ZIP_STORED or info.file_size < 1024 * 1024:
        return
    if info.file_size > info.compress_size * limits.max_compression_ratio:
        raise CheckpointFormatError(
            f"{what}!{info.filename}: expands more than {limits.max_compression_ratio:g} times "
            "(limit reached)"
        )


class _ZipStorages:
    """Reads each storage record when the pickle first names it."""

    def __init__(
        self, archive: zipfile.ZipFile, prefix: str, table: StorageTable, *, swap: bool,
        limits: Limits,
    ) -> None:  # fmt: skip
        self.archive, self.prefix, self.table = archive, prefix, table
        self.swap, self.limits = swap, limits

    def __call__(self, pid: object) -> Any:
        dtype, key, location, numel = self.table.parse_pid(pid, 5)
        known = self.table.known(key, dtype, numel)
        if known is not None:
            return known
        name = f"{self.prefix}data/{key}"
        try:
            info = self.archive.getinfo(name)
        except KeyError:
            raise CheckpointFormatError(
                f"{self.table.what}: storage record {name} is missing"
            ) from None
        nbytes = numel * dtype.itemsize
        if info.file_size != nbytes:
            raise CheckpointFormatError(
                f"{self.table.what}!{name}: holds {info.file_size} bytes, the pickle declares "
                f"{numel} elements of {dtype} ({nbytes} bytes)"
            )
        check_ratio(info, self.limits, self.table.what)
        buffer = bytearray(nbytes)
        with self.archive.open(info) as raw:
            stream = BoundedStream(
                raw, size=nbytes, max_bytes=nbytes, what=f"{self.table.what}!{name}"
            )
            stream.readinto(buffer)
        return self.table.make(key, buffer, dtype, numel, location, swap_bytes=self.swap)


def load_torch_zip(
    archive: zipfile.ZipFile,
    prefix: str,
    *,
    what: str,
    gate: GlobalGate,
    limits: Limits,
    device: Any,
) -> Any:
    """The object of a PyTorch zip checkpoint, its tensors rebuilt from its own records."""
    names = archive.namelist()
    if any(n.startswith(prefix + marker) for n in names for marker in _TORCHSCRIPT_MARKERS):
        raise CheckpointFormatError(
            f"{what}: a TorchScript archive (it carries code); it is never loaded. "
            "Save and load a state_dict instead"
        )
    byteorder = "little"
    if f"{prefix}byteorder" in names:
        order_info = archive.getinfo(f"{prefix}byteorder")
        if order_info.file_size > 16:
            raise CheckpointFormatError(f"{what}: byteorder record of {order_info.file_size} bytes")
        raw_order = archive.read(order_info).decode("ascii", "replace").strip()
        if raw_order not in ("little", "big"):
            raise CheckpointFormatError(f"{what}: byteorder record {raw_order!r} is not known")
        byteorder = raw_order
    info = archive.getinfo(f"{prefix}data.pkl")
    if info.file_size > limits.max_metadata_bytes:
        raise CheckpointFormatError(f"{what}: data.pkl is larger than the limit")
    check_ratio(info, limits, what)
    torch = import_torch()
    table = StorageTable(torch, what=what, device=device)
    storages = _ZipStorages(archive, prefix, table, swap=byteorder != sys.byteorder, limits=limits)
    with archive.open(info) as raw:
        source = BoundedStream(
            raw, size=info.file_size, max_bytes=info.file_size, what=f"{what}!{info.filename}"
        )
        unpickler = RestrictedUnpickler(
            source,
            gate,
            max_opcodes=limits.max_pickle_opcodes,
            substitutes=torch_substitutes(table),
            persistent_load=storages,
        )
        value = unpickler.load_object()
        if not source.at_end():
            raise CheckpointFormatError(f"{source.what}: data follows the end of the pickle")
    return value


class _LegacyStorages:
    """Storages of a legacy stream: made empty when named, filled once the pickle is read."""

    def __init__(self, table: StorageTable, source: BoundedStream) -> None:
        self.table, self.source = table, source
        self.pending: dict[str, tuple[bytearray, Any, int]] = {}
        self.claimed = 0

    def __call__(self, pid: object) -> Any:
        dtype, key, location, numel = self.table.parse_pid(pid, 6)
        if pid[5] is not None:  # type: ignore[index]
            raise CheckpointFormatError(
                f"{self.table.what}: storage views (PyTorch < 0.4 checkpoints) are not read"
            )
        known = self.table.known(key, dtype, numel)
        if known is not None:
            return known
        nbytes = numel * dtype.itemsize
        # Every storage must fit in what follows the pickle: refuse before allocating.
        self.claimed += 8 + nbytes
        self.source.claim(self.claimed, "storages")
        buffer = bytearray(nbytes)
        self.pending[key] = (buffer, dtype, numel)
        return self.table.make(key, buffer, dtype, numel, location, stays_on_cpu=True)

    def fill(self, keys: object) -> None:
        """Read the storage bytes that follow the key list, in its order."""
        what = self.table.what
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise CheckpointFormatError(f"{what}: the storage key list is not a list of keys")
        if len(set(keys)) != len(keys) or set(keys) != set(self.pending):
            raise CheckpointFormatError(
                f"{what}: the storage key list does not match the storages the pickle names"
            )
        for key in keys:
            buffer, dtype, numel = self.pending[key]
            count = int.from_bytes(self.source.read(8), "little", signed=True)
            if count != numel:
                raise CheckpointFormatError(
                    f"{what}: storage {key!r} holds {count} elements, the pickle declares {numel}"
                )
            self.source.readinto(buffer)
            if sys.byteorder == "big":
                swap_in_place(self.table.torch, buffer, dtype)


def load_torch_legacy(
    source: BoundedStream,
    *,
    gate: GlobalGate,
    limits: Limits,
    device: Any,
) -> Any:
    """The object of a legacy ``torch.save`` stream, read after its magic number."""

    def plain() -> Any:
        return RestrictedUnpickler(
            source, gate, max_opcodes=limits.max_pickle_opcodes, substitutes=torch_substitutes(None)
        ).load_object()

    protocol = plain()
    if protocol != LEGACY_PROTOCOL:
        raise CheckpointFormatError(f"{source.what}: legacy protocol {protocol!r} is not known")
    if not isinstance(plain(), dict):
        raise CheckpointFormatError(f"{source.what}: legacy system information is not a dict")
    torch = import_torch()
    table = StorageTable(torch, what=source.what, device=device)
    storages = _LegacyStorages(table, source)
    value = RestrictedUnpickler(
        source,
        gate,
        max_opcodes=limits.max_pickle_opcodes,
        substitutes=torch_substitutes(table),
        persistent_load=storages,
    ).load_object()
    storages.fill(plain())
    if not source.at_end():
        raise CheckpointFormatError(f"{source.what}: data follows the last storage")
    return value
