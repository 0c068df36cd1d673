"""safetensors: real files are clean; headers that lie about the data are MW180."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from safetensors.numpy import save_file as save_numpy
from safetensors.torch import save_file as save_torch

from mlwarden.engine import scan_file
from mlwarden.findings import Finding, Severity
from mlwarden.scanners.interface import Limits


def _scan(path: Path, limits: Limits | None = None) -> list[Finding]:
    return scan_file(str(path), path, limits).findings


def _split(path: Path) -> tuple[dict[str, Any], bytes]:
    data = path.read_bytes()
    (length,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8 : 8 + length]), data[8 + length :]


def _write(path: Path, header: dict[str, Any] | str, body: bytes) -> Path:
    raw = (header if isinstance(header, str) else json.dumps(header)).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + body)
    return path


@pytest.fixture
def real_file(tmp_path: Path) -> Path:
    path = tmp_path / "model.safetensors"
    tensors = {
        "embed.weight": torch.randn(10, 4),
        "head.bias": torch.zeros(3, dtype=torch.bfloat16),
        "mask": torch.ones(2, 2, dtype=torch.bool),
        "empty": torch.zeros(0, 5),
    }
    save_torch(tensors, str(path), metadata={"format": "pt"})
    return path


def test_torch_file_is_clean(real_file: Path) -> None:
    assert _scan(real_file) == []


def test_numpy_file_is_clean(tmp_path: Path) -> None:
    path = tmp_path / "arrays.bin"
    arrays = {"a": np.arange(12, dtype=np.int64).reshape(3, 4), "b": np.ones(3, np.float16)}
    save_numpy(arrays, str(path))
    assert _scan(path) == []


def _tampered(tmp_path: Path, real_file: Path, change: Any) -> list[Finding]:
    header, body = _split(real_file)
    body = change(header, body) or body
    return _scan(_write(tmp_path / "tampered.safetensors", header, body))


def _assert_inconsistent(findings: list[Finding], needle: str) -> None:
    assert [f.rule for f in findings] == ["MW180"]
    assert findings[0].severity is Severity.HIGH
    assert findings[0].evidence["format"] == "safetensors"
    assert any(needle in p for p in findings[0].evidence["problems"]), findings[0].evidence


def test_offsets_past_the_file(tmp_path: Path, real_file: Path) -> None:
    def change(h: dict[str, Any], body: bytes) -> None:
        h["embed.weight"]["data_offsets"][1] += 10_000

    _assert_inconsistent(_tampered(tmp_path, real_file, change), "past the data region")


def test_overlapping_tensors(tmp_path: Path, real_file: Path) -> None:
    def change(h: dict[str, Any], body: bytes) -> None:
        start = h["embed.weight"]["data_offsets"][0]
        h["head.bias"]["data_offsets"] = [start, start + 6]

    _assert_inconsistent(_tampered(tmp_path, real_file, change), "overlaps")


def test_wrong_byte_length(tmp_path: Path, real_file: Path) -> None:
    def change(h: dict[str, Any], body: bytes) -> None:
        h["embed.weight"]["shape"] = [10, 5]

    _assert_inconsistent(_tampered(tmp_path, real_file, change), "expected")


def test_unknown_dtype_and_negative_shape(tmp_path: Path, real_file: Path) -> None:
    def change(h: dict[str, Any], body: bytes) -> None:
        h["embed.weight"]["dtype"] = "PICKLE"
        h["head.bias"]["shape"] = [-3]

    findings = _tampered(tmp_path, real_file, change)
    _assert_inconsistent(findings, "unknown dtype")
    _assert_inconsistent(findings, "non-negative")


def test_trailing_bytes(tmp_path: Path, real_file: Path) -> None:
    _assert_inconsistent(
        _tampered(tmp_path, real_file, lambda h, body: body + b"\x80\x04hidden"), "not described"
    )


def test_gap_between_tensors(tmp_path: Path) -> None:
    header = {
        "a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
        "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]},
    }
    _assert_inconsistent(_scan(_write(tmp_path / "g.safetensors", header, bytes(12))), "gap")


def test_non_string_metadata(tmp_path: Path) -> None:
    header = {
        "__metadata__": {"n": 3},
        "a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
    }
    _assert_inconsistent(_scan(_write(tmp_path / "m.safetensors", header, bytes(4))), "strings")


def test_duplicate_names(tmp_path: Path) -> None:
    entry = '{"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}'
    header = '{"a": ' + entry + ', "a": ' + entry + "}"
    _assert_inconsistent(_scan(_write(tmp_path / "d.safetensors", header, bytes(4))), "duplicate")


def test_truncated_header_fails_closed(tmp_path: Path, real_file: Path) -> None:
    data = real_file.read_bytes()
    path = tmp_path / "cut.safetensors"
    path.write_bytes(data[:40])
    findings = _scan(path)
    assert [f.rule for f in findings] == ["MW002"]
    assert findings[0].severity is Severity.HIGH


def test_truncated_data_is_inconsistent(tmp_path: Path, real_file: Path) -> None:
    data = real_file.read_bytes()
    path = tmp_path / "cut.safetensors"
    path.write_bytes(data[:-8])
    _assert_inconsistent(_scan(path), "past the data region")


def test_invalid_json_fails_closed(tmp_path: Path) -> None:
    findings = _scan(_write(tmp_path / "j.safetensors", '{"a": [1, 2', b""))
    assert [f.rule for f in findings] == ["MW002"]


def test_header_over_the_limit(tmp_path: Path, real_file: Path) -> None:
    findings = _scan(real_file, Limits(max_metadata_bytes=16))
    assert [f.rule for f in findings] == ["MW001"]


def test_a_header_length_past_any_limit_and_the_file_is_a_lie(tmp_path: Path) -> None:
    # Regression: a length field of 2**40 made the file look like something else entirely.
    path = tmp_path / "lie.safetensors"
    header = b'{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}'
    path.write_bytes(struct.pack("<Q", 2**40) + header + b"\x00" * 4)
    _assert_inconsistent(_scan(path), "header length says")
