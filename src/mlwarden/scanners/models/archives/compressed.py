"""The compressed-stream scanner: gzip, bzip2, xz, lzma-alone and zlib around one artifact.

joblib writes its compressed files as one of these streams around a pickle (``zlib`` and
``gzip`` by default, ``bz2``, ``xz``, ``lzma`` and ``lz4`` on request; files from joblib before
0.10 start with ``ZF`` and a 19-byte hexadecimal length, then zlib). The stream is decompressed
once to measure it (bounded by ``max_uncompressed_bytes`` and ``max_compression_ratio``), then
handed to the engine as one nested artifact that decompresses again on demand: the bytes are
never held in memory or written to disk.
"""

from __future__ import annotations

import importlib
import lzma
from collections.abc import Callable, Iterator
from typing import IO, Any, NamedTuple

from mlwarden.findings import Finding
from mlwarden.scanners import register
from mlwarden.scanners.interface import Artifact, FormatError, LimitExceeded, ScanContext, Scanner
from mlwarden.scanners.models.archives.members import STORAGE_CONTAINER, quiet_in_storage
from mlwarden.scanners.models.archives.streams import (
    ByteWindow,
    Codec,
    InflatingReader,
    ZlibCodec,
    buffered,
    bz2_codec,
    lzma_codec,
)
from mlwarden.sniff import HEAD_BYTES, Kind

#: joblib's pickles name this module for every NumPy array they hold.
JOBLIB_MARKER = b"joblib.numpy_pickle"
#: Legacy joblib z-files: ``ZF``, then the length as ``hex()`` padded to len(hex(2**64)).
_ZFILE_HEADER = 2 + len(hex(2**64))


class Compression(NamedTuple):
    """One compressed-stream format: how to recognise and decode it."""

    name: str
    magic: bytes
    factory: Callable[[], Codec] | None  # None: the library is not installed
    skip: int = 0  # header bytes before the compressed data
    multi_stream: bool = False
    module: str = ""


def _optional_codec(module: str, attribute: str) -> Callable[[], Codec] | None:
    try:
        lib: Any = importlib.import_module(module)
    except ImportError:
        return None
    cls = getattr(lib, attribute, None)
    return None if cls is None else lambda: cls()


def _lzma_alone() -> Codec:
    return lzma_codec(lzma.FORMAT_ALONE)


def _xz() -> Codec:
    return lzma_codec(lzma.FORMAT_XZ)


def detect(head: bytes) -> Compression | None:
    """The compression whose magic number starts ``head``, if any."""
    if head.startswith(b"\x1f\x8b"):
        return Compression("gzip", b"\x1f\x8b", lambda: ZlibCodec(31), multi_stream=True)
    if head.startswith(b"BZh"):
        return Compression("bzip2", b"BZh", bz2_codec, multi_stream=True)
    if head.startswith(b"\xfd7zXZ\x00"):
        return Compression("xz", b"\xfd7zXZ\x00", _xz, multi_stream=True)
    if head.startswith(b"\x04\x22\x4d\x18"):
        factory = _optional_codec("lz4.frame", "LZ4FrameDecompressor")
        return Compression("lz4", b"\x04\x22\x4d\x18", factory, multi_stream=True, module="lz4")
    if head.startswith(b"\x28\xb5\x2f\xfd"):
        factory = _optional_codec("compression.zstd", "ZstdDecompressor") or _optional_codec(
            "backports.zstd", "ZstdDecompressor"
        )
        return Compression(
            "zstd", b"\x28\xb5\x2f\xfd", factory, multi_stream=True, module="backports.zstd"
        )
    if head.startswith(b"ZF0x"):
        return Compression("joblib-zfile", b"ZF", lambda: ZlibCodec(15), skip=_ZFILE_HEADER)
    if head[:1] == b"\x78" and len(head) >= 2 and (head[0] << 8 | head[1]) % 31 == 0:
        return Compression("zlib", b"\x78", lambda: ZlibCodec(15))
    if len(head) >= 13 and head[0] == 0x5D and head[1:3] == b"\x00\x00":
        return Compression("lzma", b"\x5d", _lzma_alone)
    return None


@register
class CompressedScanner(Scanner):
    """A compressed stream around one artifact (joblib files, ``.gz`` checkpoints, tarballs)."""

    name = "compressed"
    kinds = frozenset({Kind.COMPRESSED})

    def scan(self, artifact: Artifact, context: ScanContext) -> Iterator[Finding]:
        return quiet_in_storage(artifact, self._scan(artifact, context))

    def _scan(self, artifact: Artifact, context: ScanContext) -> Iterator[Finding]:
        limits = context.limits
        head = artifact.head
        if not head:
            with artifact.open() as stream:
                head = stream.read(HEAD_BYTES)
        compression = detect(head)
        if compression is None:
            raise FormatError("compressed stream of an unknown format")
        evidence: dict[str, object] = {"format": "compressed", "compression": compression.name}
        factory = compression.factory
        if factory is None:
            if artifact.container == STORAGE_CONTAINER:
                return
            yield self.finding(
                artifact,
                "MW132",
                f"{compression.name} stream: install the {compression.module!r} package to"
                " inspect its content",
                evidence=evidence,
                key=compression.name,
            )
            return
        with artifact.open() as stream:
            total = stream.seek(0, 2)

            def reader(size: int | None = None) -> InflatingReader:
                window = ByteWindow(stream, compression.skip, total - compression.skip)
                return InflatingReader(
                    window,
                    factory,
                    size=size,
                    max_output=limits.max_uncompressed_bytes,
                    max_ratio=limits.max_compression_ratio,
                    label="compressed stream",
                    stream_magic=compression.magic if compression.multi_stream else b"",
                )

            try:
                size, inner_head, joblib = _measure(reader(), context)
            except LimitExceeded as exc:
                yield self.finding(
                    artifact,
                    "MW129",
                    f"{exc}; the content was not scanned",
                    evidence={**evidence, "limit": exc.limit},
                    key=exc.limit,
                )
                return
            container = "joblib" if joblib or compression.name == "joblib-zfile" else "compressed"

            def opener() -> IO[bytes]:
                # The size is known now: the stream must produce exactly that much again.
                return buffered(reader(size))

            nested = Artifact(
                path=artifact.path,
                # The decompressed content is what users call the file: same location.
                member=artifact.member,
                kind=Kind.UNKNOWN,
                size=size,
                opener=opener,
                head=inner_head,
                depth=artifact.depth + 1,
                container=container,
            )
            yield from context.scan_nested(nested)


def _measure(raw: InflatingReader, context: ScanContext) -> tuple[int, bytes, bool]:
    """Decompress to the end once: (size, first bytes, whether joblib's marker appears)."""
    head = b""
    joblib = False
    carry = b""
    buffer = bytearray(256 * 1024)
    size = 0
    while True:
        got = raw.readinto(buffer)
        if not got:
            break
        chunk = bytes(buffer[:got])
        size += got
        if len(head) < HEAD_BYTES:
            head += chunk[: HEAD_BYTES - len(head)]
        if not joblib:
            joblib = JOBLIB_MARKER in carry + chunk
            carry = chunk[-len(JOBLIB_MARKER) :]
        context.check_time()
    return size, head, joblib
