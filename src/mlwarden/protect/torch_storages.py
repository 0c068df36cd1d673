"""Tensor storages behind the persistent ids of PyTorch checkpoints.

A PyTorch pickle never holds tensor bytes. It names each storage with a persistent id,
``('storage', StorageType, key, location, numel)`` in zip checkpoints (plus a sixth item,
the view, in legacy files), and rebuilds tensors with ``torch._utils._rebuild_tensor_v2``.
This module reads those storages itself (``torch.load`` is never called), and stands in for
the globals around them:

- storage types (``torch.FloatStorage``...) become inert :class:`StorageType` markers, so they
  tag a persistent id but cannot be called to allocate memory;
- tensor rebuilders are wrapped so that they accept only storages this loader made from the
  checkpoint, with no backward hooks.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from mlwarden.protect.errors import CheckpointFormatError, SafeLoadError
from mlwarden.protect.unpickler import Substitutes, resolve_global

#: Storage class name -> the ``torch`` dtype attribute it stands for.
STORAGE_DTYPES: dict[str, str] = {
    "DoubleStorage": "float64",
    "FloatStorage": "float32",
    "HalfStorage": "float16",
    "BFloat16Storage": "bfloat16",
    "LongStorage": "int64",
    "IntStorage": "int32",
    "ShortStorage": "int16",
    "CharStorage": "int8",
    "ByteStorage": "uint8",
    "BoolStorage": "bool",
    "ComplexDoubleStorage": "complex128",
    "ComplexFloatStorage": "complex64",
    "QInt8Storage": "qint8",
    "QInt32Storage": "qint32",
    "QUInt8Storage": "quint8",
    "QUInt4x2Storage": "quint4x2",
    "QUInt2x4Storage": "quint2x4",
    # Since PyTorch 2.x new dtypes are saved as bytes, the dtype passed to _rebuild_tensor_v3.
    "UntypedStorage": "uint8",
}

_STORAGE_GLOBALS: dict[str, str] = {
    **{f"torch.{name}": name for name in STORAGE_DTYPES},
    "torch.storage.UntypedStorage": "UntypedStorage",
    "torch.storage.TypedStorage": "TypedStorage",
    "torch.TypedStorage": "TypedStorage",
}

#: Rebuilders taking a storage first; value: index of their backward-hooks argument.
_TENSOR_REBUILDERS = {
    "torch._utils._rebuild_tensor": None,
    "torch._utils._rebuild_tensor_v2": 5,
    "torch._utils._rebuild_tensor_v3": 5,
}
#: Rebuilders of nn.Parameter; value: index of their backward-hooks argument.
_PARAMETER_REBUILDERS = {
    "torch._utils._rebuild_parameter": 2,
    "torch._utils._rebuild_parameter_with_state": 2,
}

_KEY = re.compile(r"[A-Za-z0-9_]{1,64}")
_LOCATION = re.compile(r"[a-z][a-z0-9_]{0,15}(:[0-9]{1,4})?")


class StorageType:
    """An inert stand-in for a storage class named by a checkpoint. Not callable."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<storage type {self.name}>"


def import_torch() -> Any:
    """``torch``, or a clear error naming the extra that installs it."""
    try:
        import torch
    except ImportError:
        raise SafeLoadError(
            "this checkpoint holds PyTorch tensors; install torch (pip install 'mlwarden[torch]')"
        ) from None
    return torch


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:77]}..."


class StorageTable:
    """The storages of one checkpoint, by key, all made by this loader.

    ``device`` is where storages go: a device name or ``torch.device``, or ``None`` for
    where the checkpoint says. ``what`` names the file in messages.
    """

    def __init__(self, torch: Any, *, what: str, device: Any) -> None:
        self.torch = torch
        self.what = what
        try:
            self.device = None if device is None else torch.device(device)
        except RuntimeError as exc:
            raise ValueError(f"map_location {device!r}: {exc}") from None
        self.by_key: dict[str, tuple[Any, Any, int]] = {}
        self._owned: set[int] = set()

    def owns(self, storage: object) -> bool:
        """Whether ``storage`` was made here from the checkpoint's own bytes."""
        return id(storage) in self._owned

    def parse_pid(self, pid: object, length: int) -> tuple[Any, str, str, int]:
        """Check a storage persistent id of ``length`` items: (dtype, key, location, numel)."""
        if type(pid) is not tuple or len(pid) != length or pid[0] != "storage":
            raise CheckpointFormatError(f"{self.what}: unexpected persistent id {_short(pid)}")
        storage_type, key, location, numel = pid[1:5]
        dtype_name = (
            STORAGE_DTYPES.get(storage_type.name) if isinstance(storage_type, StorageType) else None
        )
        if dtype_name is None:
            raise CheckpointFormatError(
                f"{self.what}: persistent id with storage type {_short(storage_type)}"
            )
        if not (isinstance(key, str) and _KEY.fullmatch(key)):
            raise CheckpointFormatError(f"{self.what}: storage key {_short(key)} refused")
        if not (isinstance(location, str) and _LOCATION.fullmatch(location)):
            raise CheckpointFormatError(f"{self.what}: storage location {_short(location)} refused")
        if type(numel) is not int or numel < 0:
            raise CheckpointFormatError(f"{self.what}: storage size {_short(numel)} refused")
        return getattr(self.torch, dtype_name), key, location, numel

    def known(self, key: str, dtype: Any, numel: int) -> Any | None:
        """The storage already made for ``key``; refuse a key reused with another shape."""
        entry = self.by_key.get(key)
        if entry is None:
            return None
        storage, known_dtype, known_numel = entry
        if known_dtype != dtype or known_numel != numel:
            raise CheckpointFormatError(
                f"{self.what}: storage {key!r} declared twice with different types or sizes"
            )
        return storage

    def make(
        self,
        key: str,
        buffer: bytearray,
        dtype: Any,
        numel: int,
        location: str,
        *,
        swap_bytes: bool = False,
        stays_on_cpu: bool = False,
    ) -> Any:
        """A typed storage over ``buffer`` (shared, not copied, on the CPU)."""
        torch = self.torch
        if swap_bytes:
            swap_in_place(torch, buffer, dtype)
        if buffer:
            untyped = torch.frombuffer(buffer, dtype=torch.uint8).untyped_storage()
        else:
            untyped = torch.UntypedStorage(0)
        device = self.device if self.device is not None else torch.device(location)
        if device.type != "cpu":
            if stays_on_cpu:
                raise CheckpointFormatError(
                    f"{self.what}: legacy checkpoints load on the cpu only; move tensors after"
                )
            untyped = untyped.to(device=device)
        storage = torch.storage.TypedStorage(wrap_storage=untyped, dtype=dtype, _internal=True)
        self.by_key[key] = (storage, dtype, numel)
        self._owned.add(id(storage))
        return storage


def swap_in_place(torch: Any, buffer: bytearray, dtype: Any) -> None:
    """Reverse the byte order of each element (each half of a complex element) of ``buffer``."""
    unit = dtype.itemsize // 2 if dtype.is_complex else dtype.itemsize
    if unit <= 1 or not buffer:
        return
    if len(buffer) % unit:
        raise CheckpointFormatError("storage size is not a whole number of elements")
    rows = torch.frombuffer(buffer, dtype=torch.uint8).view(-1, unit)
    rows.copy_(rows.flip(1))


def torch_substitutes(table: StorageTable | None) -> Substitutes:
    """Stand-ins for storage types and tensor rebuilders, bound to ``table`` (or to none)."""

    def substitute(qualified: str) -> object | None:
        storage_name = _STORAGE_GLOBALS.get(qualified)
        if storage_name is not None:
            return StorageType(storage_name)
        if qualified in _TENSOR_REBUILDERS:
            return _guard_tensor(qualified, _TENSOR_REBUILDERS[qualified], table)
        if qualified in _PARAMETER_REBUILDERS:
            return _guard_parameter(qualified, _PARAMETER_REBUILDERS[qualified])
        return None

    return substitute


def _real(qualified: str) -> Callable[..., Any]:
    module, _, name = qualified.rpartition(".")
    found = resolve_global(module, name)
    if not callable(found):
        raise CheckpointFormatError(f"{qualified} is not callable here")
    return found


def _check_hooks(qualified: str, args: tuple[Any, ...], index: int | None) -> None:
    if index is not None and len(args) > index and args[index]:
        raise CheckpointFormatError(
            f"{qualified} with backward hooks: hooks are code and are never restored"
        )


def _guard_tensor(
    qualified: str, hooks_at: int | None, table: StorageTable | None
) -> Callable[..., Any]:
    def rebuild(*args: Any) -> Any:
        if not args or table is None or not table.owns(args[0]):
            raise CheckpointFormatError(
                f"{qualified} called on a storage that is not one of the checkpoint's own"
            )
        _check_hooks(qualified, args, hooks_at)
        return _real(qualified)(*args)

    return rebuild


def _guard_parameter(qualified: str, hooks_at: int) -> Callable[..., Any]:
    def rebuild(*args: Any) -> Any:
        _check_hooks(qualified, args, hooks_at)
        return _real(qualified)(*args)

    return rebuild
