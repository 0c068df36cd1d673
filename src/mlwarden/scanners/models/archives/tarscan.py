"""The TAR scanner: members read in place, never extracted; links and odd names reported.

Plain TAR only: gzip, bzip2 and xz around a TAR arrive here after the compressed-stream
scanner has unwrapped them. The very old ``torch.save`` format is a TAR of pickles (members
``sys_info`` first, then ``pickle``, ``tensors``, ``storages``); its members are scanned like
any other.
"""

from __future__ import annotations

import posixpath
import tarfile
from collections.abc import Iterator
from typing import IO

from mlwarden.findings import Finding, Severity
from mlwarden.scanners import register
from mlwarden.scanners.interface import Artifact, FormatError, LimitExceeded, ScanContext, Scanner
from mlwarden.scanners.models.archives.members import (
    at_member,
    escapes_root,
    member_path,
    quiet_in_storage,
)
from mlwarden.scanners.models.archives.streams import ByteWindow, buffered
from mlwarden.sniff import HEAD_BYTES, Kind


def _link_escapes(member: tarfile.TarInfo) -> bool:
    target = member.linkname.replace("\\", "/")
    if escapes_root(target):
        return True
    if member.issym():
        # A symbolic link resolves from the directory that holds it.
        joined = posixpath.normpath(posixpath.join(posixpath.dirname(member.name), target))
        return joined == ".." or joined.startswith("../") or joined.startswith("/")
    return False


@register
class TarScanner(Scanner):
    """Uncompressed TAR archives, including legacy ``torch.save`` TARs."""

    name = "tar"
    kinds = frozenset({Kind.TAR})

    def scan(self, artifact: Artifact, context: ScanContext) -> Iterator[Finding]:
        return quiet_in_storage(artifact, self._scan(artifact, context))

    def _scan(self, artifact: Artifact, context: ScanContext) -> Iterator[Finding]:
        limits = context.limits
        with artifact.open() as stream:
            try:
                archive = tarfile.open(fileobj=stream, mode="r:")  # noqa: SIM115
            except (tarfile.TarError, EOFError) as exc:
                raise FormatError(f"not a readable TAR archive: {exc}") from None
            # Closing a TarFile opened on a stream leaves the stream open, so it is not needed.
            walk = _TarWalk(self, artifact, context, stream)
            count = 0
            while True:
                context.check_time()
                try:
                    member = archive.next()
                except (tarfile.TarError, EOFError) as exc:
                    raise FormatError(f"TAR archive is damaged: {exc}") from None
                if member is None:
                    break
                # Members are handled as the stream reaches them, so a compressed TAR is
                # decompressed once, forwards. (The TarFile keeps their headers: bounded by
                # the member limit.)
                count += 1
                if count > limits.max_archive_members:
                    raise LimitExceeded(
                        "max_archive_members",
                        f"archive has more than {limits.max_archive_members} members",
                    )
                if count == 1 and member.name == "sys_info":
                    walk.fmt = "legacy-torch"  # torch.save's TAR format writes sys_info first
                yield from walk.member(member)


class _TarWalk:
    """Checks and nested scans of the members of one TAR, in stream order."""

    def __init__(
        self, scanner: TarScanner, artifact: Artifact, context: ScanContext, stream: IO[bytes]
    ) -> None:
        self.scanner = scanner
        self.artifact = artifact
        self.context = context
        self.stream = stream
        self.fmt = "tar"
        self.seen: set[str] = set()
        self.total = 0

    def member(self, member: tarfile.TarInfo) -> Iterator[Finding]:
        limits = self.context.limits
        fmt, finding = self.fmt, self.scanner.finding
        label = member.name
        where = at_member(self.artifact, label)
        if member.name in self.seen:
            label = f"{member.name}@{member.offset}"
            where = at_member(self.artifact, label)
            yield finding(
                where,
                "MW125",
                f"second member named {member.name!r}",
                evidence={"format": fmt, "name": member.name},
                key="MW125",
            )
        self.seen.add(member.name)
        if escapes_root(member.name):
            yield finding(
                where,
                "MW126",
                f"member name {member.name!r} escapes the archive root",
                evidence={"format": fmt},
                key="MW126",
            )
        if member.issym() or member.islnk():
            escapes = _link_escapes(member)
            kind = "symbolic link" if member.issym() else "hard link"
            yield finding(
                where,
                "MW130",
                f"{kind} to {member.linkname!r}" + (", outside the archive" if escapes else ""),
                severity=Severity.HIGH if escapes else Severity.MEDIUM,
                evidence={"format": fmt, "link": kind, "target": member.linkname},
                key="MW130",
            )
            return
        if member.ischr() or member.isblk() or member.isfifo():
            yield finding(
                where,
                "MW130",
                "device or FIFO member",
                evidence={"format": fmt, "type": member.type.decode("latin-1")},
                key="MW130",
            )
            return
        if not member.isreg() or member.size == 0:
            return
        self.total += member.size
        if self.total > limits.max_uncompressed_bytes:
            raise LimitExceeded(
                "max_uncompressed_bytes",
                f"members hold more than {limits.max_uncompressed_bytes} bytes",
            )
        yield from self._nested(member, label)

    def _nested(self, member: tarfile.TarInfo, label: str) -> Iterator[Finding]:
        parent, artifact = self.stream, self.artifact

        def opener() -> ByteWindow:
            return ByteWindow(parent, member.offset_data, member.size)

        with buffered(opener()) as head_stream:
            head = head_stream.read(HEAD_BYTES)
        if len(head) < min(member.size, HEAD_BYTES):
            raise FormatError(f"member {member.name!r} is truncated")
        nested = Artifact(
            path=artifact.path,
            member=member_path(artifact, label),
            kind=Kind.UNKNOWN,
            size=member.size,
            opener=lambda: buffered(opener()),
            head=head,
            depth=artifact.depth + 1,
            container=self.fmt,
        )
        yield from self.context.scan_nested(nested)
