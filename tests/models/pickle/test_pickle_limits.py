"""Bounds: large arguments are skipped with flat memory; limits and truncation fail closed."""

from __future__ import annotations

import pickle
import struct
import tracemalloc
from pathlib import Path

from pickle_asm import REDUCE, TUPLE1, glob, program, ustr

from mlwarden.engine import scan_bytes, scan_file
from mlwarden.findings import Severity
from mlwarden.scanners.interface import Limits

BLOB = 200 * 1024 * 1024


def test_payload_after_200_mb_blob_with_flat_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.pkl"
    chunk = b"\xab" * (4 * 1024 * 1024)
    with path.open("wb") as out:
        out.write(b"\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00\x00")  # PROTO 4, empty FRAME
        out.write(b"\x8e" + struct.pack("<Q", BLOB))  # BINBYTES8 header
        for _ in range(BLOB // len(chunk)):
            out.write(chunk)
        out.write(b"0")  # POP the blob
        out.write(glob("os", "system") + ustr("touch /nonexistent") + TUPLE1 + REDUCE + b".")
    tracemalloc.start()
    try:
        result = scan_file(str(path), path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    rules = [f.rule for f in result.findings]
    assert rules == ["MW100"], result.findings
    assert result.findings[0].evidence["offset"] > BLOB
    assert peak < 16 * 1024 * 1024, f"peak traced memory {peak} bytes"


def test_large_unicode_argument_is_skipped() -> None:
    text = "x" * 200_000
    data = pickle.dumps([text, text + "y"], protocol=4)
    assert scan_bytes(data) == []


def test_opcode_limit() -> None:
    data = pickle.dumps(list(range(5000)), protocol=2)
    findings = scan_bytes(data, limits=Limits(max_pickle_opcodes=1000))
    assert [f.rule for f in findings] == ["MW001"]
    assert findings[0].evidence["limit"] == "max_pickle_opcodes"


def test_findings_before_the_limit_are_kept() -> None:
    payload = program(glob("os", "system") + ustr("id") + TUPLE1 + REDUCE)
    data = payload + pickle.dumps(list(range(5000)), protocol=4)
    rules = sorted(f.rule for f in scan_bytes(data, limits=Limits(max_pickle_opcodes=500)))
    assert rules == ["MW001", "MW100"]


def test_pickles_per_file_limit() -> None:
    data = pickle.dumps(1, protocol=4) * 10
    findings = scan_bytes(data, limits=Limits(max_pickles_per_file=3))
    assert [f.evidence["limit"] for f in findings if f.rule == "MW001"] == ["max_pickles_per_file"]


def test_truncated_pickle_fails_closed() -> None:
    data = pickle.dumps({"a": list(range(100))}, protocol=4)
    findings = scan_bytes(data[:-7])
    assert [f.rule for f in findings] == ["MW002"]
    assert findings[0].severity is Severity.HIGH


def test_truncated_blob_fails_closed(tmp_path: Path) -> None:
    path = tmp_path / "cut.pkl"
    path.write_bytes(b"\x80\x04\x8e" + struct.pack("<Q", 10**9) + b"\x00" * 100_000)
    assert [f.rule for f in scan_file(str(path), path).findings] == ["MW002"]


def test_payload_before_truncation_is_reported() -> None:
    payload = glob("os", "system") + ustr("id") + TUPLE1 + REDUCE
    data = b"\x80\x04" + payload + b"\x8c\x40abc"
    assert sorted(f.rule for f in scan_bytes(data)) == ["MW002", "MW100"]


def test_invalid_opcode_and_stack_underflow_fail_closed() -> None:
    assert [f.rule for f in scan_bytes(b"\x80\x04\xff.")] == ["MW002"]
    assert [f.rule for f in scan_bytes(b"\x80\x04R.")] == ["MW002"]
    assert [f.rule for f in scan_bytes(b"\x80\x04h\x05.")] == ["MW002"]
