"""Fuzz the archive scanners: zip (torch, torchscript, nested), tar and compressed streams."""

from __future__ import annotations

import io
import zipfile

from fuzz_mutations import mutated_bytes, mutated_seed, zip_with_mutated_member
from fuzz_oracle import FUZZ, scan_soundly
from fuzz_seeds import Seed, archive_seeds, torch_checkpoint, torchscript_archive
from hypothesis import given, settings
from hypothesis import strategies as st


@FUZZ
@given(case=st.deferred(lambda: mutated_seed(archive_seeds())))
def test_damaged_archives_scan_soundly(case: tuple[Seed, bytes]) -> None:
    seed, data = case
    scan_soundly(data, seed.name)


@FUZZ
@given(data=st.deferred(lambda: zip_with_mutated_member(torch_checkpoint(), ("data.pkl",))))
def test_torch_checkpoint_with_damaged_data_pkl_scans_soundly(data: bytes) -> None:
    scan_soundly(data, "checkpoint.pt")


@FUZZ
@given(data=st.deferred(lambda: zip_with_mutated_member(torch_checkpoint())))
def test_torch_checkpoint_with_any_damaged_member_scans_soundly(data: bytes) -> None:
    scan_soundly(data, "checkpoint.pt")


@FUZZ
@given(data=st.deferred(lambda: zip_with_mutated_member(torchscript_archive())))
def test_torchscript_with_damaged_members_scans_soundly(data: bytes) -> None:
    scan_soundly(data, "scripted.pt")


def _nest(data: bytes, depth: int, name: str) -> bytes:
    for level in range(depth):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(name, data)
        data, name = buffer.getvalue(), f"level{level}.zip"
    return data


@FUZZ
@given(depth=st.integers(1, 12), data=st.deferred(lambda: mutated_bytes(archive_seeds()[0].data)))
def test_deeply_nested_damaged_archives_scan_soundly(depth: int, data: bytes) -> None:
    scan_soundly(_nest(data, depth, "inner.pt"), "nested.zip")


@settings(FUZZ, max_examples=12)
@given(size=st.sampled_from([0, 1 << 20, 48 << 20]), members=st.integers(1, 3000))
def test_highly_compressed_and_crowded_zips_scan_soundly(size: int, members: int) -> None:
    # Bombs: one member of many zero bytes, or thousands of empty members.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.bin", b"\x00" * size)
        for i in range(members):
            archive.writestr(f"m/{i}", b"")
    scan_soundly(buffer.getvalue(), "bomb.zip")


@settings(FUZZ, max_examples=16)
@given(
    method=st.sampled_from(["gzip", "bz2", "xz", "zlib"]),
    size=st.sampled_from([1 << 20, 64 << 20, 200 << 20]),
)
def test_compression_bombs_scan_soundly(method: str, size: int) -> None:
    import bz2
    import gzip
    import lzma
    import zlib

    compress = {
        "gzip": gzip.compress,
        "bz2": bz2.compress,
        "xz": lzma.compress,
        "zlib": zlib.compress,
    }[method]
    scan_soundly(compress(b"\x80\x02" + b"\x00" * size), f"bomb.{method}")
