"""What a scanner is, what it is given, and the limits it works under.

A scanner is a small class: the kinds of artifact it accepts and a ``scan(artifact, context)``
that yields findings. It never executes, imports or renders what it reads.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, ClassVar

from mlwarden.findings import Finding, Location, Severity
from mlwarden.sniff import HEAD_BYTES, Kind


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds that keep every scan finite. Reaching one ends in a finding, never a hang.

    ``max_metadata_bytes`` caps what a scanner may read into memory at once (a JSON header, a
    config, a template); bulk data (tensors) is skipped, never read whole.
    """

    max_metadata_bytes: int = 64 * 1024 * 1024
    max_archive_depth: int = 6
    max_archive_members: int = 100_000
    max_uncompressed_bytes: int = 64 * 1024**3
    max_compression_ratio: float = 250.0
    max_pickle_opcodes: int = 20_000_000
    max_pickles_per_file: int = 128
    seconds_per_file: float = 120.0


#: How much is read at a time when a whole (bounded) artifact is needed in memory.
READ_CHUNK = 1 << 20


class LimitExceeded(Exception):
    """A limit was reached; the rest of the artifact was not read."""

    def __init__(self, limit: str, message: str) -> None:
        super().__init__(message)
        self.limit = limit


class FormatError(Exception):
    """The artifact is malformed or truncated: it could not be read completely."""


@dataclass(slots=True)
class Artifact:
    """One thing to scan: a file on disk or a member of an archive.

    ``open()`` gives a fresh binary stream from the start each time. ``member`` is the path
    inside the outermost archive (nested members joined with ``!``), or ``None`` for a file.
    ``head`` holds the first bytes, already read for sniffing.
    """

    path: str
    kind: Kind
    size: int
    opener: Callable[[], IO[bytes]]
    member: str | None = None
    head: bytes = b""
    depth: int = 0
    fs_path: str | None = None  # the real file on disk, when the artifact is one
    #: The format of the enclosing container when it says more than the member's own kind
    #: ("pytorch-zip", "torchscript", "keras", "npz", "joblib", "legacy-torch"); scanners put it
    #: in the ``format`` evidence key.
    container: str | None = None

    def open(self) -> IO[bytes]:
        return self.opener()

    def read_at_most(self, limit: int) -> bytes:
        """The first ``limit`` bytes or fewer, read in chunks.

        Reading ``limit`` bytes in one call makes Python allocate the whole buffer first, so a
        two-byte member would cost as much memory as the limit; chunks keep memory in
        proportion to what is there. An artifact shorter than the head read for sniffing is
        already whole in ``head``: every scanner of it reads that instead of the stream.
        """
        if len(self.head) == self.size and self.size < HEAD_BYTES:
            return self.head[:limit]
        chunks: list[bytes] = []
        left = limit
        with self.open() as stream:
            while left > 0:
                chunk = stream.read(min(left, READ_CHUNK))
                if not chunk:
                    break
                chunks.append(chunk)
                left -= len(chunk)
        return b"".join(chunks)

    def location(self, **where: int | None) -> Location:
        """A location in this artifact, optionally at a line, column or cell."""
        return Location(path=self.path, member=self.member, **where)

    @property
    def name(self) -> str:
        """The base name of the file or member, for messages and weak hints only."""
        full = self.member or self.path
        return full.replace("\\", "/").rsplit("/", 1)[-1].rsplit("!", 1)[-1]


@dataclass(slots=True)
class ScanContext:
    """What a scanner may use while it scans one top-level file.

    ``scan_nested`` hands an archive member back to the engine, which sniffs and dispatches it
    like a file, one level deeper.
    """

    limits: Limits
    started: float = field(default_factory=time.monotonic)
    #: The engine's dispatch of a member, given the member and this context (not a closure
    #: over it: a context that refers to itself would live until the cycle collector runs).
    nested: Callable[[Artifact, ScanContext], Iterator[Finding]] | None = None
    options: dict[str, object] = field(default_factory=dict)
    #: Notes for the person reading the report that are not findings about the artifact
    #: (an advisory database that is out of date, say). Repeats are merged by the engine.
    warnings: list[str] = field(default_factory=list)

    def check_time(self) -> None:
        """Raise :class:`LimitExceeded` once this file has used its time."""
        if time.monotonic() - self.started > self.limits.seconds_per_file:
            raise LimitExceeded(
                "seconds_per_file",
                f"scan time limit of {self.limits.seconds_per_file:g}s reached",
            )

    def scan_nested(self, artifact: Artifact) -> Iterator[Finding]:
        """Scan an archive member as if it were a file (sniff, dispatch, findings)."""
        if artifact.depth > self.limits.max_archive_depth:
            raise LimitExceeded(
                "max_archive_depth",
                f"archives nested deeper than {self.limits.max_archive_depth} levels",
            )
        if self.nested is None:
            return iter(())
        return self.nested(artifact, self)


class Scanner(ABC):
    """Base of every scanner. Subclasses set ``name`` and ``kinds`` and implement ``scan``.

    Scanners raise :class:`FormatError` for malformed input and :class:`LimitExceeded` when a
    bound is reached; the engine turns both into findings, so a scanner never has to.
    """

    name: ClassVar[str]
    kinds: ClassVar[frozenset[Kind]]

    @abstractmethod
    def scan(self, artifact: Artifact, context: ScanContext) -> Iterator[Finding]:
        """Yield the findings for one artifact."""

    @staticmethod
    def finding(
        artifact: Artifact,
        rule: str,
        message: str,
        *,
        severity: Severity | None = None,
        evidence: dict[str, object] | None = None,
        key: str = "",
        line: int | None = None,
        column: int | None = None,
        cell: int | None = None,
    ) -> Finding:
        """A finding in this artifact; severity defaults to the rule's."""
        from mlwarden.rules import get_rule

        return Finding(
            rule=rule,
            severity=severity or get_rule(rule).severity,
            message=message,
            location=Location(
                path=artifact.path, member=artifact.member, line=line, column=column, cell=cell
            ),
            evidence=evidence or {},
            key=key,
        )
