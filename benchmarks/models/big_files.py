"""Multi-gigabyte model files, written in chunks so building them needs little memory.

The PyTorch checkpoints have the layout ``torch.save`` produces (``archive/data.pkl``
naming ``storage`` persistent ids, one stored member per storage, 64-byte aligned
data) so ``torch.load(..., weights_only=True, mmap=True)`` accepts them; only the
tensor bytes are zeros instead of trained weights.
"""

from __future__ import annotations

import collections
import io
import pickle
import struct
import zipfile
from pathlib import Path
from typing import Any

import opcodes as op
import payloads

CHUNK = 64 << 20
#: One storage: an 8192 x 8192 float32 matrix (256 MiB).
SIDE = 8192
STORAGE_BYTES = SIDE * SIDE * 4
ALIGNMENT = 64


class _Storage:
    """Stands for a storage that the zip holds as ``archive/data/<key>``."""

    def __init__(self, key: str, numel: int) -> None:
        self.key = key
        self.numel = numel


class _Tensor:
    """Pickles the way torch pickles a tensor: a call to ``_rebuild_tensor_v2``."""

    def __init__(self, storage: _Storage, shape: tuple[int, ...]) -> None:
        self.storage = storage
        self.shape = shape

    def __reduce__(self) -> tuple[Any, ...]:
        import torch._utils

        stride = tuple(int(s) for s in _contiguous_stride(self.shape))
        return (
            torch._utils._rebuild_tensor_v2,
            (self.storage, 0, self.shape, stride, False, collections.OrderedDict()),
        )


def _contiguous_stride(shape: tuple[int, ...]) -> list[int]:
    stride, acc = [], 1
    for dim in reversed(shape):
        stride.append(acc)
        acc *= dim
    return list(reversed(stride))


class _CheckpointPickler(pickle.Pickler):
    """Writes storages as persistent ids, as ``torch.serialization`` does."""

    def persistent_id(self, obj: Any) -> Any:
        import torch

        if isinstance(obj, _Storage):
            return ("storage", torch.FloatStorage, obj.key, "cpu", obj.numel)
        return None


def _data_pkl(n_storages: int) -> bytes:
    state: dict[str, _Tensor] = collections.OrderedDict()
    for i in range(n_storages):
        state[f"layers.{i}.weight"] = _Tensor(_Storage(str(i), SIDE * SIDE), (SIDE, SIDE))
    buffer = io.BytesIO()
    _CheckpointPickler(buffer, protocol=2).dump(state)
    return buffer.getvalue()


def _aligned_member(archive: zipfile.ZipFile, name: str, size: int) -> zipfile.ZipInfo:
    """A ZipInfo whose extra field pads the local header so the data starts aligned."""
    info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    assert archive.fp is not None
    offset = archive.fp.tell()
    # Local header: 30 fixed bytes + name + our extra + the 20-byte zip64 extra zipfile adds.
    base = offset + 30 + len(name.encode()) + 20 + 4
    pad = (-base) % ALIGNMENT
    info.extra = struct.pack("<HH", 0x4246, pad) + bytes(pad)  # "FB" padding record
    return info


def write_torch_zip(path: Path, total_bytes: int) -> None:
    """A PyTorch zip checkpoint of ``total_bytes`` of float32 weights."""
    n = max(1, total_bytes // STORAGE_BYTES)
    prefix = "archive/"
    zeros = bytes(CHUNK)
    with zipfile.ZipFile(path, "w", allowZip64=True) as archive:
        archive.writestr(prefix + "data.pkl", _data_pkl(n))
        archive.writestr(prefix + ".format_version", "1")
        archive.writestr(prefix + ".storage_alignment", str(ALIGNMENT))
        archive.writestr(prefix + "byteorder", "little")
        for key in range(n):
            info = _aligned_member(archive, f"{prefix}data/{key}", STORAGE_BYTES)
            with archive.open(info, "w", force_zip64=True) as member:
                left = STORAGE_BYTES
                while left:
                    step = min(CHUNK, left)
                    member.write(zeros if step == CHUNK else bytes(step))
                    left -= step
        archive.writestr(prefix + "version", "3\n")
        archive.writestr(prefix + ".data/serialization_id", "0" * 40)


def write_payload_pickle(path: Path, work: Path, blob_bytes: int) -> None:
    """One pickle: a ``blob_bytes`` BINBYTES8 weight blob, then an os.system call."""
    _, body = payloads.payload_bodies(str(work))["os_system"]
    with path.open("wb") as handle:
        op.write_blob_then(handle, blob_bytes, body)


def build(work: Path, sizes_gib: tuple[int, ...] = (1, 10)) -> dict[str, dict[str, Any]]:
    """Build the big cases; returns name -> {path, malicious, technique}."""
    big = work / "big"
    big.mkdir(parents=True, exist_ok=True)
    cases: dict[str, dict[str, Any]] = {}
    for gib in sizes_gib:
        path = big / f"checkpoint_{gib}gb.pt"
        if not path.exists() or path.stat().st_size < gib << 30:
            write_torch_zip(path, gib << 30)
        cases[f"pytorch_zip_{gib}gb"] = {
            "path": str(path),
            "malicious": False,
            "technique": f"benign {gib} GiB PyTorch zip checkpoint",
        }
    path = big / "pickle_1gb_payload_after.pkl"
    if not path.exists() or path.stat().st_size < 1 << 30:
        write_payload_pickle(path, work, 1 << 30)
    cases["pickle_1gb_payload_after_blob"] = {
        "path": str(path),
        "malicious": True,
        "technique": "os.system after a 1 GiB BINBYTES8 blob in the same pickle",
    }
    return cases


def verify_loadable(path: Path) -> str:
    """Load a built checkpoint with torch (weights only, memory-mapped): our own benign file."""
    import torch

    state = torch.load(path, weights_only=True, mmap=True)
    shapes = {tuple(t.shape) for t in state.values()}
    return f"{len(state)} tensors, shapes {shapes}"
