"""The lowest layer of HDF5 files: bounded reads, fields, and object headers with their
messages, as laid out in the HDF5 File Format Specification (version 3.0).

No structure is trusted before it is checked against the file size, and every walk is bounded
(see :class:`H5Source`). What is damaged raises :class:`FormatError`; what is valid but not
read here raises :class:`Unsupported`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import IO

from mlwarden.scanners.interface import FormatError, LimitExceeded

#: How many structures (messages, nodes, heap objects...) may be read per listed object before
#: the reader gives up: enough for any real file, a bound for forged ones.
WORK_PER_OBJECT = 64

#: The deepest B-tree or fractal heap indirect block nesting accepted; real files stay far below.
MAX_DEPTH = 64

#: Most continuation chunks one object header may have.
MAX_CHUNKS = 4096

#: Object header message types.
LINK_INFO = 0x02
LINK = 0x06
EXTERNAL_FILES = 0x07
LAYOUT = 0x08
ATTRIBUTE = 0x0C
CONTINUATION = 0x10
SYMBOL_TABLE = 0x11
ATTRIBUTE_INFO = 0x15

#: Message flag: the message body refers to a message kept elsewhere (shared).
SHARED = 0x02

Message = tuple[int, int, bytes]  # type, flags, body
Link = tuple[bytes, str, int | bytes | tuple[bytes, bytes] | None]  # name, kind, target
_Chunk = tuple[int | None, int]  # address, size


class Unsupported(Exception):
    """A valid file using a feature this reader does not read."""


def pad8(size: int) -> int:
    """``size`` rounded up to a multiple of eight."""
    return (size + 7) // 8 * 8


def encoded_size(value: int) -> int:
    """Bytes the HDF5 library uses to encode counts up to ``value``."""
    return (max(value, 1).bit_length() - 1) // 8 + 1


def log2(value: int, what: str) -> int:
    """The base-2 logarithm of a power of two; FormatError for anything else."""
    if value <= 0 or value & (value - 1):
        raise FormatError(f"{what} is not a power of two: {value}")
    return value.bit_length() - 1


class Cursor:
    """Little-endian fields read in order from bytes already in memory."""

    __slots__ = ("data", "length_size", "offset_size", "pos", "undefined", "what")

    def __init__(self, data: bytes, source: H5Source, what: str, pos: int = 0) -> None:
        self.data = data
        self.pos = pos
        self.what = what
        self.offset_size = source.offset_size
        self.length_size = source.length_size
        self.undefined = source.undefined

    def take(self, count: int) -> bytes:
        """The next ``count`` bytes."""
        end = self.pos + count
        if count < 0 or end > len(self.data):
            raise FormatError(f"{self.what} is truncated")
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def uint(self, width: int) -> int:
        """An unsigned integer of ``width`` bytes."""
        return int.from_bytes(self.take(width), "little")

    def u8(self) -> int:
        """One byte."""
        if self.pos >= len(self.data):
            raise FormatError(f"{self.what} is truncated")
        self.pos += 1
        return self.data[self.pos - 1]

    def u16(self) -> int:
        """A 16-bit unsigned integer."""
        return self.uint(2)

    def u32(self) -> int:
        """A 32-bit unsigned integer."""
        return self.uint(4)

    def address(self) -> int | None:
        """A file address, or None for the undefined address."""
        value = self.uint(self.offset_size)
        return None if value == self.undefined else value

    def length(self) -> int:
        """A length field ("size of lengths" bytes)."""
        return self.uint(self.length_size)

    def signature(self, expected: bytes) -> None:
        """Check a four-byte signature."""
        if self.take(4) != expected:
            raise FormatError(f"{self.what} has no {expected.decode()} signature")

    def remaining(self) -> int:
        """Bytes left after the current position."""
        return len(self.data) - self.pos


class H5Source:
    """Bounded reads at HDF5 addresses (relative to the base address) of one open file.

    Every read is checked against the file size and ``max_bytes``; ``tick`` counts the
    structures read, checks the time every 1024 and stops a forged file that would make the
    reader loop far longer than any real one.
    """

    def __init__(
        self,
        stream: IO[bytes],
        size: int,
        check_time: Callable[[], None],
        max_objects: int,
        max_bytes: int,
    ) -> None:
        self.stream = stream
        self.size = size
        self.check_time = check_time
        self.max_objects = max_objects
        self.max_bytes = max_bytes
        self.base = 0
        self.offset_size = 8
        self.length_size = 8
        self.undefined = (1 << 64) - 1
        self._work = 0
        self._budget = WORK_PER_OBJECT * max_objects + 100_000

    def set_widths(self, base: int, offset_size: int, length_size: int) -> None:
        """Use the base address and field widths the superblock gives."""
        for width in (offset_size, length_size):
            if width not in (2, 4, 8):
                raise Unsupported(f"{width}-byte addresses or lengths")
        self.base = base
        self.offset_size = offset_size
        self.length_size = length_size
        self.undefined = (1 << (8 * offset_size)) - 1

    def tick(self) -> None:
        """Count one structure read; check the time now and then."""
        self._work += 1
        if not self._work & 1023:
            self.check_time()
            if self._work > self._budget:
                raise LimitExceeded("h5_objects", "HDF5 metadata is too large to walk")

    def read_absolute(self, position: int, count: int, what: str) -> bytes:
        """``count`` bytes at a position in the file itself."""
        if position < 0 or count < 0 or position + count > self.size:
            raise FormatError(f"{what} lies outside the file")
        if count > self.max_bytes:
            raise LimitExceeded("max_metadata_bytes", f"{what} is over the metadata limit")
        self.stream.seek(position)
        data = self.stream.read(count)
        if len(data) != count:
            raise FormatError(f"{what} is truncated")
        return data

    def read(self, address: int | None, count: int, what: str) -> bytes:
        """``count`` bytes at an HDF5 address."""
        if address is None:
            raise FormatError(f"{what} has an undefined address")
        return self.read_absolute(self.base + address, count, what)

    def cursor(self, address: int | None, count: int, what: str) -> Cursor:
        """A cursor over ``count`` bytes read at an address."""
        return Cursor(self.read(address, count, what), self, what)

    def fits(self, address: int, count: int) -> int:
        """``count`` if that many bytes from ``address`` lie in the file; FormatError if not."""
        if count < 0 or self.base + address + count > self.size:
            raise FormatError("an HDF5 structure reaches past the end of the file")
        return count


def object_header(source: H5Source, address: int) -> list[Message]:
    """Every message of the object header at ``address``, continuation chunks included."""
    source.tick()
    first = source.read(address, 16, "object header")
    messages: list[Message] = []
    chunks: list[_Chunk] = []
    if first[:4] == b"OHDR":
        if first[4] != 2:
            raise Unsupported(f"object header version {first[4]}")
        flags = first[5]
        prefix = 6 + 16 * bool(flags & 0x20) + 4 * bool(flags & 0x10)
        width = 1 << (flags & 0x03)
        size = int.from_bytes(source.read(address + prefix, width, "object header"), "little")
        start = address + prefix + width
        body = source.read(start, size, "object header")
        extra = 2 if flags & 0x04 else 0  # creation order of each message
        _parse_v2(source, body, extra, messages, chunks)
    elif first[0] == 1:
        size = int.from_bytes(first[8:12], "little")
        start = address + 16
        body = source.read(start, size, "object header")
        extra = 0
        _parse_v1(source, body, messages, chunks)
    else:
        raise FormatError("object header of an unknown version")
    version1 = first[:4] != b"OHDR"  # its continuation chunks hold bare messages
    seen = {address}
    for chunk_address, chunk_size in chunks:  # grows while it is walked
        if chunk_address is None or chunk_address in seen or len(seen) > MAX_CHUNKS:
            raise FormatError("object header continuation chunks are inconsistent")
        seen.add(chunk_address)
        source.tick()
        body = source.read(chunk_address, chunk_size, "object header continuation")
        if version1:
            _parse_v1(source, body, messages, chunks)
        else:
            if body[:4] != b"OCHK" or chunk_size < 8:
                raise FormatError("object header continuation has no OCHK signature")
            _parse_v2(source, body[4:-4], extra, messages, chunks)
    return messages


def _parse_v1(source: H5Source, body: bytes, messages: list[Message], chunks: list[_Chunk]) -> None:
    position = 0
    while position + 8 <= len(body):
        source.tick()
        kind = body[position] | body[position + 1] << 8
        size = body[position + 2] | body[position + 3] << 8
        data = body[position + 8 : position + 8 + size]
        if len(data) != size:
            raise FormatError("object header message is truncated")
        _keep(source, kind, body[position + 4], data, messages, chunks)
        position += 8 + pad8(size)


def _parse_v2(
    source: H5Source,
    body: bytes,
    extra: int,
    messages: list[Message],
    chunks: list[_Chunk],
) -> None:
    position = 0
    header = 4 + extra
    while position + header <= len(body):  # a shorter rest is a gap
        source.tick()
        size = body[position + 1] | body[position + 2] << 8
        start = position + header
        data = body[start : start + size]
        if len(data) != size:
            raise FormatError("object header message is truncated")
        _keep(source, body[position], body[position + 3], data, messages, chunks)
        position = start + size


def _keep(
    source: H5Source,
    kind: int,
    flags: int,
    data: bytes,
    messages: list[Message],
    chunks: list[_Chunk],
) -> None:
    if kind == CONTINUATION:
        cursor = Cursor(data, source, "continuation message")
        chunks.append((cursor.address(), cursor.length()))
    elif kind:
        messages.append((kind, flags, data))


def link_message(cursor: Cursor) -> Link:
    """A link message: the link's name, kind and target."""
    if cursor.u8() != 1:
        raise Unsupported("a link message of an unknown version")
    flags = cursor.u8()
    link_type = cursor.u8() if flags & 0x08 else 0
    if flags & 0x04:
        cursor.take(8)  # creation order
    if flags & 0x10:
        cursor.u8()  # character set of the name
    name = cursor.take(cursor.uint(1 << (flags & 0x03)))
    if link_type == 0:
        target = cursor.address()
        if target is None:
            raise FormatError("a hard link has no object")
        return name, "hard", target
    if link_type == 1:
        return name, "soft", cursor.take(cursor.u16())
    if link_type == 64:
        value = cursor.take(cursor.u16())
        if not value or value[0] >> 4:
            raise Unsupported("an external link of an unknown version")
        parts = value[1:].split(b"\0")
        return name, "external", (parts[0], parts[1] if len(parts) > 1 else b"")
    return name, "other", None


def check_layout(data: bytes) -> None:
    """Raise :class:`Unsupported` for a virtual dataset, whose data lives in other files."""
    if len(data) < 3:
        raise FormatError("a data layout message is truncated")
    version = data[0]
    if version > 5 or version == 0:
        raise Unsupported(f"data layout message version {version}")
    layout_class = data[2] if version < 3 else data[1]
    if layout_class == 3:
        raise Unsupported("a virtual dataset")


__all__ = [
    "ATTRIBUTE",
    "ATTRIBUTE_INFO",
    "EXTERNAL_FILES",
    "LAYOUT",
    "LINK",
    "LINK_INFO",
    "MAX_DEPTH",
    "SHARED",
    "SYMBOL_TABLE",
    "Cursor",
    "H5Source",
    "Link",
    "Message",
    "Unsupported",
    "check_layout",
    "encoded_size",
    "link_message",
    "log2",
    "object_header",
    "pad8",
]
