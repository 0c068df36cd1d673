"""The protobuf wire-format reader: values, nesting, skipping, truncation and limits."""

from __future__ import annotations

import io

import pytest

from mlwarden.scanners.interface import FormatError, LimitExceeded
from mlwarden.scanners.models import protobuf
from mlwarden.scanners.models.protobuf import ProtoReader, WireType, as_signed, decode_varint


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def ld(number: int, payload: bytes) -> bytes:
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def _reader(data: bytes, max_bytes: int = 1 << 20) -> ProtoReader:
    return ProtoReader.from_stream(io.BytesIO(data), len(data), max_bytes=max_bytes)


@pytest.fixture(params=[True, False], ids=["in-memory", "streamed"])
def inline(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    if not request.param:
        monkeypatch.setattr(protobuf, "INLINE_BYTES", 0)
    return bool(request.param)


def test_all_wire_types(inline: bool) -> None:
    data = (
        varint(1 << 3) + varint(300)
        + varint(2 << 3 | 1) + (7).to_bytes(8, "little")
        + ld(3, b"hello")
        + varint(4 << 3 | 5) + (9).to_bytes(4, "little")
        + varint(5 << 3 | 3) + varint(1 << 3) + varint(1) + varint(5 << 3 | 4)  # a group
        + varint(6 << 3) + varint(2**64 - 1)
    )  # fmt: skip
    fields = list(_reader(data).root().fields())
    assert [(f.number, f.wire_type) for f in fields] == [
        (1, WireType.VARINT),
        (2, WireType.I64),
        (3, WireType.LEN),
        (4, WireType.I32),
        (6, WireType.VARINT),
    ]
    assert fields[0].value == 300
    assert fields[1].value == 7
    assert fields[2].text() == "hello"
    assert fields[3].value == 9
    assert as_signed(fields[4].value) == -1


def test_nested_messages_and_skipped_payloads(inline: bool) -> None:
    big = bytes(5000)
    inner = ld(1, b"name") + ld(9, big) + ld(2, ld(1, b"deep"))
    data = ld(7, inner) + ld(8, b"after")
    root = list(_reader(data).root().fields())
    assert [f.number for f in root] == [7, 8]
    nested = list(root[0].message().fields())
    assert [f.number for f in nested] == [1, 9, 2]
    assert nested[0].text() == "name"
    assert nested[1].value == len(big)
    assert [f.text() for f in nested[2].message().fields()] == ["deep"]
    assert root[1].text() == "after"


@pytest.mark.parametrize(
    "data",
    [
        b"\x80",  # varint cut short
        b"\x08" + b"\xff" * 11,  # varint over 10 bytes
        b"\x00\x01",  # field number 0
        b"\x0e\x01",  # wire type 6
        ld(1, b"abc")[:-1],  # length past the end
        b"\x0c",  # end-group with no start
        varint(5 << 3 | 3) + b"\x08\x01",  # group never closed
        b"\x09\x01\x02",  # fixed64 cut short
    ],
)
def test_malformed_input_is_a_format_error(data: bytes, inline: bool) -> None:
    with pytest.raises(FormatError):
        list(_reader(data).root().fields())


def test_nested_message_longer_than_its_parent() -> None:
    data = ld(1, ld(2, b"x" * 10)[:5])
    (outer,) = _reader(data).root().fields()
    with pytest.raises(FormatError):
        list(outer.message().fields())


def test_depth_limit() -> None:
    data = b"x"
    for _ in range(protobuf.MAX_DEPTH + 2):
        data = ld(1, data)
    message = _reader(data).root()
    with pytest.raises(LimitExceeded):
        for _ in range(protobuf.MAX_DEPTH + 2):
            (field,) = message.fields()
            message = field.message()


def test_string_limit_and_head() -> None:
    (field,) = _reader(ld(1, b"a" * 100), max_bytes=10).root().fields()
    with pytest.raises(LimitExceeded):
        field.data()
    assert field.head(4) == b"aaaa"


def test_decode_varint() -> None:
    assert decode_varint(b"\xac\x02", 0) == (300, 2)
    assert decode_varint(varint(2**63), 0)[0] == 2**63


def test_tick_is_called() -> None:
    calls: list[int] = []
    data = (varint(1 << 3) + varint(1)) * (protobuf.TICK_EVERY * 2)
    reader = ProtoReader.from_stream(
        io.BytesIO(data), len(data), max_bytes=100, tick=lambda: calls.append(1)
    )
    assert sum(1 for _ in reader.root().fields()) == protobuf.TICK_EVERY * 2
    assert len(calls) == 2
