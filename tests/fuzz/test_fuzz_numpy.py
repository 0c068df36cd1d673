"""Fuzz the NumPy scanner: damaged .npy headers and bodies, damaged .npz archives."""

from __future__ import annotations

from fuzz_mutations import mutated_seed, zip_with_mutated_member
from fuzz_oracle import FUZZ, scan_soundly
from fuzz_seeds import Seed, npz_seeds, numpy_seeds
from hypothesis import given
from hypothesis import strategies as st


@FUZZ
@given(case=st.deferred(lambda: mutated_seed(numpy_seeds())))
def test_damaged_npy_files_scan_soundly(case: tuple[Seed, bytes]) -> None:
    seed, data = case
    scan_soundly(data, seed.name)


@FUZZ
@given(
    header=st.text(max_size=200),
    version=st.sampled_from([b"\x01\x00", b"\x02\x00", b"\x03\x00", b"\x09\x09"]),
)
def test_npy_with_arbitrary_header_text_scans_soundly(header: str, version: bytes) -> None:
    raw = header.encode("utf-8", "surrogatepass")
    width = 2 if version == b"\x01\x00" else 4
    length = (len(raw) % 256**width).to_bytes(width, "little")
    scan_soundly(b"\x93NUMPY" + version + length + raw + b"\x00" * 16, "header.npy")


@FUZZ
@given(case=st.deferred(lambda: mutated_seed(npz_seeds())))
def test_damaged_npz_bytes_scan_soundly(case: tuple[Seed, bytes]) -> None:
    seed, data = case
    scan_soundly(data, seed.name)


@FUZZ
@given(
    data=st.deferred(
        lambda: st.sampled_from(npz_seeds()).flatmap(
            lambda seed: zip_with_mutated_member(seed.data)
        )
    )
)
def test_npz_with_damaged_members_scans_soundly(data: bytes) -> None:
    scan_soundly(data, "arrays.npz")
