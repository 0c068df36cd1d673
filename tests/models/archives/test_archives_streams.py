"""Member streams: exact bytes after any seek, and bounds enforced on what is produced."""

from __future__ import annotations

import io
import random
import zlib

import pytest

from mlwarden.scanners.interface import LimitExceeded
from mlwarden.scanners.models.archives.streams import (
    SNAPSHOT_SPACING,
    ByteWindow,
    InflatingReader,
    ZlibCodec,
)


def _deflated(data: bytes) -> bytes:
    packer = zlib.compressobj(6, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()


def _reader(packed: bytes, size: int | None, max_ratio: float = 250.0) -> InflatingReader:
    window = ByteWindow(io.BytesIO(b"HEAD" + packed), 4, len(packed))
    return InflatingReader(
        window,
        lambda: ZlibCodec(-15),
        size=size,
        max_output=1 << 40,
        max_ratio=max_ratio,
        label="test",
    )


def test_seeks_backwards_and_forwards_give_the_right_bytes() -> None:
    rng = random.Random(7)
    # Text-like data: compressible, and long enough for several decompressor snapshots.
    words = [rng.randbytes(rng.randint(2, 9)) for _ in range(500)]
    data = b" ".join(rng.choice(words) for _ in range(3 * SNAPSHOT_SPACING // 5))
    reader = _reader(_deflated(data), len(data))
    spacing = SNAPSHOT_SPACING
    positions = [len(data) - 100, 3 * spacing // 2, 10, len(data) // 2, spacing + 1, 0]
    for position in positions:
        assert reader.seek(position) == position
        assert reader.read(4096) == data[position : position + 4096]
    reader.seek(0, io.SEEK_END)
    assert reader.tell() == len(data)
    assert reader.read(10) == b""


def test_unknown_size_is_found_by_reading() -> None:
    data = b"abc" * 1000
    reader = _reader(_deflated(data), None)
    assert reader.seek(0, io.SEEK_END) == len(data)
    reader.seek(0)
    assert reader.read() == data


def test_ratio_is_checked_on_what_is_produced() -> None:
    data = b"\x00" * (40 * 1024 * 1024)
    reader = _reader(_deflated(data), None, max_ratio=100.0)
    with pytest.raises(LimitExceeded) as caught:
        while reader.read(1024 * 1024):
            pass
    assert caught.value.limit == "max_compression_ratio"


def test_declared_size_caps_the_output_and_overruns_are_noticed() -> None:
    data = b"x" * 50_000
    reader = _reader(_deflated(data), 1000)
    assert reader.read() == data[:1000]
    assert reader.overran


def test_window_never_reads_outside_its_slice() -> None:
    parent = io.BytesIO(b"0123456789")
    window = ByteWindow(parent, 2, 5)
    assert window.read() == b"23456"
    window.seek(3)
    assert window.read(10) == b"56"
    assert window.seek(0, io.SEEK_END) == 5
