"""``safe_load``: open a pickle-based checkpoint without letting it run code.

The format is decided by content, as everywhere in mlwarden: a PyTorch zip checkpoint, a
legacy ``torch.save`` stream, a joblib file (compressed or not), a plain pickle, a NumPy
``.npy`` or ``.npz``. Every pickle in it goes through :class:`RestrictedUnpickler`; tensor and
array bytes are read by this package, never by ``torch.load`` or ``np.load(allow_pickle=True)``.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import stat
import zipfile
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from mlwarden.protect.errors import CheckpointFormatError, SafeLoadError
from mlwarden.protect.numpy_files import load_npy, load_npz
from mlwarden.protect.stream import CHUNK_BYTES, BoundedStream, ByteReader
from mlwarden.protect.torch_checkpoint import (
    LEGACY_MAGIC,
    load_torch_legacy,
    load_torch_zip,
    torch_zip_prefix,
)
from mlwarden.protect.torch_storages import torch_substitutes
from mlwarden.protect.unpickler import GlobalGate, RestrictedUnpickler
from mlwarden.scanners.interface import Limits
from mlwarden.sniff import HEAD_BYTES, Kind, sniff

__all__ = ["safe_load"]


def safe_load(
    path: str | os.PathLike[str],
    *,
    allow: Iterable[str] = (),
    map_location: Any = "cpu",
    limits: Limits | None = None,
) -> Any:
    """Load a pickle-based checkpoint, admitting only globals known to be safe.

    Reads plain pickles, PyTorch checkpoints (zip and legacy), joblib files (compressed or
    not, arrays included) and NumPy ``.npy``/``.npz`` files. Globals are admitted when the
    allowlist of :mod:`mlwarden.scanners.models.pickle.policy` accepts them or when ``allow``
    names them (``"module.name"``); anything else raises :class:`UnsafeGlobalError` before it
    is imported or called. A malformed, truncated or inconsistent file raises
    :class:`CheckpointFormatError`. Both are :class:`SafeLoadError`.

    ``map_location`` is where tensors go: a device name or ``torch.device`` (default
    ``"cpu"``), or ``None`` for the device recorded in the checkpoint. torch is needed only
    for files that hold tensors. ``limits`` bounds pickle opcodes, pickle and archive sizes,
    archive members and decompressed bytes (:class:`mlwarden.Limits` defaults).
    """
    limits = limits or Limits()
    gate = GlobalGate(allow)
    device = _device(map_location)
    what = str(path)
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below, on every path
    except OSError as exc:
        raise SafeLoadError(f"cannot read {what}: {exc.strerror or exc}") from None
    with handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise SafeLoadError(f"cannot read {what}: not a regular file")
        head = handle.read(HEAD_BYTES)
        handle.seek(0)
        kind = sniff(head, Path(what).name)
        try:
            return _load(handle, head, kind, info.st_size, what, gate, limits, device)
        except SafeLoadError:
            raise
        except (OSError, EOFError, zipfile.BadZipFile, lzma.LZMAError, zlib.error) as exc:
            raise CheckpointFormatError(f"{what}: cannot read: {exc}") from None


def _device(map_location: Any) -> Any:
    # Checked here, turned into a torch.device only by the loaders that make tensors: a
    # joblib or NumPy file loads without torch.
    if map_location is None or isinstance(map_location, str):
        return map_location
    if type(map_location).__name__ == "device":
        return map_location
    raise TypeError("map_location is a device name, a torch.device or None")


def _load(
    handle: IO[bytes],
    head: bytes,
    kind: Kind,
    size: int,
    what: str,
    gate: GlobalGate,
    limits: Limits,
    device: Any,
) -> Any:
    if kind is Kind.ZIP:
        return _load_zip(handle, what, gate, limits, device)
    source = BoundedStream(handle, size=size, max_bytes=size, what=what)
    if kind is Kind.NUMPY:
        return load_npy(source, gate, limits)
    if kind is Kind.PICKLE:
        return _load_pickle(source, gate, limits, device, legacy_allowed=True)
    if kind is Kind.COMPRESSED:
        stream = _decompressor(handle, head, what)
        inner = BoundedStream(stream, size=None, max_bytes=limits.max_uncompressed_bytes, what=what)
        return _load_pickle(inner, gate, limits, device, legacy_allowed=False)
    if kind is Kind.TAR:
        raise CheckpointFormatError(
            f"{what}: a tar archive (PyTorch < 0.4 checkpoints used one); it is not read"
        )
    if kind is Kind.SAFETENSORS:
        raise CheckpointFormatError(
            f"{what}: already a safetensors file; load it with safetensors, it holds no code"
        )
    raise CheckpointFormatError(f"{what}: not a pickle-based checkpoint (looks like: {kind.value})")


def _load_pickle(
    source: BoundedStream, gate: GlobalGate, limits: Limits, device: Any, *, legacy_allowed: bool
) -> Any:
    value = RestrictedUnpickler(
        source, gate, max_opcodes=limits.max_pickle_opcodes, substitutes=torch_substitutes(None)
    ).load_object()
    if legacy_allowed and type(value) is int and value == LEGACY_MAGIC and not source.at_end():
        return load_torch_legacy(source, gate=gate, limits=limits, device=device)
    if not source.at_end():
        raise CheckpointFormatError(
            f"{source.what}: data follows the end of the pickle; only whole files are loaded"
        )
    return value


def _load_zip(handle: IO[bytes], what: str, gate: GlobalGate, limits: Limits, device: Any) -> Any:
    with zipfile.ZipFile(handle) as archive:
        infos = archive.infolist()
        if len(infos) > limits.max_archive_members:
            raise CheckpointFormatError(f"{what}: more than {limits.max_archive_members} members")
        names = [i.filename for i in infos]
        if len(set(names)) != len(names):
            raise CheckpointFormatError(f"{what}: the same member name appears twice")
        try:
            prefix = torch_zip_prefix(names)
        except CheckpointFormatError as exc:
            raise CheckpointFormatError(f"{what}: {exc}") from None
        if prefix is not None:
            return load_torch_zip(
                archive, prefix, what=what, gate=gate, limits=limits, device=device
            )
        files = [n for n in names if not n.endswith("/")]
        if files and all(n.endswith(".npy") for n in files):
            return load_npz(archive, what=what, gate=gate, limits=limits)
    raise CheckpointFormatError(
        f"{what}: a zip archive that is neither a PyTorch checkpoint nor an .npz file"
    )


class _ZlibReader(io.RawIOBase):
    """A zlib stream (joblib's ``compress="zlib"``), decompressed as it is read."""

    def __init__(self, raw: IO[bytes], what: str) -> None:
        super().__init__()
        self._raw = raw
        self._what = what
        self._inflate = zlib.decompressobj()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if not len(view):
            return 0
        while True:
            if self._inflate.unconsumed_tail:
                data = self._inflate.decompress(self._inflate.unconsumed_tail, len(view))
            elif self._inflate.eof:
                return 0
            else:
                chunk = self._raw.read(64 * 1024)
                if not chunk:
                    raise CheckpointFormatError(f"{self._what}: the zlib stream is truncated")
                data = self._inflate.decompress(chunk, len(view))
            if data:
                view[: len(data)] = data
                return len(data)


def _decompressor(handle: IO[bytes], head: bytes, what: str) -> ByteReader:
    """A decompressing reader for the compressors joblib writes."""
    if head.startswith(b"\x1f\x8b"):
        return gzip.GzipFile(fileobj=handle, mode="rb")
    if head.startswith(b"BZh"):
        return bz2.BZ2File(handle, "rb")
    if head.startswith(b"\xfd7zXZ\x00"):
        return lzma.LZMAFile(handle, "rb", format=lzma.FORMAT_XZ)
    if head[:1] == b"\x5d":
        return lzma.LZMAFile(handle, "rb", format=lzma.FORMAT_ALONE)
    if head[:1] == b"\x78":
        return io.BufferedReader(_ZlibReader(handle, what), CHUNK_BYTES)
    if head.startswith(b"\x04\x22\x4d\x18"):
        try:
            import lz4.frame  # type: ignore[import-not-found, unused-ignore]
        except ImportError:
            raise SafeLoadError(f"{what}: lz4-compressed; install lz4 to read it") from None
        return lz4.frame.LZ4FrameFile(handle, "rb")  # type: ignore[no-any-return]
    raise CheckpointFormatError(f"{what}: compressed with a method joblib does not write")
