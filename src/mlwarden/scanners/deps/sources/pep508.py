"""PEP 508 requirements and PEP 440 pins, shared by every source format.

A requirement pins a version only with ``==V`` (no wildcard) or ``===V``; everything else is a
range kept as its specifier. Direct references (``name @ URL``) are unverifiable: the code does
not come from an index, so no advisory version range applies to it.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet

from mlwarden.scanners.deps.model import (
    MAX_SOURCE_BYTES,
    Dependency,
    IssueKind,
    SourceError,
    SourceIssue,
    SourceTooLarge,
)

#: Longest text quoted back from an entry that could not be read (they can be anything).
QUOTE_CHARS = 80


def quote(text: str) -> str:
    """A short, single-line rendering of untrusted text for messages."""
    flat = " ".join(text.split())
    return flat if len(flat) <= QUOTE_CHARS else flat[: QUOTE_CHARS - 3] + "..."


def pinned_version(specifier: SpecifierSet) -> str | None:
    """The one version a specifier set allows exactly, or ``None`` for a range.

    ``==1.2.3`` and ``===1.2.3`` pin; ``==1.2.*`` is a range (a prefix match). When a set has
    several clauses, the exact one wins: ``>=1,==1.4`` is 1.4.
    """
    for spec in specifier:
        if spec.operator == "===" or (spec.operator == "==" and not spec.version.endswith(".*")):
            return spec.version
    return None


def read_source(path: Path, text: str | None, display: str) -> str:
    """The text of a source file, refusing files over :data:`MAX_SOURCE_BYTES`.

    Only regular files are read: a FIFO or device named like a requirements file would block
    or never end.
    """
    if text is not None:
        if len(text) > MAX_SOURCE_BYTES:
            raise SourceTooLarge(display, f"larger than {MAX_SOURCE_BYTES} bytes; not read")
        return text
    try:
        if not path.is_file():
            raise SourceError(display, "not a regular file")
        if path.stat().st_size > MAX_SOURCE_BYTES:
            raise SourceTooLarge(display, f"larger than {MAX_SOURCE_BYTES} bytes; not read")
        with path.open("rb") as stream:
            data = stream.read(MAX_SOURCE_BYTES + 1)
    except OSError as exc:
        raise SourceError(display, f"cannot read: {exc.strerror or exc}") from exc
    if len(data) > MAX_SOURCE_BYTES:
        raise SourceTooLarge(display, f"larger than {MAX_SOURCE_BYTES} bytes; not read")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(display, f"not UTF-8 text (byte {exc.start})") from exc


def load_toml(text: str, display: str) -> dict[str, Any]:
    """Parse TOML (data only: TOML has no code to run)."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SourceError(display, f"malformed TOML: {exc}") from exc


def table(value: object) -> dict[str, Any]:
    """``value`` if it is a table, else an empty one (a wrong type reads as nothing)."""
    return value if isinstance(value, dict) else {}


def array(value: object) -> list[Any]:
    """``value`` if it is an array, else an empty one."""
    return value if isinstance(value, list) else []


def parse_requirement(
    text: str,
    *,
    source: str,
    line: int | None,
    origin: str | None = None,
    group: str | None = None,
    hashes: tuple[str, ...] = (),
) -> tuple[Dependency | None, SourceIssue | None]:
    """Read one PEP 508 requirement string into a dependency and, if any, an issue."""
    try:
        req = Requirement(text)
    except InvalidRequirement as exc:
        why = str(exc).splitlines()[0] if str(exc) else "invalid requirement"
        return None, SourceIssue(
            source,
            line,
            f"not a valid requirement: {quote(text)} ({quote(why)})",
            IssueKind.UNPARSABLE,
        )
    return from_requirement(
        req, source=source, line=line, origin=origin, group=group, hashes=hashes
    )


def from_requirement(
    req: Requirement,
    *,
    source: str,
    line: int | None,
    origin: str | None = None,
    group: str | None = None,
    hashes: tuple[str, ...] = (),
) -> tuple[Dependency, SourceIssue | None]:
    """A dependency from a parsed requirement, with an issue when it is a direct reference."""
    marker = str(req.marker) if req.marker is not None else None
    dependency = Dependency.create(
        req.name,
        source=source,
        version=None if req.url else pinned_version(req.specifier),
        specifier=str(req.specifier),
        marker=marker,
        extras=tuple(sorted(req.extras)),
        line=line,
        origin=origin,
        url=req.url,
        hashes=hashes,
        group=group,
    )
    issue = None
    if req.url:
        issue = unverifiable(source, line, req.name, req.url)
    return dependency, issue


def unverifiable(
    source: str, line: int | None, name: str | None, reference: str, locked: str | None = None
) -> SourceIssue:
    """The issue for a package that comes from a URL, a VCS or a local path.

    ``locked`` is the version a lock file or installed metadata claims for it, if any.
    """
    what = f"{name} comes from" if name else "a package comes from"
    claim = f" (recorded as version {quote(locked)})" if locked else ""
    return SourceIssue(
        source,
        line,
        f"{what} {quote(reference)}{claim}, not a package index: its version cannot be "
        "checked against advisories",
        IssueKind.UNVERIFIABLE,
    )


def array_table_lines(text: str, header: str) -> list[int]:
    """1-based lines of each ``[[header]]`` in order: the i-th is the i-th array element's."""
    pattern = re.compile(r"^\s*\[\[\s*" + re.escape(header) + r"\s*\]\]\s*(#.*)?$")
    return [i for i, line in enumerate(text.splitlines(), start=1) if pattern.match(line)]


def locked_entries(
    path: Path, text: str | None, display: str | None, header: str
) -> tuple[str, list[tuple[int | None, dict[str, Any]]]]:
    """The path shown and each ``[[header]]`` table of a TOML lock file, with its line."""
    shown = display if display is not None else str(path)
    content = read_source(path, text, shown)
    data = load_toml(content, shown)
    lines = array_table_lines(content, header)
    entries = [
        (lines[index] if index < len(lines) else None, table(item))
        for index, item in enumerate(array(data.get(header)))
    ]
    return shown, entries
