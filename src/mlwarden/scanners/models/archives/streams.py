"""Bounded, seekable streams over archive members: byte windows and streaming decompression.

Nothing here reads a whole member into memory. A :class:`ByteWindow` is a slice of a parent
stream with O(1) seeks; an :class:`InflatingReader` decompresses on demand, caps its output at
the size it may produce, checks the compression ratio on the bytes it actually produces, and
keeps a few decompressor snapshots so that seeking backwards (as a ZIP reader does inside a
compressed member) does not restart from the beginning every time.
"""

from __future__ import annotations

import bz2
import io
import lzma
import zlib
from collections.abc import Callable
from typing import IO, NamedTuple, Protocol

from mlwarden.scanners.interface import FormatError, LimitExceeded

#: Ratios are only meaningful on sizable outputs: a small run of zeros compresses a
#: thousandfold and harms no one, a bomb has to produce gigabytes.
RATIO_FLOOR_BYTES = 16 * 1024 * 1024

#: Compressed bytes read from the source at a time.
CHUNK = 64 * 1024

#: Output distance between decompressor snapshots, and how many are kept at most; with ~40 KiB
#: per zlib snapshot this is at most ~2.5 MiB per open member.
SNAPSHOT_SPACING = 4 * 1024 * 1024
MAX_SNAPSHOTS = 64


class Codec(Protocol):
    """A streaming decompressor with bounded output per call (bz2/lzma API shape)."""

    @property
    def eof(self) -> bool: ...

    @property
    def needs_input(self) -> bool: ...

    @property
    def unused_data(self) -> bytes: ...

    def decompress(self, data: bytes, max_length: int = -1) -> bytes: ...


class ZlibCodec:
    """zlib/deflate/gzip behind the bz2/lzma decompressor API, with snapshots (``copy``)."""

    def __init__(self, wbits: int, _state: zlib._Decompress | None = None) -> None:
        self._wbits = wbits
        self._obj = _state if _state is not None else zlib.decompressobj(wbits)
        self._tail = b""

    @property
    def eof(self) -> bool:
        return self._obj.eof

    @property
    def needs_input(self) -> bool:
        return not self._tail and not self._obj.eof

    @property
    def unused_data(self) -> bytes:
        return self._obj.unused_data

    def decompress(self, data: bytes, max_length: int = -1) -> bytes:
        buf = self._tail + data if self._tail else data
        try:
            out = self._obj.decompress(buf, max(max_length, 0))
        except zlib.error as exc:
            raise FormatError(f"corrupt deflate data: {exc}") from None
        self._tail = self._obj.unconsumed_tail
        return out

    def copy(self) -> ZlibCodec:
        twin = ZlibCodec(self._wbits, self._obj.copy())
        twin._tail = self._tail
        return twin


class _ErrorMapping:
    """bz2/lzma decompressors whose errors become :class:`FormatError`."""

    def __init__(self, obj: bz2.BZ2Decompressor | lzma.LZMADecompressor) -> None:
        self._obj = obj

    @property
    def eof(self) -> bool:
        return self._obj.eof

    @property
    def needs_input(self) -> bool:
        return self._obj.needs_input

    @property
    def unused_data(self) -> bytes:
        return self._obj.unused_data

    def decompress(self, data: bytes, max_length: int = -1) -> bytes:
        try:
            return self._obj.decompress(data, max_length)
        except (OSError, lzma.LZMAError, EOFError, ValueError) as exc:
            raise FormatError(f"corrupt compressed data: {exc}") from None


def bz2_codec() -> Codec:
    """A bzip2 decompressor."""
    return _ErrorMapping(bz2.BZ2Decompressor())


def lzma_codec(fmt: int = lzma.FORMAT_AUTO, filters: list[dict[str, int]] | None = None) -> Codec:
    """An xz / lzma-alone / raw LZMA decompressor."""
    if filters is not None:
        return _ErrorMapping(lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=filters))
    return _ErrorMapping(lzma.LZMADecompressor(fmt))


class ByteWindow(io.RawIOBase):
    """The bytes ``[start, start + length)`` of a shared parent stream, seekable in O(1).

    The parent is shared between windows (and with the scanner that opened it): every read
    seeks it to this window's position first, so windows never disturb each other.
    """

    def __init__(self, parent: IO[bytes], start: int, length: int) -> None:
        super().__init__()
        self._parent = parent
        self._start = start
        self._length = max(length, 0)
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._length}[whence]
        self._pos = max(base + offset, 0)
        return self._pos

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        want = min(len(buffer), self._length - self._pos)
        if want <= 0:
            return 0
        self._parent.seek(self._start + self._pos)
        data = self._parent.read(want)
        n = len(data)
        buffer[:n] = data
        self._pos += n
        return n


class _Snapshot(NamedTuple):
    out_pos: int
    in_pos: int
    codec: ZlibCodec


class InflatingReader(io.RawIOBase):
    """Decompress ``source`` on demand, bounded in output size and compression ratio.

    ``size`` is the exact number of bytes the stream may produce (a ZIP member's declared
    size), or ``None`` when only the decompressor knows (a gzip file); output never goes past
    ``max_output``. When ``stream_magic`` is given, concatenated streams that start with it
    (``gzip`` members, ``bzip2`` streams) are read as one, as the standard library modules do;
    other trailing bytes are ignored, as loaders never read them. Bytes the
    decompressor would still produce past ``size`` set :attr:`overran`.
    """

    def __init__(
        self,
        source: io.RawIOBase,
        codec_factory: Callable[[], Codec],
        *,
        size: int | None,
        max_output: int,
        max_ratio: float,
        label: str,
        stream_magic: bytes = b"",
    ) -> None:
        super().__init__()
        self._source = source
        self._factory = codec_factory
        self._size = size
        self._max_output = max_output
        self._max_ratio = max_ratio
        self._label = label
        self._magic = stream_magic
        self._snapshots: list[_Snapshot] = []
        self._spacing = SNAPSHOT_SPACING
        self.overran = False
        self._target: int | None = None
        self._restart()

    def _restart(self) -> None:
        self._codec: Codec = self._factory()
        self._source.seek(0)
        self._in_pos = 0
        self._out_pos = 0
        self._done = False

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._out_pos if self._target is None else self._target

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        # Seeks are lazy: only the next read decompresses up to the target, so asking for
        # the size (seek to the end) or seeking twice in a row costs nothing.
        if whence == io.SEEK_SET:
            target = offset
        elif whence == io.SEEK_CUR:
            target = self.tell() + offset
        else:
            target = self._length() + offset
        self._target = max(target, 0)
        return self._target

    def _settle(self) -> None:
        target, self._target = self._target, None
        if target is None or target == self._out_pos:
            return
        if target < self._out_pos:
            self._rewind(target)
        self._skip(target - self._out_pos)

    def _length(self) -> int:
        if self._size is not None:
            return self._size
        self._settle()
        self._skip(self._max_output + 1)  # bounded: raises past max_output
        return self._out_pos

    def _rewind(self, target: int) -> None:
        usable = [s for s in self._snapshots if s.out_pos <= target]
        if not usable:
            self._restart()
            return
        snap = usable[-1]
        self._codec = snap.codec.copy()
        self._source.seek(snap.in_pos)
        self._in_pos = snap.in_pos
        self._out_pos = snap.out_pos
        self._done = False

    def _skip(self, count: int) -> None:
        buffer = bytearray(min(max(count, 0), CHUNK))
        while count > 0:
            view = memoryview(buffer)[: min(count, len(buffer))]
            got = self.readinto(view)
            if got == 0:
                return
            count -= got

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        self._settle()
        limit = len(buffer)
        if self._size is not None:
            limit = min(limit, self._size - self._out_pos)
        if limit <= 0 or self._done:
            if self._size is not None and self._out_pos >= self._size and not self._done:
                self._check_overrun()
            return 0
        stalls = 0
        while True:
            stalls += 1
            if stalls > 1024:
                raise FormatError(f"{self._label}: decompressor makes no progress")
            if self._codec.eof and not self._next_stream():
                self._done = True
                return 0
            data = b""
            if self._codec.needs_input:
                data = self._source.read(CHUNK) or b""
                self._in_pos += len(data)
                if not data:
                    # Drain what the decompressor still holds; nothing more means truncation.
                    out = self._codec.decompress(b"", limit)
                    if not out:
                        if self._codec.eof:
                            continue
                        raise FormatError(f"{self._label}: compressed data ends early")
                    return self._emit(buffer, out)
            out = self._codec.decompress(data, limit)
            if out:
                return self._emit(buffer, out)

    def _emit(self, buffer: memoryview | bytearray, out: bytes) -> int:
        n = len(out)
        buffer[:n] = out
        before = self._out_pos
        self._out_pos += n
        self._check_bounds()
        if isinstance(self._codec, ZlibCodec) and before // self._spacing != (
            self._out_pos // self._spacing
        ):
            self._snapshot()
        return n

    def _snapshot(self) -> None:
        assert isinstance(self._codec, ZlibCodec)
        if self._snapshots and self._snapshots[-1].out_pos >= self._out_pos:
            return
        self._snapshots.append(_Snapshot(self._out_pos, self._in_pos, self._codec.copy()))
        if len(self._snapshots) > MAX_SNAPSHOTS:
            # Keep every other one and space future ones twice as far: memory stays bounded.
            self._snapshots = self._snapshots[1::2]
            self._spacing *= 2

    def _check_bounds(self) -> None:
        if self._out_pos > self._max_output:
            raise LimitExceeded(
                "max_uncompressed_bytes",
                f"{self._label}: decompresses to more than {self._max_output} bytes",
            )
        if self._out_pos > RATIO_FLOOR_BYTES and self._out_pos > self._max_ratio * max(
            self._in_pos, 1
        ):
            raise LimitExceeded(
                "max_compression_ratio",
                f"{self._label}: decompression ratio above {self._max_ratio:g}"
                f" ({self._out_pos} bytes from {self._in_pos})",
            )

    def _check_overrun(self) -> None:
        """Whether the data goes on past the declared size (sizes that lie)."""
        self._done = True
        if self._codec.eof:
            return
        data = b"" if not self._codec.needs_input else (self._source.read(CHUNK) or b"")
        self._in_pos += len(data)
        try:
            extra = self._codec.decompress(data, 1)
        except FormatError:
            return
        if extra:
            self.overran = True

    def _next_stream(self) -> bool:
        """After one stream ends, start the next concatenated one if there is one."""
        if not self._magic:
            return False
        rest = self._codec.unused_data
        if len(rest) < len(self._magic):
            more = self._source.read(CHUNK) or b""
            self._in_pos += len(more)
            rest += more
        if not rest.startswith(self._magic):
            return False
        # The bytes already read belong to the next stream: feed them to a fresh decompressor.
        self._codec = _Prefixed(self._factory(), rest)
        return True


class _Prefixed:
    """A codec that is first fed ``prefix`` (bytes already read past the previous stream)."""

    def __init__(self, inner: Codec, prefix: bytes) -> None:
        self._inner = inner
        self._prefix = prefix

    @property
    def eof(self) -> bool:
        return self._inner.eof

    @property
    def needs_input(self) -> bool:
        return not self._prefix and self._inner.needs_input

    @property
    def unused_data(self) -> bytes:
        return self._inner.unused_data

    def decompress(self, data: bytes, max_length: int = -1) -> bytes:
        if self._prefix:
            data, self._prefix = self._prefix + data, b""
        return self._inner.decompress(data, max_length)


def buffered(raw: io.RawIOBase, size: int = CHUNK) -> IO[bytes]:
    """A buffered reader over a raw stream: scanners read many small pieces."""
    return io.BufferedReader(raw, buffer_size=size)
