"""ZIP records as the PKWARE APPNOTE lays them out: signatures, flags, and the local header.

Parsed with ``struct`` from the bytes themselves; nothing here trusts a library's view of the
archive, so that :mod:`.zipinspect` can compare every copy of every field.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import IO, NamedTuple

from mlwarden.scanners.interface import FormatError

EOCD_SIG = b"PK\x05\x06"
ZIP64_LOCATOR_SIG = b"PK\x06\x07"
ZIP64_EOCD_SIG = b"PK\x06\x06"
CENTRAL_SIG = b"PK\x01\x02"
LOCAL_SIG = b"PK\x03\x04"
DESCRIPTOR_SIG = b"PK\x07\x08"

EOCD = struct.Struct("<4sHHHHIIH")
ZIP64_LOCATOR = struct.Struct("<4sIQI")
ZIP64_EOCD = struct.Struct("<4sQHHIIQQQQ")
CENTRAL = struct.Struct("<4sHHHHHHIIIHHHHHII")
LOCAL = struct.Struct("<4sHHHHHIIIHH")
ZIP64_EXTRA_ID = 0x0001
MAX_COMMENT = 0xFFFF

#: General-purpose flag bits (APPNOTE 4.4.4).
FLAG_ENCRYPTED = 1 << 0
FLAG_DESCRIPTOR = 1 << 3
FLAG_STRONG_ENCRYPTION = 1 << 6
FLAG_UTF8 = 1 << 11
FLAG_MASKED_HEADERS = 1 << 13
ENCRYPTION_FLAGS = FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION | FLAG_MASKED_HEADERS
#: Bits ordinary writers set: deflate speed options (1, 2), data descriptor (3), UTF-8 (11).
ORDINARY_FLAGS = 0b110 | FLAG_DESCRIPTOR | FLAG_UTF8


@dataclass(frozen=True, slots=True)
class Issue:
    """One structural problem: the rule it breaks, where, and what was seen."""

    rule: str
    message: str
    member: str | None = None
    evidence: dict[str, object] = field(default_factory=dict)


@dataclass(slots=True)
class ZipEntry:
    """One member as the central directory (or, for hidden members, a local header) says."""

    name: str
    raw_name: bytes
    flags: int
    method: int
    crc: int
    compressed_size: int
    size: int
    header_offset: int  # absolute position of the local header in the file
    in_directory: bool = True
    data_offset: int = -1  # absolute position of the data, once the local header is read
    end_offset: int = -1  # first byte after the data and its descriptor

    @property
    def encrypted(self) -> bool:
        return bool(self.flags & ENCRYPTION_FLAGS)

    @property
    def is_dir(self) -> bool:
        return self.name.endswith("/") and self.size == 0


def decode_name(raw: bytes, flags: int) -> str:
    return raw.decode("utf-8", "replace") if flags & FLAG_UTF8 else raw.decode("cp437")


def read_at(stream: IO[bytes], offset: int, count: int) -> bytes:
    stream.seek(offset)
    return stream.read(count)


def _zip64_extra(extra: bytes) -> bytes | None:
    """The body of the ZIP64 extra field among a record's extra fields, if it has one."""
    pos = 0
    while pos + 4 <= len(extra):
        tag, length = struct.unpack_from("<HH", extra, pos)
        if tag == ZIP64_EXTRA_ID:
            return extra[pos + 4 : pos + 4 + length]
        pos += 4 + length
    return None


def zip64_values(extra: bytes, wanted: list[bool]) -> list[int | None]:
    """Values of the ZIP64 extra field, in APPNOTE order, for the fields flagged as wanted."""
    body = _zip64_extra(extra)
    if body is None:
        return [None] * len(wanted)
    values: list[int | None] = []
    at = 0
    for want in wanted:
        if want and at + 8 <= len(body):
            values.append(struct.unpack_from("<Q", body, at)[0])
            at += 8
        else:
            values.append(None)
    return values


class LocalHeader(NamedTuple):
    """A local file header as read at some offset."""

    offset: int
    raw_name: bytes
    flags: int
    method: int
    crc: int
    compressed_size: int
    size: int
    data_offset: int
    zip64: bool  # carries a ZIP64 extra field, so its data descriptor has 8-byte sizes


def read_local_header(stream: IO[bytes], offset: int) -> LocalHeader | None:
    """The local header at ``offset``, or ``None`` when there is none there."""
    fixed = read_at(stream, offset, LOCAL.size)
    if len(fixed) < LOCAL.size or not fixed.startswith(LOCAL_SIG):
        return None
    rec = LOCAL.unpack(fixed)
    flags, method, crc, csize, usize, name_len, extra_len = (
        rec[2], rec[3], rec[6], rec[7], rec[8], rec[9], rec[10],
    )  # fmt: skip
    variable = stream.read(name_len + extra_len)
    if len(variable) < name_len + extra_len:
        raise FormatError(f"local header at offset {offset} is truncated")
    big_usize, big_csize = zip64_values(
        variable[name_len:], [usize == 0xFFFFFFFF, csize == 0xFFFFFFFF]
    )
    return LocalHeader(
        offset=offset,
        raw_name=variable[:name_len],
        flags=flags,
        method=method,
        crc=crc,
        compressed_size=big_csize if big_csize is not None else csize,
        size=big_usize if big_usize is not None else usize,
        data_offset=offset + LOCAL.size + name_len + extra_len,
        zip64=_zip64_extra(variable[name_len:]) is not None,
    )


def read_descriptor(stream: IO[bytes], at: int, zip64: bool) -> tuple[int, int, int, int]:
    """(crc, compressed size, size, length) of the data descriptor at ``at``."""
    data = read_at(stream, at, 24)
    start = 4 if data.startswith(DESCRIPTOR_SIG) else 0
    if zip64 and len(data) >= start + 20:
        crc, csize, usize = struct.unpack_from("<IQQ", data, start)
        return crc, csize, usize, start + 20
    if len(data) < start + 12:
        raise FormatError(f"data descriptor at offset {at} is truncated")
    crc, csize, usize = struct.unpack_from("<III", data, start)
    return crc, csize, usize, start + 12
