"""The ZIP scanner: structure first, then every member by content, handed back to the engine.

Only headers, the first bytes of each member and the members that are scanned are read, so a
multi-gigabyte PyTorch checkpoint (a ZIP of stored tensor storages) scans in milliseconds:
tensor bytes are never streamed through. CRC policy: the CRC-32 is verified for members that
sniff as pickles (what a loader unpickles) and for members up to 1 MiB, within a budget per
archive; large storages are left unread.
"""

from __future__ import annotations

import io
import lzma
import struct
import zlib
from collections.abc import Callable, Iterator
from typing import IO

from mlwarden.findings import Finding
from mlwarden.scanners import register
from mlwarden.scanners.interface import (
    Artifact,
    FormatError,
    LimitExceeded,
    Limits,
    ScanContext,
    Scanner,
)
from mlwarden.scanners.models.archives import torchscript
from mlwarden.scanners.models.archives.members import (
    SMALL_MEMBER_BYTES,
    STORAGE_CONTAINER,
    STORAGE_SCANNED_KINDS,
    at_member,
    escapes_root,
    is_storage,
    member_path,
    quiet_in_storage,
)
from mlwarden.scanners.models.archives.streams import (
    RATIO_FLOOR_BYTES,
    ByteWindow,
    Codec,
    InflatingReader,
    ZlibCodec,
    buffered,
    bz2_codec,
    lzma_codec,
)
from mlwarden.scanners.models.archives.zipformat import FLAG_DESCRIPTOR, ZipEntry
from mlwarden.scanners.models.archives.zipinspect import read_layout, structural_flag_issues
from mlwarden.sniff import HEAD_BYTES, Kind, sniff

#: Total bytes of small, not otherwise scanned members whose CRC is verified per archive.
CRC_BUDGET_BYTES = 64 * 1024 * 1024

_METHOD_NAMES = {0: "stored", 8: "deflate", 12: "bzip2", 14: "lzma"}


def _zip_lzma_codec(header: bytes) -> Codec:
    """ZIP method 14: a 4-byte version/size header, then 5 bytes of LZMA properties."""
    if len(header) < 9:
        raise FormatError("truncated LZMA member header")
    props = header[4]
    dict_size = struct.unpack_from("<I", header, 5)[0]
    lc, rest = props % 9, props // 9
    lp, pb = rest % 5, rest // 5
    filters = [{"id": lzma.FILTER_LZMA1, "dict_size": dict_size, "lc": lc, "lp": lp, "pb": pb}]
    return lzma_codec(filters=filters)


class MemberOpener:
    """Fresh, bounded streams of one member's uncompressed bytes, over the shared archive."""

    def __init__(self, parent: IO[bytes], entry: ZipEntry, limits: Limits, label: str) -> None:
        self.parent = parent
        self.entry = entry
        self.limits = limits
        self.label = label
        #: The size the member's stream produces (``None``: until its compressed data ends).
        self.size: int | None = entry.size
        if entry.method == 0:
            self.size = entry.compressed_size
        elif not entry.in_directory and entry.flags & FLAG_DESCRIPTOR:
            self.size = None
        #: The whole member, once read, when it is small: every scanner of it, and its CRC
        #: check, then read these bytes instead of reading (and decompressing) it again.
        self.cached: bytes | None = None
        #: Whether the cached member's data went on past its declared size.
        self.cached_overran = False

    def cache_if_small(self) -> bytes | None:
        """Read a small member whole and keep it; ``None`` for a large member, one whose size
        is only known at its end, or one that cannot be read whole."""
        if self.size is None or self.size > SMALL_MEMBER_BYTES:
            return None
        if self.cached is None:
            raw = self.raw()
            # One byte of room past the size: the last read finds the end (and, compressed,
            # whether the data goes on past it).
            buffer = memoryview(bytearray(self.size + 1))
            total = 0
            try:
                while got := raw.readinto(buffer[total:]):
                    total += got
            except (FormatError, LimitExceeded):
                return None  # the streams report it as they always do
            if total != self.size:
                return None  # short: likewise
            self.cached = bytes(buffer[:total])
            self.cached_overran = isinstance(raw, InflatingReader) and raw.overran
        return self.cached

    def raw(self) -> ByteWindow | InflatingReader:
        entry = self.entry
        start, length = entry.data_offset, entry.compressed_size
        if entry.method == 0:
            return ByteWindow(self.parent, start, length)
        if entry.method == 14:
            header = ByteWindow(self.parent, start, 9).read(9)
            factory: Callable[[], Codec] = lambda: _zip_lzma_codec(header)  # noqa: E731
            start, length = start + 9, length - 9
        elif entry.method == 12:
            factory = bz2_codec
        else:
            factory = lambda: ZlibCodec(-15)  # noqa: E731
        return InflatingReader(
            ByteWindow(self.parent, start, length),
            factory,
            size=self.size,
            max_output=self.limits.max_uncompressed_bytes,
            max_ratio=self.limits.max_compression_ratio,
            label=self.label,
        )

    def __call__(self) -> IO[bytes]:
        if self.cached is not None:
            return io.BytesIO(self.cached)
        return buffered(self.raw())

    def verify(self, context: ScanContext) -> tuple[int, int, bool]:
        """Read the member to its end: (CRC-32, bytes, whether data went past its size)."""
        if self.cached is not None:
            return zlib.crc32(self.cached), len(self.cached), self.cached_overran
        raw = self.raw()
        crc, total = 0, 0
        buffer = bytearray(256 * 1024)
        while True:
            got = raw.readinto(buffer)
            if not got:
                break
            crc = zlib.crc32(memoryview(buffer)[:got], crc)
            total += got
            context.check_time()
        return crc, total, isinstance(raw, InflatingReader) and raw.overran


def identify(entries: list[ZipEntry], heads: Callable[[ZipEntry, int], bytes]) -> str:
    """The container format, from member names (and a few bytes where names are not enough)."""
    names = {e.name for e in entries}
    for name in sorted(names):
        if not (name == "data.pkl" or name.endswith("/data.pkl")):
            continue
        prefix = name[: -len("data.pkl")]
        if prefix + "constants.pkl" in names and any(n.startswith(prefix + "code/") for n in names):
            return "torchscript"
        markers = (prefix + "byteorder", prefix + "version", prefix + ".data/version")
        if any(m in names for m in markers) or any(n.startswith(prefix + "data/") for n in names):
            return "pytorch-zip"
    files = [e for e in entries if not e.is_dir]
    npy = files and all(e.name.endswith(".npy") for e in files)
    if npy and heads(files[0], 6) == b"\x93NUMPY":
        return "npz"
    by_name = {e.name: e for e in files}
    metadata = by_name.get("metadata.json")
    if "config.json" in by_name and metadata and b"keras_version" in heads(metadata, 65536):
        return "keras"
    return "zip"


@register
class ZipScanner(Scanner):
    """ZIP archives and every format built on them (PyTorch, TorchScript, npz, Keras)."""

    name = "zip"
    kinds = frozenset({Kind.ZIP})

    def scan(self, artifact: Artifact, context: ScanContext) -> Iterator[Finding]:
        return quiet_in_storage(artifact, self._scan(artifact, context))

    def _scan(self, artifact: Artifact, context: ScanContext) -> Iterator[Finding]:
        limits = context.limits
        with artifact.open() as stream:
            size = stream.seek(0, 2)
            layout = read_layout(stream, size, limits)
            openers = {
                id(e): MemberOpener(stream, e, limits, member_path(artifact, e.name))
                for e in (*layout.entries, *layout.hidden)
                if e.data_offset >= 0
            }

            def head_of(entry: ZipEntry, count: int) -> bytes:
                opener = openers.get(id(entry))
                if opener is None or entry.encrypted or entry.method not in _METHOD_NAMES:
                    return b""
                try:
                    with opener() as member:
                        return member.read(count)
                except (FormatError, LimitExceeded):
                    return b""

            fmt = identify(layout.entries, head_of)
            evidence_base: dict[str, object] = {"format": fmt}
            for issue in layout.issues:
                where = at_member(artifact, issue.member) if issue.member else artifact
                yield self.finding(
                    where,
                    issue.rule,
                    issue.message,
                    evidence={**evidence_base, **issue.evidence},
                    key=f"{issue.rule}:{issue.evidence.get('offset', '')}",
                )
            scan = _MemberWalk(self, artifact, context, fmt, openers)
            yield from scan.run(layout.entries, layout.hidden)


class _MemberWalk:
    """Checks and nested scans of every member of one archive, in file order."""

    def __init__(
        self,
        scanner: ZipScanner,
        artifact: Artifact,
        context: ScanContext,
        fmt: str,
        openers: dict[int, MemberOpener],
    ) -> None:
        self.scanner = scanner
        self.artifact = artifact
        self.context = context
        self.fmt = fmt
        self.openers = openers
        self.crc_budget = CRC_BUDGET_BYTES
        self.total = 0

    def _finding(self, label: str, rule: str, message: str, **evidence: object) -> Finding:
        where = at_member(self.artifact, label)
        return self.scanner.finding(
            where, rule, message, evidence={"format": self.fmt, **evidence}, key=rule
        )

    def _unreadable(self, label: str, exc: LimitExceeded | FormatError) -> Finding:
        """The finding for a member whose bytes could not be read: a limit, or bad data."""
        if isinstance(exc, LimitExceeded):
            return self._finding(label, "MW129", str(exc), limit=exc.limit)
        return self._finding(label, "MW002", f"member could not be decompressed ({exc})")

    def run(self, entries: list[ZipEntry], hidden: list[ZipEntry]) -> Iterator[Finding]:
        seen: set[str] = set()
        for entry in sorted((*entries, *hidden), key=lambda e: e.header_offset):
            self.context.check_time()
            label = entry.name
            if entry.in_directory and entry.name in seen:
                label = f"{entry.name}@{entry.header_offset}"
                yield self._finding(
                    label, "MW125", f"second member named {entry.name!r}", name=entry.name
                )
            elif not entry.in_directory:
                label = f"{entry.name}@{entry.header_offset}"
            else:
                seen.add(entry.name)
            if escapes_root(entry.name):
                yield self._finding(
                    label, "MW126", f"member name {entry.name!r} escapes the archive root"
                )
            for issue in structural_flag_issues(entry):
                yield self._finding(label, issue.rule, issue.message, **issue.evidence)
            opener = self.openers.get(id(entry))
            if entry.is_dir or entry.encrypted or opener is None:
                continue
            try:
                yield from self._member(entry, label, opener)
            except _StopWalk:
                return

    def _member(self, entry: ZipEntry, label: str, opener: MemberOpener) -> Iterator[Finding]:
        limits = self.context.limits
        if entry.method not in _METHOD_NAMES:
            yield self._finding(
                label, "MW132", f"unknown compression method {entry.method}", method=entry.method
            )
            return
        declared = entry.size
        if (
            entry.method != 0
            and declared > RATIO_FLOOR_BYTES
            and declared > limits.max_compression_ratio * max(entry.compressed_size, 1)
        ):
            yield self._finding(
                label,
                "MW129",
                f"member declares {declared} bytes from {entry.compressed_size} compressed",
                size=declared,
                compressed_size=entry.compressed_size,
            )
            return
        self.total += opener.size if opener.size is not None else entry.compressed_size
        if self.total > limits.max_uncompressed_bytes:
            yield self.scanner.finding(
                self.artifact,
                "MW129",
                f"members declare more than {limits.max_uncompressed_bytes} bytes in all;"
                " the remaining members were not scanned",
                evidence={"format": self.fmt, "limit": "max_uncompressed_bytes"},
                key="MW129:total",
            )
            raise _StopWalk
        try:
            cached = None if is_storage(entry.name, self.fmt) else opener.cache_if_small()
            if cached is not None:
                head = cached[:HEAD_BYTES]
            else:
                with opener() as stream:
                    head = stream.read(HEAD_BYTES)
        except (LimitExceeded, FormatError) as exc:
            yield self._unreadable(label, exc)
            return
        kind = sniff(head, entry.name)
        container = self.fmt
        if is_storage(entry.name, self.fmt):
            if kind not in STORAGE_SCANNED_KINDS:
                return  # tensor bytes: never read past the head
            container = STORAGE_CONTAINER
        if self.fmt == "torchscript" and torchscript.is_code_member(entry.name):
            yield from self._torchscript_code(label, opener)
        nested = Artifact(
            path=self.artifact.path,
            member=member_path(self.artifact, label),
            kind=kind,
            size=opener.size if opener.size is not None else entry.size,
            opener=opener,
            head=head,
            depth=self.artifact.depth + 1,
            container=container,
        )
        yield from self.context.scan_nested(nested)
        yield from self._verify(entry, label, opener, kind, container)
        opener.cached = None  # done with this member: memory stays bounded by one member

    def _torchscript_code(self, label: str, opener: MemberOpener) -> Iterator[Finding]:
        with opener() as stream:
            source = stream.read(torchscript.MAX_CODE_BYTES)
        constructs = torchscript.suspicious_constructs(source)
        if constructs:
            yield self._finding(
                label,
                "MW131",
                "TorchScript code contains " + ", ".join(repr(c) for c in constructs),
                constructs=constructs,
            )

    def _verify(
        self, entry: ZipEntry, label: str, opener: MemberOpener, kind: Kind, container: str
    ) -> Iterator[Finding]:
        crc_known = entry.in_directory or not entry.flags & FLAG_DESCRIPTOR
        size = opener.size if opener.size is not None else 0
        wanted = kind is Kind.PICKLE and container != STORAGE_CONTAINER
        if not wanted and (size > SMALL_MEMBER_BYTES or size > self.crc_budget):
            return
        if not wanted:
            self.crc_budget -= size
        try:
            crc, total, overran = opener.verify(self.context)
        except (LimitExceeded, FormatError) as exc:
            yield self._unreadable(label, exc)
            return
        if overran:
            yield self._finding(
                label,
                "MW120",
                f"member data decompresses past its declared size of {entry.size} bytes",
                size=entry.size,
            )
        if crc_known and crc != entry.crc:
            yield self._finding(
                label,
                "MW122",
                f"CRC-32 is {crc:08x}, the archive records {entry.crc:08x}",
                crc=f"{crc:08x}",
                recorded=f"{entry.crc:08x}",
                bytes=total,
            )


class _StopWalk(Exception):
    """The archive-wide byte budget is spent: no further member is scanned."""
