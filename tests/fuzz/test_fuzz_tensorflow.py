"""Fuzz the TensorFlow SavedModel scanner: damaged saved_model.pb messages."""

from __future__ import annotations

from fuzz_mutations import mutated_bytes
from fuzz_oracle import FUZZ, scan_soundly
from fuzz_seeds import saved_model_pb
from hypothesis import given
from hypothesis import strategies as st


@FUZZ
@given(data=st.deferred(lambda: mutated_bytes(saved_model_pb())))
def test_damaged_saved_models_scan_soundly(data: bytes) -> None:
    scan_soundly(data, "saved_model.pb")


@FUZZ
@given(tail=st.binary(max_size=400))
def test_saved_model_header_with_arbitrary_tail_scans_soundly(tail: bytes) -> None:
    # Schema version 1 then field 2: the sniffed SavedModel start, followed by anything.
    scan_soundly(b"\x08\x01\x12" + tail, "saved_model.pb")


@FUZZ
@given(depth=st.integers(1, 3000))
def test_deeply_nested_messages_scan_soundly(depth: int) -> None:
    # Each level is a length-delimited field 2 holding the next: recursion must be bounded.
    message = b"\x08\x01"
    for _ in range(depth):
        message = b"\x12" + _varint(len(message)) + message
    scan_soundly(b"\x08\x01" + message, "saved_model.pb")


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)
