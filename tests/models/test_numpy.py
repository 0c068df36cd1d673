"""NumPy .npy files: numeric arrays are quiet and never read; object arrays are analysed."""

from __future__ import annotations

import io
import os
import struct
from pathlib import Path

import numpy as np
import pytest

from mlwarden.engine import scan_bytes, scan_file
from mlwarden.findings import Severity


class Payload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return os.system, (f"touch {self.marker}",)


def npy(array: np.ndarray, version: tuple[int, int] | None = None) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, version=version, allow_pickle=True)
    return buffer.getvalue()


@pytest.mark.parametrize("version", [None, (1, 0), (2, 0), (3, 0)])
def test_numeric_arrays_are_clean(version: tuple[int, int] | None) -> None:
    for array in (np.arange(10.0), np.zeros((3, 4), dtype="<i2"), np.array(["é", "b"])):
        assert scan_bytes(npy(array, version), "a.npy") == []


def test_numeric_data_is_not_read(tmp_path: Path) -> None:
    # A header promising 10**12 elements with no data: the header alone decides.
    header = b"{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,), }"
    header += b" " * (-(len(header) + 11) % 64) + b"\n"
    path = tmp_path / "huge.npy"
    path.write_bytes(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header)
    assert scan_file(str(path), path).findings == []


@pytest.mark.parametrize("version", [(1, 0), (2, 0), (3, 0)])
def test_object_array_is_medium(version: tuple[int, int]) -> None:
    findings = scan_bytes(npy(np.array([1, "a", None], dtype=object), version), "o.npy")
    assert [f.rule for f in findings] == ["MW104"]
    assert findings[0].severity is Severity.MEDIUM
    assert findings[0].evidence["format"] == "numpy"


def test_structured_array_with_object_field() -> None:
    array = np.zeros(2, dtype=[("a", "f4"), ("b", "O")])
    assert [f.rule for f in scan_bytes(npy(array), "s.npy")] == ["MW104"]


def test_object_array_with_payload(marker: Path, tmp_path: Path) -> None:
    path = tmp_path / "payload.npy"
    path.write_bytes(npy(np.array([Payload(marker)], dtype=object)))
    findings = scan_file(str(path), path).findings
    assert sorted(f.rule for f in findings) == ["MW100", "MW104"]
    hit = next(f for f in findings if f.rule == "MW100")
    assert hit.severity is Severity.CRITICAL
    assert hit.evidence["format"] == "numpy"
    assert hit.evidence["offset"] > 10
    assert not marker.exists()


def test_bad_headers_fail_closed() -> None:
    good = npy(np.arange(3.0))
    assert [f.rule for f in scan_bytes(good[:12], "t.npy")] == ["MW002"]
    call = b"{'descr': __import__('os').system('id'), 'fortran_order': False, 'shape': ()}\n"
    evil = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(call)) + call
    assert [f.rule for f in scan_bytes(evil, "e.npy")] == ["MW002"]
    assert [f.rule for f in scan_bytes(b"\x93NUMPY\x09\x00xx", "v.npy")] == ["MW002"]


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    return tmp_path / "PAYLOAD_RAN"
