"""Fuzz the GGUF scanner: damaged files from the gguf writer, forged counts and lengths."""

from __future__ import annotations

import struct

from fuzz_mutations import EXTREME_LENGTHS, chat_templates, mutated_bytes
from fuzz_oracle import FUZZ, scan_soundly
from fuzz_seeds import gguf_seed
from hypothesis import given
from hypothesis import strategies as st


@FUZZ
@given(data=st.deferred(lambda: mutated_bytes(gguf_seed().data, gguf_seed().fields)))
def test_damaged_gguf_files_scan_soundly(data: bytes) -> None:
    scan_soundly(data, "model.gguf")


@FUZZ
@given(
    version=st.sampled_from([1, 2, 3, 4, 0xFFFFFFFF]),
    tensors=st.sampled_from(EXTREME_LENGTHS),
    entries=st.sampled_from(EXTREME_LENGTHS),
    body=st.binary(max_size=256),
)
def test_forged_gguf_headers_scan_soundly(
    version: int, tensors: int, entries: int, body: bytes
) -> None:
    header = b"GGUF" + struct.pack("<IQQ", version, tensors, entries)
    scan_soundly(header + body, "forged.gguf")


@FUZZ
@given(
    value_type=st.integers(0, 20),
    count=st.sampled_from(EXTREME_LENGTHS),
    nested=st.integers(1, 64),
)
def test_forged_metadata_arrays_scan_soundly(value_type: int, count: int, nested: int) -> None:
    # One metadata entry: an array (type 9) of arrays ... of value_type, each claiming count.
    key = b"fuzz.array"
    value = b""
    for _ in range(nested):
        value += struct.pack("<IQ", 9, count)
    value += struct.pack("<IQ", value_type, count) + b"\x01" * 64
    entry = struct.pack("<Q", len(key)) + key + struct.pack("<I", 9) + value[4:]
    scan_soundly(b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + entry, "arrays.gguf")


def _gguf_with_template(template: bytes) -> bytes:
    key = b"tokenizer.chat_template"
    entry = struct.pack("<Q", len(key)) + key + struct.pack("<IQ", 8, len(template)) + template
    return b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + entry


@FUZZ
@given(template=chat_templates())
def test_arbitrary_chat_templates_scan_soundly(template: str) -> None:
    scan_soundly(_gguf_with_template(template.encode("utf-8", "surrogatepass")), "chat.gguf")


@FUZZ
@given(
    depth=st.integers(1, 20_000),
    opener=st.sampled_from(["{% if x %}", "{{ (", "{% for a in b %}", "{{ [", "{{ a."]),
)
def test_deeply_nested_chat_templates_scan_soundly(depth: int, opener: str) -> None:
    closer = {
        "{% if x %}": "{% endif %}",
        "{{ (": ") }}",
        "{% for a in b %}": "{% endfor %}",
        "{{ [": "] }}",
        "{{ a.": "b }}",
    }[opener]
    scan_soundly(_gguf_with_template((opener * depth + closer * depth).encode()), "deep.gguf")
