"""ZIP structure tricks are findings in themselves, and never hide a member from the scan."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

from archive_builders import (
    Entry,
    central_header_offsets,
    craft_zip,
    describe,
    local_header_offsets,
    payload_pickle,
    rules_at,
    scan,
    serious,
    zip_bytes,
)

from mlwarden.scanners.interface import Limits
from mlwarden.scanners.models.archives.zipformat import ZipEntry
from mlwarden.scanners.models.archives.zipinspect import read_layout
from mlwarden.scanners.models.archives.zipscan import identify


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_plain_zip_of_text_is_quiet(tmp_path: Path) -> None:
    data = zip_bytes({"a.txt": b"hello", "dir/b.txt": b"x" * 5000}, zipfile.ZIP_DEFLATED)
    result = scan(_write(tmp_path / "plain.zip", data))
    assert result.findings == [], describe(result)


def test_local_name_differs_from_directory(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    data = bytearray(zip_bytes({"model/data.pkl": payload_pickle(marker)}))
    local = local_header_offsets(bytes(data))[0]
    name_at = local + 30
    assert data[name_at : name_at + 14] == b"model/data.pkl"
    data[name_at : name_at + 14] = b"model/data.pkx"
    result = scan(_write(tmp_path / "mismatch.zip", bytes(data)))
    assert "MW120" in rules_at(result, "model/data.pkl"), describe(result)
    finding = next(f for f in result.findings if f.rule == "MW120")
    assert "name" in finding.evidence["differences"]
    # The member is still read, by content.
    assert "MW100" in rules_at(result, "model/data.pkl"), describe(result)
    assert not marker.exists()


def test_local_sizes_and_method_differ_from_directory(tmp_path: Path) -> None:
    data = bytearray(zip_bytes({"w.bin": b"\x01" * 100}))
    local = local_header_offsets(bytes(data))[0]
    struct.pack_into("<I", data, local + 22, 7)  # uncompressed size in the local header
    result = scan(_write(tmp_path / "sizes.zip", bytes(data)))
    finding = next(f for f in result.findings if f.rule == "MW120")
    assert finding.location.member == "w.bin"
    assert finding.evidence["differences"]["size"] == {"directory": 100, "local": 7}


def test_bad_crc(tmp_path: Path) -> None:
    data = bytearray(zip_bytes({"notes.txt": b"a" * 200, "other.txt": b"b" * 10}))
    local = local_header_offsets(bytes(data))[0]
    data[local + 30 + len("notes.txt") + 5] ^= 0xFF  # flip one byte of stored data
    result = scan(_write(tmp_path / "crc.zip", bytes(data)))
    assert rules_at(result, "notes.txt") == {"MW122"}, describe(result)
    assert rules_at(result, "other.txt") == set()


def test_encrypted_flag(tmp_path: Path) -> None:
    data = bytearray(zip_bytes({"secret.pkl": b"\x80\x02N."}))
    struct.pack_into("<H", data, local_header_offsets(bytes(data))[0] + 6, 1)
    struct.pack_into("<H", data, central_header_offsets(bytes(data))[0] + 8, 1)
    result = scan(_write(tmp_path / "enc.zip", bytes(data)))
    assert rules_at(result, "secret.pkl") == {"MW123"}, describe(result)


def test_unusual_flag_bits(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    data = bytearray(zip_bytes({"archive/data.pkl": payload_pickle(marker)}))
    struct.pack_into("<H", data, local_header_offsets(bytes(data))[0] + 6, 1 << 5)
    struct.pack_into("<H", data, central_header_offsets(bytes(data))[0] + 8, 1 << 5)
    result = scan(_write(tmp_path / "flags.zip", bytes(data)))
    assert {"MW124", "MW100"} <= rules_at(result, "archive/data.pkl"), describe(result)
    assert not marker.exists()


def test_hidden_local_entry_is_reported_and_scanned(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    entries = [
        Entry("readme.txt", b"nothing to see"),
        Entry("evil.pkl", payload_pickle(marker), method=8, listed=False),
        Entry("weights.bin", b"\x00" * 64),
    ]
    result = scan(_write(tmp_path / "hidden.zip", craft_zip(entries)))
    hidden = [f for f in result.findings if f.rule == "MW121"]
    assert [f.location.member for f in hidden] == ["evil.pkl"], describe(result)
    offset = hidden[0].evidence["offset"]
    assert "MW100" in rules_at(result, f"evil.pkl@{offset}"), describe(result)
    assert not marker.exists()


def test_duplicate_names_both_scanned(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    entries = [Entry("model.pkl", b"\x80\x02N."), Entry("model.pkl", payload_pickle(marker))]
    result = scan(_write(tmp_path / "dup.zip", craft_zip(entries)))
    duplicates = [f for f in result.findings if f.rule == "MW125"]
    assert len(duplicates) == 1, describe(result)
    second = duplicates[0].location.member
    assert second is not None and second.startswith("model.pkl@")
    assert "MW100" in rules_at(result, second)
    assert not marker.exists()


def test_path_traversal_names(tmp_path: Path) -> None:
    entries = [Entry("../../etc/cron.d/job", b"* * * * * root id"), Entry("/abs.txt", b"x")]
    result = scan(_write(tmp_path / "slip.zip", craft_zip(entries)))
    assert "MW126" in rules_at(result, "../../etc/cron.d/job"), describe(result)
    assert "MW126" in rules_at(result, "/abs.txt")


def test_appended_data(tmp_path: Path) -> None:
    data = craft_zip([Entry("a.txt", b"text")], append=b"TRAILER")
    result = scan(_write(tmp_path / "poly.zip", data))
    extra = [f for f in result.findings if f.rule == "MW127"]
    assert [f.evidence["where"] for f in extra] == ["after"], describe(result)
    assert rules_at(result, "a.txt") == set(), describe(result)


def test_prepended_and_interleaved_data() -> None:
    # A file that starts with a script is not sniffed as a ZIP; the layout still says why.
    entries = [Entry("a.txt", b"text", padding_after=b"JUNK" * 4), Entry("b.txt", b"more")]
    data = craft_zip(entries, prepend=b"#!/bin/sh\necho hi\n")
    layout = read_layout(io.BytesIO(data), len(data), Limits())
    found = [(i.rule, i.evidence["where"], i.evidence["bytes"]) for i in layout.issues]
    assert found == [("MW127", "before", 18), ("MW127", "between", 16)]
    assert [e.name for e in layout.entries] == ["a.txt", "b.txt"]
    assert layout.hidden == []


def test_overlapping_entries(tmp_path: Path) -> None:
    entries = [Entry("a.bin", b"A" * 500, method=8), Entry("b.txt", b"b")]
    result = scan(_write(tmp_path / "overlap.zip", craft_zip(entries, point_twice=True)))
    assert any(f.rule == "MW128" for f in result.findings), describe(result)


def test_zip_bomb_ends_in_a_finding_quickly(tmp_path: Path) -> None:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = b"\x00" * (1024 * 1024)
    packed = b"".join(packer.compress(chunk) for _ in range(64)) + packer.flush()
    crc = 0
    for _ in range(64):
        crc = zlib.crc32(chunk, crc)
    name = b"bomb.bin"
    size = 64 * 1024 * 1024
    local = struct.pack(
        "<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 8, 0, 0x21, crc, len(packed), size, len(name), 0
    )
    central = struct.pack(
        "<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, 8, 0, 0x21, crc, len(packed), size,
        len(name), 0, 0, 0, 0, 0, 0,
    )  # fmt: skip
    body = local + name + packed
    eocd = struct.pack(
        "<4sHHHHIIH", b"PK\x05\x06", 0, 0, 1, 1, len(central) + len(name), len(body), 0
    )
    result = scan(_write(tmp_path / "bomb.zip", body + central + name + eocd))
    assert rules_at(result, "bomb.bin") == {"MW129"}, describe(result)


def test_member_that_inflates_past_its_declared_size(tmp_path: Path) -> None:
    data = bytearray(craft_zip([Entry("small.txt", b"z" * 100_000, method=8)]))
    declared = 1000
    struct.pack_into("<I", data, local_header_offsets(bytes(data))[0] + 22, declared)
    struct.pack_into("<I", data, central_header_offsets(bytes(data))[0] + 24, declared)
    result = scan(_write(tmp_path / "liar.zip", bytes(data)))
    assert "MW120" in rules_at(result, "small.txt"), describe(result)


def test_zip_in_zip_in_zip(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    inner = zip_bytes({"deep/payload.pkl": payload_pickle(marker)}, zipfile.ZIP_DEFLATED)
    middle = zip_bytes({"inner.zip": inner}, zipfile.ZIP_DEFLATED)
    outer = zip_bytes({"middle.zip": middle})
    result = scan(_write(tmp_path / "outer.zip", outer))
    member = "middle.zip!inner.zip!deep/payload.pkl"
    assert "MW100" in rules_at(result, member), describe(result)
    assert not marker.exists()


def test_nesting_deeper_than_the_limit(tmp_path: Path) -> None:
    data = zip_bytes({"payload.pkl": b"\x80\x02N."})
    for level in range(5):
        data = zip_bytes({f"level{level}.zip": data}, zipfile.ZIP_DEFLATED)
    result = scan(_write(tmp_path / "deep.zip", data), Limits(max_archive_depth=3))
    limits = [f for f in result.findings if f.rule == "MW001"]
    assert [f.evidence["limit"] for f in limits] == ["max_archive_depth"], describe(result)
    assert limits[0].location.member == "level4.zip!level3.zip!level2.zip"


def test_too_many_members(tmp_path: Path) -> None:
    data = zip_bytes({f"f{i}.txt": b"" for i in range(20)})
    result = scan(_write(tmp_path / "many.zip", data), Limits(max_archive_members=10))
    assert [f.rule for f in result.findings] == ["MW001"], describe(result)
    assert result.findings[0].evidence["limit"] == "max_archive_members"


def test_zip64_archive(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    path = tmp_path / "z64.zip"
    with zipfile.ZipFile(path, "w") as archive:
        with archive.open("a.pkl", "w", force_zip64=True) as member:
            member.write(payload_pickle(marker))
        with archive.open("b.txt", "w", force_zip64=True) as member:
            member.write(b"plain")
    result = scan(path)
    assert rules_at(result, "a.pkl") == {"MW100"}, describe(result)
    assert not [f for f in serious(result) if f.rule.startswith("MW12")], describe(result)


def test_truncated_zip_is_not_clean(tmp_path: Path) -> None:
    data = zip_bytes({"a.txt": b"x" * 1000})
    result = scan(_write(tmp_path / "cut.zip", data[:600]))
    assert any(f.rule == "MW002" for f in result.findings), describe(result)


def test_total_uncompressed_bytes_limit(tmp_path: Path) -> None:
    data = zip_bytes({f"f{i}.txt": b"x" * 600 for i in range(3)})
    result = scan(_write(tmp_path / "big.zip", data), Limits(max_uncompressed_bytes=1000))
    totals = [f for f in result.findings if f.rule == "MW129"]
    assert [(f.location.member, f.evidence["limit"]) for f in totals] == [
        (None, "max_uncompressed_bytes")
    ], describe(result)


def test_container_formats_are_identified() -> None:
    def entry(name: str) -> ZipEntry:
        return ZipEntry(name, name.encode(), 0, 0, 0, 0, 1, 0)

    def heads(found: ZipEntry, count: int) -> bytes:
        if found.name == "metadata.json":
            return b'{"keras_version": "3.3.3"}'
        return b"\x93NUMPY"[:count]

    cases = {
        "pytorch-zip": ["m/data.pkl", "m/byteorder", "m/data/0", "m/version"],
        "torchscript": ["m/data.pkl", "m/constants.pkl", "m/code/__torch__.py", "m/data/0"],
        "npz": ["a.npy", "b.npy"],
        "keras": ["config.json", "metadata.json", "model.weights.h5"],
        "zip": ["data.pkl.txt", "notes.md"],
    }
    for expected, names in cases.items():
        assert identify([entry(n) for n in names], heads) == expected
