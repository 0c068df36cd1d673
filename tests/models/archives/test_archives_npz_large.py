"""NumPy ``.npz`` archives, and the cost of scanning a multi-gigabyte PyTorch-like ZIP."""

from __future__ import annotations

import io
import pickle
import struct
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from archive_builders import Payload, describe, rules_at, scan, serious

from mlwarden.findings import Finding
from mlwarden.scanners.interface import Artifact, Limits, ScanContext
from mlwarden.scanners.models.archives import ZipScanner
from mlwarden.sniff import HEAD_BYTES, Kind


def _containers(path: Path) -> dict[str, str | None]:
    """Member name -> ``container`` of what the ZIP scanner hands back to the engine."""
    seen: dict[str, str | None] = {}

    def capture(artifact: Artifact, _context: ScanContext) -> Iterator[Finding]:
        seen[str(artifact.member)] = artifact.container
        return iter(())

    data = path.read_bytes()
    artifact = Artifact(
        path=str(path), kind=Kind.ZIP, size=len(data), opener=lambda: io.BytesIO(data),
        head=data[:HEAD_BYTES],
    )  # fmt: skip
    list(ZipScanner().scan(artifact, ScanContext(limits=Limits(), nested=capture)))
    return seen


def test_npz_of_numbers_is_quiet(tmp_path: Path) -> None:
    path = tmp_path / "arrays.npz"
    np.savez_compressed(path, weights=np.arange(1000, dtype=np.float32), bias=np.zeros(3))
    result = scan(path)
    assert not serious(result), describe(result)
    assert _containers(path) == {"weights.npy": "npz", "bias.npy": "npz"}


def test_npz_object_array_with_payload(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    path = tmp_path / "objects.npz"
    objects = np.empty(2, dtype=object)
    objects[0], objects[1] = "label", Payload(marker)
    np.savez(path, numbers=np.ones(4), objects=objects)
    result = scan(path)
    assert "MW100" in rules_at(result, "objects.npy"), describe(result)
    assert rules_at(result, "numbers.npy") == set(), describe(result)
    assert not marker.exists()


GIB = 1024**3


def _sparse_torch_like_zip(path: Path, storage_size: int) -> None:
    """``archive/data.pkl``, a ``storage_size`` stored storage of zeros (a hole in a sparse
    file, so the disk is not filled), ``byteorder`` and ``version``: the layout of torch.save."""
    pickle_bytes = pickle.dumps({"weight": "archive/data/0"}, protocol=2)
    members = [
        ("archive/data.pkl", pickle_bytes, zlib.crc32(pickle_bytes)),
        ("archive/byteorder", b"little", zlib.crc32(b"little")),
        ("archive/data/0", None, _zeros_crc(storage_size)),
        ("archive/version", b"3\n", zlib.crc32(b"3\n")),
    ]
    central = bytearray()
    with path.open("wb") as out:
        for name, data, crc in members:
            raw_name = name.encode()
            size = storage_size if data is None else len(data)
            offset = out.tell()
            local = (20, 0, 0, 0, 0x21, crc, size, size, len(raw_name), 0)
            out.write(struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", *local))
            out.write(raw_name)
            if data is None:
                out.seek(size, io.SEEK_CUR)  # leaves a hole: zeros that take no disk space
            else:
                out.write(data)
            listed = (20, 20, 0, 0, 0, 0x21, crc, size, size, len(raw_name), 0, 0, 0, 0, 0, offset)
            central += struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", *listed)
            central += raw_name
        directory_offset = out.tell()
        out.write(central)
        end = (0, 0, len(members), len(members), len(central), directory_offset, 0)
        out.write(struct.pack("<4sHHHHIIH", b"PK\x05\x06", *end))


def _zeros_crc(size: int) -> int:
    """CRC-32 of ``size`` zero bytes without reading them: the CRC register update is linear
    over GF(2), so feeding 8 * size zero bits is a 32x32 matrix power (square and multiply)."""

    def times(matrix: list[int], vector: int) -> int:
        total, row = 0, 0
        while vector:
            if vector & 1:
                total ^= matrix[row]
            vector >>= 1
            row += 1
        return total

    step = [0xEDB88320] + [1 << (n - 1) for n in range(1, 32)]  # one zero bit
    register, bits = 0xFFFFFFFF, 8 * size
    while bits:
        if bits & 1:
            register = times(step, register)
        step = [times(step, column) for column in step]
        bits >>= 1
    return register ^ 0xFFFFFFFF


def test_zero_crc_helper() -> None:
    for size in (0, 1, 7, 1000, 65537):
        assert _zeros_crc(size) == zlib.crc32(bytes(size))


def test_two_gigabyte_torch_like_zip_scans_fast_and_small(tmp_path: Path) -> None:
    path = tmp_path / "big.pt"
    _sparse_torch_like_zip(path, 2 * GIB + 12345)
    tracemalloc.start()
    started = time.process_time()  # CPU time: other work on a busy machine does not count
    result = scan(path)
    elapsed = time.process_time() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert elapsed < 2.0, elapsed
    assert peak < 50 * 1024 * 1024, peak
    assert not serious(result), describe(result)
    assert _containers(path) == {
        "archive/data.pkl": "pytorch-zip",
        "archive/byteorder": "pytorch-zip",
        "archive/version": "pytorch-zip",
    }
