"""Archives built by code for the archive tests: real ones from real libraries, and ZIPs
crafted byte by byte (PKWARE APPNOTE layout) where a test needs a structure no writer makes."""

from __future__ import annotations

import io
import pickle
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from mlwarden.engine import FileResult, scan_file
from mlwarden.findings import Finding, Severity
from mlwarden.scanners.interface import Limits


class Payload:
    """Pickles to a call of ``exec`` that would create ``marker`` if it were ever loaded."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (exec, (f"open({str(self.marker)!r}, 'w').close()",))


def payload_pickle(marker: Path, protocol: int = 2) -> bytes:
    return pickle.dumps(Payload(marker), protocol=protocol)


def scan(path: Path, limits: Limits | None = None) -> FileResult:
    return scan_file(str(path), path, limits)


def rules_at(result: FileResult, member: str | None) -> set[str]:
    return {f.rule for f in result.findings if f.location.member == member}


def serious(result: FileResult) -> list[Finding]:
    return [f for f in result.findings if f.severity >= Severity.HIGH]


def describe(result: FileResult) -> str:
    lines = [f"{f.rule} {f.severity.value} {f.location}: {f.message}" for f in result.findings]
    return "\n".join(lines + [f"error: {e.message}" for e in result.errors])


def torch_checkpoint(path: Path, obj: object | None = None) -> Path:
    """A real ``torch.save`` ZIP checkpoint (its members are under ``archive/``)."""
    import torch

    if obj is None:
        obj = torch.nn.Linear(4, 3).state_dict()
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    # torch names the archive prefix after the file; a buffer gives "archive".
    path.write_bytes(buffer.getvalue())
    return path


def rewrite_zip(
    source: Path, target: Path, renames: dict[str, str], extra: dict[str, bytes]
) -> Path:
    """Copy a ZIP member by member, renaming and replacing some, adding others."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            data = extra.pop(info.filename, None)
            if data is None:
                data = old.read(info.filename)
            new.writestr(renames.get(info.filename, info.filename), data)
        for name, data in extra.items():
            new.writestr(name, data)
    return target


@dataclass
class Entry:
    """A member of a crafted ZIP."""

    name: str
    data: bytes
    method: int = 0
    flags: int = 0
    listed: bool = True  # in the central directory
    crc: int | None = None  # None: the right one
    padding_after: bytes = b""  # bytes between this member and the next


def _compressed(entry: Entry) -> bytes:
    if entry.method == 8:
        packer = zlib.compressobj(9, zlib.DEFLATED, -15)
        return packer.compress(entry.data) + packer.flush()
    return entry.data


def craft_zip(
    entries: list[Entry],
    *,
    prepend: bytes = b"",
    append: bytes = b"",
    point_twice: bool = False,
) -> bytes:
    """A ZIP written field by field. ``point_twice`` adds a second directory entry for the
    first member's local header (overlapping members)."""
    body = bytearray(prepend)
    central = bytearray()
    count = 0
    first_offset = len(body) - len(prepend)
    for entry in entries:
        packed = _compressed(entry)
        crc = zlib.crc32(entry.data) if entry.crc is None else entry.crc
        raw_name = entry.name.encode()
        offset = len(body) - len(prepend)
        fields = (20, entry.flags, entry.method, 0, 0x21, crc, len(packed), len(entry.data))
        body += struct.pack("<4sHHHHHIII", b"PK\x03\x04", *fields)
        body += struct.pack("<HH", len(raw_name), 0) + raw_name + packed + entry.padding_after
        if not entry.listed:
            continue
        central += _central(raw_name, entry, crc, len(packed), offset)
        count += 1
    if point_twice:
        first = entries[0]
        crc = zlib.crc32(first.data)
        twin = Entry(first.name + ".again", first.data, first.method, first.flags)
        central += _central(twin.name.encode(), twin, crc, len(_compressed(first)), first_offset)
        count += 1
    directory_offset = len(body) - len(prepend)
    body += central
    body += struct.pack(
        "<4sHHHHIIH", b"PK\x05\x06", 0, 0, count, count, len(central), directory_offset, 0
    )
    return bytes(body) + append


def _central(raw_name: bytes, entry: Entry, crc: int, csize: int, offset: int) -> bytes:
    fixed = struct.pack(
        "<4sHHHHHHIIIHHHHHII",
        b"PK\x01\x02",
        20,
        20,
        entry.flags,
        entry.method,
        0,
        0x21,
        crc,
        csize,
        len(entry.data),
        len(raw_name),
        0,
        0,
        0,
        0,
        0,
        offset,
    )
    return fixed + raw_name


def local_header_offsets(data: bytes) -> list[int]:
    """Offsets of every local-header signature in a ZIP's bytes."""
    found, pos = [], data.find(b"PK\x03\x04")
    while pos >= 0:
        found.append(pos)
        pos = data.find(b"PK\x03\x04", pos + 1)
    return found


def central_header_offsets(data: bytes) -> list[int]:
    found, pos = [], data.find(b"PK\x01\x02")
    while pos >= 0:
        found.append(pos)
        pos = data.find(b"PK\x01\x02", pos + 1)
    return found


def zip_bytes(members: dict[str, bytes], method: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()
