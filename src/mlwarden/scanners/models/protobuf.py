"""A small, bounded reader of the protobuf wire format, for ONNX and TensorFlow files.

It decodes tags and values only; it knows no schema. A message is a window ``[start, end)`` of a
source. Fields are read lazily: a length-delimited field yields its position and length, and its
payload is read (or descended into) only when asked, so tensor bytes are skipped by seeking and
memory stays flat on multi-gigabyte files. Small sub-messages are read into memory once and
parsed there, which keeps the number of reads low for graphs with many nodes.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Protocol

from mlwarden.scanners.interface import FormatError, LimitExceeded

#: protobuf's own default recursion limit; deeper nesting is refused by real parsers too.
MAX_DEPTH = 100

#: Sub-messages up to this size are read into memory and parsed there.
INLINE_BYTES = 1 << 20

#: How many fields are decoded between two calls of the ``tick`` callback (time checks).
TICK_EVERY = 4096

# A tag plus the longest varint fits in 20 bytes.
_HEADER_BYTES = 20


class WireType(enum.IntEnum):
    """The six wire types of the protobuf encoding."""

    VARINT = 0
    I64 = 1
    LEN = 2
    SGROUP = 3
    EGROUP = 4
    I32 = 5


class ByteSource(Protocol):
    """Something that can return ``size`` bytes at an absolute offset."""

    size: int

    def read_at(self, offset: int, size: int) -> bytes:
        """The bytes at ``offset``; fewer only at the end of the source."""
        ...


class MemorySource:
    """A source held in memory (a small file, or a sub-message read whole)."""

    def __init__(self, data: bytes, base: int = 0) -> None:
        self.data = data
        self.base = base  # absolute offset of data[0] in the file, for messages
        self.size = base + len(data)

    def read_at(self, offset: int, size: int) -> bytes:
        start = offset - self.base
        return self.data[start : start + size]


class StreamSource:
    """A seekable binary stream read at absolute offsets."""

    def __init__(self, stream: IO[bytes], size: int) -> None:
        self.stream = stream
        self.size = size

    def read_at(self, offset: int, size: int) -> bytes:
        self.stream.seek(offset)
        return self.stream.read(size)


@dataclass(frozen=True, slots=True)
class ProtoField:
    """One decoded field. ``value`` is the number for scalar wire types, the length for LEN."""

    number: int
    wire_type: WireType
    value: int
    offset: int  # absolute offset of a LEN payload
    parent: ProtoMessage

    def message(self) -> ProtoMessage:
        """The payload as a nested message, one level deeper."""
        self._expect_len()
        depth = self.parent.depth + 1
        if depth > MAX_DEPTH:
            raise LimitExceeded(
                "protobuf_depth", f"protobuf messages nested deeper than {MAX_DEPTH}"
            )
        end = self.offset + self.value
        if isinstance(self.parent.source, MemorySource):
            return ProtoMessage(self.parent.reader, self.parent.source, self.offset, end, depth)
        return self.parent.reader.message(self.offset, end, depth)

    def data(self, limit: int | None = None) -> bytes:
        """The payload bytes; ``LimitExceeded`` past ``limit`` (default: the metadata limit)."""
        self._expect_len()
        reader = self.parent.reader
        cap = reader.max_bytes if limit is None else limit
        if self.value > cap:
            raise LimitExceeded(
                "max_metadata_bytes", f"a protobuf string of {self.value} bytes is over {cap}"
            )
        data = self.parent.source.read_at(self.offset, self.value)
        if len(data) != self.value:
            raise FormatError(f"truncated: wanted {self.value} bytes at offset {self.offset}")
        return data

    def head(self, size: int) -> bytes:
        """At most the first ``size`` bytes of the payload (for evidence)."""
        self._expect_len()
        want = min(size, self.value)
        data = self.parent.source.read_at(self.offset, want)
        if len(data) != want:
            raise FormatError(f"truncated: wanted {want} bytes at offset {self.offset}")
        return data

    def text(self, limit: int | None = None) -> str:
        """The payload as text; invalid UTF-8 is replaced, never fatal."""
        return self.data(limit).decode("utf-8", "replace")

    def _expect_len(self) -> None:
        if self.wire_type is not WireType.LEN:
            raise FormatError(
                f"protobuf field {self.number} has wire type {self.wire_type.name}, expected LEN"
            )


class ProtoMessage:
    """A message: a window of a source, iterated field by field."""

    def __init__(self, reader: ProtoReader, source: ByteSource, start: int, end: int, depth: int):
        self.reader = reader
        self.source = source
        self.start = start
        self.end = end
        self.depth = depth

    def fields(self) -> Iterator[ProtoField]:
        """Every field in order. Truncation or a bad tag raises :class:`FormatError`."""
        pos = self.start
        while pos < self.end:
            field, pos = self._read_field(pos, self.end, group_depth=0)
            if field is not None:
                yield field

    def _read_field(self, pos: int, end: int, group_depth: int) -> tuple[ProtoField | None, int]:
        self.reader.count()
        header = self.source.read_at(pos, min(_HEADER_BYTES, end - pos))
        tag, used = decode_varint(header, 0, pos)
        number, wire = tag >> 3, tag & 7
        if number == 0:
            raise FormatError(f"protobuf field number 0 at offset {pos}")
        try:
            wire_type = WireType(wire)
        except ValueError:
            raise FormatError(f"protobuf wire type {wire} at offset {pos}") from None
        pos += used
        header = header[used:]
        value = 0
        if wire_type is WireType.VARINT:
            if not header:
                header = self.source.read_at(pos, min(_HEADER_BYTES, end - pos))
            value, used = decode_varint(header, 0, pos)
            payload_end = pos + used
        elif wire_type is WireType.I64:
            payload_end = pos + 8
        elif wire_type is WireType.I32:
            payload_end = pos + 4
        elif wire_type is WireType.LEN:
            if not header:
                header = self.source.read_at(pos, min(_HEADER_BYTES, end - pos))
            value, used = decode_varint(header, 0, pos)
            pos += used
            payload_end = pos + value
        elif wire_type is WireType.SGROUP:
            payload_end = self._skip_group(number, pos, end, group_depth + 1)
        else:  # an end-group with no start
            raise FormatError(f"protobuf end-group without a start at offset {pos}")
        if payload_end > end:
            raise FormatError(
                f"protobuf field {number} at offset {pos} runs past the end of its message "
                f"({payload_end} > {end}): the file is truncated or malformed"
            )
        if wire_type in (WireType.I64, WireType.I32):
            raw = self.source.read_at(pos, payload_end - pos)
            value = int.from_bytes(raw, "little")
        if wire_type is WireType.SGROUP:
            return None, payload_end
        return ProtoField(number, wire_type, value, pos, self), payload_end

    def _skip_group(self, number: int, pos: int, end: int, group_depth: int) -> int:
        # Groups are deprecated and unused by ONNX and TensorFlow, but real parsers accept them
        # as unknown fields, so they are skipped rather than rejected.
        if self.depth + group_depth > MAX_DEPTH:
            raise LimitExceeded("protobuf_depth", f"protobuf groups nested deeper than {MAX_DEPTH}")
        while pos < end:
            header = self.source.read_at(pos, min(_HEADER_BYTES, end - pos))
            tag, used = decode_varint(header, 0, pos)
            if tag & 7 == WireType.EGROUP:
                if tag >> 3 != number:
                    raise FormatError(f"protobuf group {number} closed by {tag >> 3}")
                return pos + used
            _field, pos = self._read_field(pos, end, group_depth)
        raise FormatError(f"protobuf group {number} is not closed")


class ProtoReader:
    """Reads messages from one file under limits (string size, field count via ``tick``)."""

    def __init__(
        self,
        source: ByteSource,
        *,
        max_bytes: int,
        tick: Callable[[], None] | None = None,
    ) -> None:
        self.source = source
        self.max_bytes = max_bytes
        self.tick = tick
        self._count = 0

    @classmethod
    def from_stream(
        cls,
        stream: IO[bytes],
        size: int,
        *,
        max_bytes: int,
        tick: Callable[[], None] | None = None,
    ) -> ProtoReader:
        """A reader over a seekable stream of ``size`` bytes."""
        return cls(StreamSource(stream, size), max_bytes=max_bytes, tick=tick)

    def root(self) -> ProtoMessage:
        """The top-level message: the whole source."""
        return self.message(0, self.source.size, 0)

    def message(self, start: int, end: int, depth: int) -> ProtoMessage:
        """The message in ``[start, end)``, read into memory first when it is small."""
        if end > self.source.size:
            raise FormatError(
                f"protobuf message ends at {end}, past the end of the data ({self.source.size})"
            )
        source = self.source
        if not isinstance(source, MemorySource) and end - start <= INLINE_BYTES:
            source = MemorySource(self.read_exact(start, end - start), base=start)
        return ProtoMessage(self, source, start, end, depth)

    def read_exact(self, offset: int, size: int) -> bytes:
        """Exactly ``size`` bytes at ``offset``, or :class:`FormatError` (truncated)."""
        data = self.source.read_at(offset, size)
        if len(data) != size:
            raise FormatError(f"truncated: wanted {size} bytes at offset {offset}")
        return data

    def count(self) -> None:
        """Count one decoded field; call ``tick`` now and then so that time limits apply."""
        self._count += 1
        if self.tick is not None and self._count % TICK_EVERY == 0:
            self.tick()


def decode_varint(data: bytes, index: int, where: int = 0) -> tuple[int, int]:
    """Decode a base-128 varint at ``data[index:]``: ``(value, bytes used)``.

    ``where`` is the absolute offset, for messages. More than 10 bytes, or running off the end,
    is a :class:`FormatError`.
    """
    value = 0
    shift = 0
    for used in range(1, 11):
        if index + used > len(data):
            raise FormatError(f"truncated varint at offset {where}")
        byte = data[index + used - 1]
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value & 0xFFFFFFFFFFFFFFFF, used
        shift += 7
    raise FormatError(f"varint longer than 10 bytes at offset {where}")


def as_signed(value: int) -> int:
    """A varint read as a two's-complement int64 (protobuf ``int64``/``int32``)."""
    return value - (1 << 64) if value >= 1 << 63 else value
