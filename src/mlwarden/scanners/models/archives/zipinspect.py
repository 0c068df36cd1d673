"""ZIP structure, read the way the PKWARE APPNOTE lays it out, and compared with itself.

The central directory (at the end) and the local file headers (before each member's data) are
both parsed here, with ``struct``, so that every disagreement between them is visible: readers
that trust one copy and readers that trust the other must see the same archive. Nothing here
decompresses member data; :mod:`.zipscan` does that.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from mlwarden.scanners.interface import FormatError, LimitExceeded, Limits
from mlwarden.scanners.models.archives.zipformat import (
    CENTRAL,
    CENTRAL_SIG,
    ENCRYPTION_FLAGS,
    EOCD,
    EOCD_SIG,
    FLAG_DESCRIPTOR,
    LOCAL_SIG,
    MAX_COMMENT,
    ORDINARY_FLAGS,
    ZIP64_EOCD,
    ZIP64_EOCD_SIG,
    ZIP64_LOCATOR,
    ZIP64_LOCATOR_SIG,
    Issue,
    LocalHeader,
    ZipEntry,
    decode_name,
    read_at,
    read_descriptor,
    read_local_header,
    zip64_values,
)

#: Gaps between members are searched for hidden local headers up to this many bytes in all.
GAP_SEARCH_BYTES = 64 * 1024 * 1024


@dataclass(slots=True)
class ZipLayout:
    """What the archive is made of: its entries and its structural issues."""

    entries: list[ZipEntry]
    hidden: list[ZipEntry]
    issues: list[Issue]
    directory_start: int
    file_size: int


def _find_eocd(stream: IO[bytes], file_size: int) -> tuple[int, tuple[int, ...]]:
    tail_len = min(file_size, EOCD.size + MAX_COMMENT)
    tail = read_at(stream, file_size - tail_len, tail_len)
    pos = tail.rfind(EOCD_SIG)
    while pos >= 0:
        if pos + EOCD.size <= len(tail):
            record = EOCD.unpack_from(tail, pos)
            if pos + EOCD.size + record[7] <= len(tail):
                return file_size - tail_len + pos, record
        pos = tail.rfind(EOCD_SIG, 0, pos)
    raise FormatError("no ZIP end-of-central-directory record")


def read_layout(stream: IO[bytes], file_size: int, limits: Limits) -> ZipLayout:
    """Parse the central directory and walk the local headers; never reads member data."""
    issues: list[Issue] = []
    eocd_pos, eocd = _find_eocd(stream, file_size)
    _sig, disk, cd_disk, _n_disk, count, cd_size, cd_offset, comment_len = eocd
    directory_end = eocd_pos  # where the directory (or the ZIP64 records) stops
    if disk or cd_disk:
        raise FormatError("multi-disk (spanned) ZIP archives are not supported")
    locator_pos = eocd_pos - ZIP64_LOCATOR.size
    if locator_pos >= 0:
        loc = read_at(stream, locator_pos, ZIP64_LOCATOR.size)
        if loc.startswith(ZIP64_LOCATOR_SIG):
            _s, _d, z64_offset, _t = ZIP64_LOCATOR.unpack(loc)
            # The locator's offset is relative to the archive start; data may be prepended,
            # so the record is looked for right before the locator first.
            z64_pos = locator_pos - ZIP64_EOCD.size
            rec = read_at(stream, z64_pos, ZIP64_EOCD.size) if z64_pos >= 0 else b""
            if not rec.startswith(ZIP64_EOCD_SIG):
                z64_pos = z64_offset
                rec = read_at(stream, z64_offset, ZIP64_EOCD.size)
            if not rec.startswith(ZIP64_EOCD_SIG) or len(rec) < ZIP64_EOCD.size:
                raise FormatError("ZIP64 end-of-central-directory record missing")
            fields = ZIP64_EOCD.unpack(rec)
            count, cd_size, cd_offset = fields[7], fields[8], fields[9]
            directory_end = z64_pos
    if count > limits.max_archive_members:
        raise LimitExceeded(
            "max_archive_members",
            f"archive lists {count} members, over the limit of {limits.max_archive_members}",
        )
    directory_start = directory_end - cd_size
    if directory_start < 0:
        raise FormatError("central directory size points before the start of the file")
    shift = directory_start - cd_offset  # bytes prepended to an archive written elsewhere
    if shift < 0:
        raise FormatError("central directory offset points past its real position")
    if cd_size > limits.max_metadata_bytes:
        raise LimitExceeded("max_metadata_bytes", f"central directory of {cd_size} bytes")
    directory = read_at(stream, directory_start, cd_size)
    if len(directory) != cd_size:
        raise FormatError("central directory is truncated")
    entries = list(_parse_directory(directory, count, shift))
    trailing = file_size - (eocd_pos + EOCD.size + comment_len)
    if trailing > 0:
        issues.append(
            Issue(
                "MW127",
                f"{trailing} bytes follow the end of the central directory",
                evidence={"where": "after", "offset": file_size - trailing, "bytes": trailing},
            )
        )
    hidden = _walk_local_headers(stream, entries, directory_start, issues)
    _check_overlaps(entries, directory_start, issues)
    return ZipLayout(entries, hidden, issues, directory_start, file_size)


def _parse_directory(directory: bytes, count: int, shift: int) -> Iterator[ZipEntry]:
    pos = 0
    for index in range(count):
        if directory[pos : pos + 4] != CENTRAL_SIG or pos + CENTRAL.size > len(directory):
            raise FormatError(f"central directory entry {index} is malformed")
        rec = CENTRAL.unpack_from(directory, pos)
        flags, method, crc, csize, usize = rec[3], rec[4], rec[7], rec[8], rec[9]
        name_len, extra_len, comment_len, offset = rec[10], rec[11], rec[12], rec[16]
        start = pos + CENTRAL.size
        raw_name = directory[start : start + name_len]
        extra = directory[start + name_len : start + name_len + extra_len]
        pos = start + name_len + extra_len + comment_len
        if pos > len(directory):
            raise FormatError(f"central directory entry {index} runs past the directory")
        big_usize, big_csize, big_offset = zip64_values(
            extra, [usize == 0xFFFFFFFF, csize == 0xFFFFFFFF, offset == 0xFFFFFFFF]
        )
        yield ZipEntry(
            name=decode_name(raw_name, flags),
            raw_name=raw_name,
            flags=flags,
            method=method,
            crc=crc,
            compressed_size=big_csize if big_csize is not None else csize,
            size=big_usize if big_usize is not None else usize,
            header_offset=(big_offset if big_offset is not None else offset) + shift,
        )


def _compare(entry: ZipEntry, local: LocalHeader, stream: IO[bytes], issues: list[Issue]) -> None:
    """Record where a local header (and its data descriptor) disagrees with the directory."""
    differences: dict[str, object] = {}
    if local.raw_name != entry.raw_name:
        differences["name"] = {"directory": entry.name, "local": decode_name(local.raw_name, 0)}
    if local.method != entry.method:
        differences["method"] = {"directory": entry.method, "local": local.method}
    if local.flags != entry.flags:
        differences["flags"] = {"directory": entry.flags, "local": local.flags}
    if entry.flags & FLAG_DESCRIPTOR:
        at = entry.data_offset + entry.compressed_size
        crc, csize, usize, length = read_descriptor(stream, at, local.zip64)
        entry.end_offset = entry.data_offset + entry.compressed_size + length
        seen = {"crc": crc, "compressed_size": csize, "size": usize}
    else:
        entry.end_offset = entry.data_offset + entry.compressed_size
        seen = {"crc": local.crc, "compressed_size": local.compressed_size, "size": local.size}
    declared = {"crc": entry.crc, "compressed_size": entry.compressed_size, "size": entry.size}
    for key, value in seen.items():
        if value != declared[key]:
            differences[key] = {"directory": declared[key], "local": value}
    if entry.method == 0 and entry.compressed_size != entry.size:
        differences["stored_sizes"] = {"compressed": entry.compressed_size, "size": entry.size}
    if differences:
        issues.append(
            Issue(
                "MW120",
                "local header and central directory disagree about "
                + ", ".join(sorted(differences)),
                member=entry.name,
                evidence={"offset": entry.header_offset, "differences": differences},
            )
        )


def _walk_local_headers(
    stream: IO[bytes], entries: list[ZipEntry], directory_start: int, issues: list[Issue]
) -> list[ZipEntry]:
    """Read every member's local header, and walk the bytes between them for hidden ones."""
    by_offset: dict[int, list[ZipEntry]] = {}
    for entry in entries:
        by_offset.setdefault(entry.header_offset, []).append(entry)
    for entry in entries:
        local = read_local_header(stream, entry.header_offset)
        if local is None:
            issues.append(
                Issue(
                    "MW121",
                    f"central directory entry points at offset {entry.header_offset},"
                    " where there is no local header",
                    member=entry.name,
                    evidence={"offset": entry.header_offset, "where": "directory-only"},
                )
            )
            continue
        entry.data_offset = local.data_offset
        _compare(entry, local, stream, issues)
    hidden: list[ZipEntry] = []
    budget = GAP_SEARCH_BYTES
    cursor = 0
    known = sorted(
        (e for e in entries if e.end_offset >= 0), key=lambda e: (e.header_offset, e.end_offset)
    )
    index = 0
    while cursor < directory_start:
        while index < len(known) and known[index].header_offset < cursor:
            index += 1
        next_known = known[index].header_offset if index < len(known) else directory_start
        if cursor == next_known and index < len(known):
            cursor = max(cursor, known[index].end_offset)
            index += 1
            continue
        gap_end = min(next_known, directory_start)
        found, searched = _search_local(stream, cursor, gap_end, budget)
        budget -= searched
        unexplained_end = found if found is not None else gap_end
        if unexplained_end > cursor:
            where = "before" if cursor == 0 else "between"
            issues.append(
                Issue(
                    "MW127",
                    f"{unexplained_end - cursor} bytes at offset {cursor} belong to no member"
                    + (" (data prepended to the archive)" if where == "before" else ""),
                    evidence={"where": where, "offset": cursor, "bytes": unexplained_end - cursor},
                )
            )
        if found is None:
            cursor = gap_end
            continue
        local_only = _hidden_entry(stream, found, gap_end)
        if local_only is None:
            cursor = found + 4
            continue
        hidden.append(local_only)
        issues.append(
            Issue(
                "MW121",
                f"local header at offset {found} is not listed in the central directory",
                member=local_only.name,
                evidence={"offset": found, "where": "local-only"},
            )
        )
        cursor = max(local_only.end_offset, found + 4)
    return hidden


def _search_local(stream: IO[bytes], start: int, end: int, budget: int) -> tuple[int | None, int]:
    """The first local-header signature in ``[start, end)``, within a byte budget."""
    pos = start
    searched = 0
    while pos < end and searched < budget:
        chunk = read_at(stream, pos, min(1024 * 1024, end - pos) + 3)
        searched += len(chunk)
        hit = chunk.find(LOCAL_SIG)
        if hit >= 0 and pos + hit < end:
            return pos + hit, searched
        if len(chunk) <= 3:
            break
        pos += len(chunk) - 3
    return None, searched


def _hidden_entry(stream: IO[bytes], offset: int, limit: int) -> ZipEntry | None:
    try:
        local = read_local_header(stream, offset)
    except FormatError:
        return None
    if local is None:
        return None
    csize = local.compressed_size
    if local.flags & FLAG_DESCRIPTOR and csize == 0:
        # The size is only in the descriptor after the data: assume the data runs to the next
        # structure, which is the most a reader walking local headers could take.
        csize = max(limit - local.data_offset, 0)
    end = min(local.data_offset + csize, limit)
    name = decode_name(local.raw_name, local.flags)
    return ZipEntry(
        name=name,
        raw_name=local.raw_name,
        flags=local.flags,
        method=local.method,
        crc=local.crc,
        compressed_size=max(end - local.data_offset, 0),
        size=local.size,
        header_offset=offset,
        in_directory=False,
        data_offset=local.data_offset,
        end_offset=end,
    )


def _check_overlaps(entries: list[ZipEntry], directory_start: int, issues: list[Issue]) -> None:
    spans = sorted((e for e in entries if e.end_offset >= 0), key=lambda e: e.header_offset)
    furthest: ZipEntry | None = None
    for entry in spans:
        if furthest is not None and entry.header_offset < furthest.end_offset:
            issues.append(
                Issue(
                    "MW128",
                    f"member overlaps {furthest.name!r}",
                    member=entry.name,
                    evidence={"offset": entry.header_offset, "overlaps": furthest.name},
                )
            )
        if furthest is None or entry.end_offset > furthest.end_offset:
            furthest = entry
    if furthest is not None and furthest.end_offset > directory_start:
        issues.append(
            Issue(
                "MW128",
                "member data runs into the central directory",
                member=furthest.name,
                evidence={"offset": furthest.header_offset, "overlaps": "central directory"},
            )
        )


def structural_flag_issues(entry: ZipEntry) -> Iterator[Issue]:
    """Encryption and unusual general-purpose flag bits of one member."""
    if entry.encrypted:
        yield Issue(
            "MW123",
            "member is flagged as encrypted; its content cannot be inspected",
            member=entry.name,
            evidence={"flags": entry.flags},
        )
    odd = entry.flags & ~(ORDINARY_FLAGS | ENCRYPTION_FLAGS)
    if odd:
        yield Issue(
            "MW124",
            f"member sets unusual general-purpose flag bits 0x{odd:04x}",
            member=entry.name,
            evidence={"flags": entry.flags, "unusual": odd},
        )
