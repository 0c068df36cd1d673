"""Fuzz the safetensors scanner: damaged files, arbitrary JSON headers, forged offsets."""

from __future__ import annotations

import json
import struct

from fuzz_mutations import JSON_VALUES, mutated_bytes
from fuzz_oracle import FUZZ, scan_soundly
from fuzz_seeds import safetensors_seed
from hypothesis import given
from hypothesis import strategies as st


@FUZZ
@given(data=st.deferred(lambda: mutated_bytes(safetensors_seed().data, safetensors_seed().fields)))
def test_damaged_safetensors_files_scan_soundly(data: bytes) -> None:
    scan_soundly(data, "model.safetensors")


@FUZZ
@given(
    header=st.dictionaries(st.text(max_size=16), JSON_VALUES, max_size=6),
    body=st.binary(max_size=64),
)
def test_arbitrary_json_headers_scan_soundly(header: dict[str, object], body: bytes) -> None:
    raw = json.dumps(header).encode()
    scan_soundly(struct.pack("<Q", len(raw)) + raw + body, "model.safetensors")


@FUZZ
@given(
    dtype=st.sampled_from(["F32", "F16", "BF16", "I64", "BOOL", "F8_E4M3", "X", ""]),
    shape=st.lists(st.integers(-1, 2**62), max_size=4),
    start=st.integers(-1, 2**64),
    end=st.integers(-1, 2**64),
)
def test_forged_tensor_entries_scan_soundly(
    dtype: str, shape: list[int], start: int, end: int
) -> None:
    header = {"w": {"dtype": dtype, "shape": shape, "data_offsets": [start, end]}}
    raw = json.dumps(header).encode()
    scan_soundly(struct.pack("<Q", len(raw)) + raw + b"\x00" * 16, "model.safetensors")
