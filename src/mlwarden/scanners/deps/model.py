"""What a dependency is, once read from any source file, and what could not be read.

Every source format (requirements files, ``pyproject.toml``, lock files, conda environments,
an installed environment) is reduced to the same :class:`Dependency` records, so matching
against advisories never needs to know where a package was declared.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from packaging.utils import canonicalize_name


@dataclass(frozen=True, slots=True)
class Dependency:
    """One package a project declares, locks or has installed.

    ``version`` is set when one exact version is known: a ``==``/``===`` pin, a lock file
    entry, installed metadata or a constraint that pins it; ``pinned`` is then true. Otherwise
    ``specifier`` holds the range as PEP 440 text (``">=1.0,<2"``; empty for any version) and a
    matcher reports the vulnerable versions that range admits.

    ``source`` and ``line`` say where the entry is written (an included file when it was
    reached through ``-r``/``-c``); ``origin`` is the file the scan started from. ``url`` is a
    direct, VCS or local reference: such code does not come from a package index, so its
    version cannot be checked against advisories and a :class:`SourceIssue` says so.
    ``constrained_by`` is ``"path:line"`` of the pip constraint (``-c``) that sets this
    version: on a requirement it means the constraint narrowed it to a pin; on an entry of a
    constraints file it is the entry itself (a pin of a package that may come in indirectly).
    """

    name: str
    canonical: str
    version: str | None
    specifier: str
    marker: str | None
    extras: tuple[str, ...]
    source: str
    line: int | None
    origin: str
    pinned: bool
    url: str | None = None
    hashes: tuple[str, ...] = ()
    group: str | None = None
    constrained_by: str | None = None

    @classmethod
    def create(
        cls,
        name: str,
        *,
        source: str,
        version: str | None = None,
        specifier: str = "",
        marker: str | None = None,
        extras: tuple[str, ...] = (),
        line: int | None = None,
        origin: str | None = None,
        url: str | None = None,
        hashes: tuple[str, ...] = (),
        group: str | None = None,
        constrained_by: str | None = None,
    ) -> Dependency:
        """Build a dependency, deriving ``canonical`` and ``pinned`` from the rest."""
        return cls(
            name=name,
            canonical=canonicalize_name(name),
            version=version,
            specifier=specifier,
            marker=marker,
            extras=extras,
            source=source,
            line=line,
            origin=origin if origin is not None else source,
            pinned=version is not None and url is None,
            url=url,
            hashes=hashes,
            group=group,
            constrained_by=constrained_by,
        )

    @property
    def location(self) -> str:
        """``path:line`` (or the path alone) for messages."""
        return self.source if self.line is None else f"{self.source}:{self.line}"


class IssueKind(enum.StrEnum):
    """Why an entry of a source could not be checked."""

    #: A URL, VCS reference or local path: its code does not come from a package index.
    UNVERIFIABLE = "unverifiable"
    #: A line or entry that does not follow the format.
    UNPARSABLE = "unparsable"
    #: An included file (``-r``/``-c``) that does not exist or cannot be read.
    MISSING_INCLUDE = "missing-include"
    #: An include that leads back to a file already being read.
    INCLUDE_CYCLE = "include-cycle"
    #: A bound was reached (include depth, number of files, size); the rest was not read.
    LIMIT = "limit"
    #: Dependencies the file says are computed at build time (PEP 621 ``dynamic``).
    DYNAMIC = "dynamic"


@dataclass(frozen=True, slots=True)
class SourceIssue:
    """Something in a source that could not be verified or read."""

    path: str
    line: int | None
    message: str
    kind: IssueKind


@dataclass(slots=True)
class SourceResult:
    """Everything read from one source: its format, its dependencies and its issues."""

    format: str
    dependencies: list[Dependency] = field(default_factory=list)
    issues: list[SourceIssue] = field(default_factory=list)


class SourceError(Exception):
    """A source file as a whole cannot be read: malformed TOML/JSON/YAML, or not the format."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path


class SourceTooLarge(SourceError):
    """A source file is larger than :data:`MAX_SOURCE_BYTES`; it was not read."""


class EnvironmentProbeError(Exception):
    """The interpreter named for an installed environment could not be asked for its paths."""


#: The largest dependency file read. Real lock files of big projects are a few megabytes.
MAX_SOURCE_BYTES = 32 * 1024 * 1024
