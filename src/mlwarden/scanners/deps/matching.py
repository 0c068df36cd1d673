"""Which vulnerabilities affect a package version, and which version fixes them all.

A version is affected by a record's PyPI entry when it is in the entry's ``versions`` list or
inside one of its ordered ranges, evaluated as the OSV schema's ``IsVulnerable`` pseudocode
does: events sorted by version, ``introduced`` opens, ``fixed`` (at or below the version) and
``last_affected`` (below it) close, and ``limit`` events bound the whole range from above.
Versions are compared on their public version: ``2.1.0+cu118`` is ``2.1.0``.

Records of one vulnerability (see :mod:`mlwarden.scanners.deps.grouping`) are merged: the
vulnerability affects a version when any of its records does, so two records that disagree
on the fixed version give the later fix, never a false "fixed".
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

from packaging.version import Version

from mlwarden.findings import Severity
from mlwarden.scanners.deps.cvss import SeverityAssessment, assess
from mlwarden.scanners.deps.osv import (
    Advisory,
    EventKind,
    leading_version,
    parse_version,
    public_key,
)


@dataclass(frozen=True, slots=True)
class QueriedVersion:
    """A version to look up: as written, its PEP 440 reading (public) and its list key."""

    text: str
    version: Version | None
    key: str

    @classmethod
    def read(cls, text: str) -> QueriedVersion:
        """Read a version as a lockfile or requirement gives it (local label dropped)."""
        version = leading_version(text)
        public = parse_version(version.public) if version is not None else None
        return cls(text, public, public_key(text))


@dataclass(frozen=True, slots=True)
class Vulnerability:
    """One vulnerability that affects a package version, merged over all its records.

    ``id`` is the shown id and ``aliases`` every other id of the vulnerability (see
    :func:`mlwarden.scanners.deps.grouping.shown_id`). ``fixed_in`` lists the versions that the
    matching records say fix it for this version (several when records disagree).
    ``records`` are the ids of the records that matched. ``severity_basis`` says where the
    severity comes from: a CVSS base score, or the default when no vector is given.
    """

    id: str
    aliases: tuple[str, ...]
    package: str
    version: str
    summary: str
    severity: Severity
    severity_basis: str
    cvss: str | None
    score: float | None
    fixed_in: tuple[str, ...]
    references: tuple[str, ...]
    records: tuple[str, ...]

    @property
    def ids(self) -> tuple[str, ...]:
        """The shown id followed by the aliases."""
        return (self.id, *self.aliases)


_ORIGIN = Version("0")


class _CompiledRange:
    __slots__ = ("events", "limits")

    def __init__(self, events: list[tuple[EventKind, Version | None]], limits: list[Version]):
        self.events = events  # sorted; None stands for introduced "0"
        self.limits = limits  # empty when the range has no finite limit

    def contains(self, version: Version) -> bool:
        if self.limits and not any(version < limit for limit in self.limits):
            return False
        vulnerable = False
        for kind, bound in self.events:
            if kind is EventKind.INTRODUCED:
                if bound is None or version >= bound:
                    vulnerable = True
            elif kind is EventKind.FIXED:
                if bound is not None and version >= bound:
                    vulnerable = False
            elif kind is EventKind.LAST_AFFECTED and bound is not None and version > bound:
                vulnerable = False
        return vulnerable

    def next_fixed(self, version: Version) -> Version | None:
        return min(
            (b for k, b in self.events if k is EventKind.FIXED and b is not None and b > version),
            default=None,
        )


def _compile_range(events: Iterable[tuple[EventKind, str]]) -> _CompiledRange:
    ordered: list[tuple[EventKind, Version | None]] = []
    limits: list[Version] = []
    has_infinite_limit = False
    for kind, reading in events:
        if kind is EventKind.LIMIT:
            if reading == "*":
                has_infinite_limit = True
            else:
                bound = parse_version(reading)
                if bound is not None:
                    limits.append(bound)
            continue
        if kind is EventKind.INTRODUCED and reading == "0":
            ordered.append((kind, None))
        else:
            ordered.append((kind, parse_version(reading)))
    # Stable sort on the version, "0" first: ties keep the record's order.
    ordered.sort(key=lambda e: (False, _ORIGIN) if e[1] is None else (True, e[1]))
    return _CompiledRange(ordered, [] if has_infinite_limit else limits)


class RecordMatcher:
    """One record's entries for one package, ready to test versions against."""

    __slots__ = ("_ranges", "_versions", "advisory", "group_ids", "package", "shown")

    def __init__(self, advisory: Advisory, package: str, shown: str, group_ids: Sequence[str]):
        self.advisory = advisory
        self.package = package
        self.shown = shown
        self.group_ids = tuple(group_ids)
        entries = [a for a in advisory.affected if a.name == package]
        self._ranges = [
            _compile_range((e.kind, e.version) for e in r.events)
            for entry in entries
            for r in entry.ranges
        ]
        self._versions = frozenset(v for entry in entries for v in entry.versions)

    def affects(self, query: QueriedVersion) -> bool:
        """Whether the record says this version is affected (withdrawn records never are)."""
        if self.advisory.withdrawn:
            return False
        if query.key in self._versions:
            return True
        return query.version is not None and any(r.contains(query.version) for r in self._ranges)

    def fixed_for(self, query: QueriedVersion) -> list[Version]:
        """The first ``fixed`` above the version in each range that contains it."""
        if query.version is None:
            return []
        found = []
        for r in self._ranges:
            if r.contains(query.version):
                fixed = r.next_fixed(query.version)
                if fixed is not None:
                    found.append(fixed)
        return found

    def event_versions(self) -> Iterator[str]:
        """The versions of the record's range events (limits included)."""
        for r in self._ranges:
            for _, bound in r.events:
                if bound is not None:
                    yield str(bound)
            for limit in r.limits:
                yield str(limit)

    def listed_versions(self) -> Iterator[str]:
        """The record's versions list (in the normalised form used for matching)."""
        yield from self._versions


@lru_cache(maxsize=4096)
def _assess_cached(vectors: tuple[tuple[str, str], ...]) -> SeverityAssessment:
    return assess(vectors)


def _group_assessment(records: Sequence[RecordMatcher]) -> SeverityAssessment:
    vectors: list[tuple[str, str]] = []
    for record in records:
        vectors.extend(p for p in record.advisory.severity_vectors() if p not in vectors)
    return _assess_cached(tuple(vectors))


def _by_group(records: Iterable[RecordMatcher]) -> dict[str, list[RecordMatcher]]:
    groups: dict[str, list[RecordMatcher]] = {}
    for record in records:
        groups.setdefault(record.shown, []).append(record)
    return groups


def match(records: Sequence[RecordMatcher], version: str) -> list[Vulnerability]:
    """The vulnerabilities that affect ``version`` among one package's records.

    ``records`` are all the records that name the package; the result has one entry per
    vulnerability (records merged by alias group), sorted by id.
    """
    query = QueriedVersion.read(version)
    found = []
    for shown, members in _by_group(records).items():
        matched = [r for r in members if r.affects(query)]
        if not matched:
            continue
        assessment = _group_assessment(members)
        fixed = sorted({v for r in matched for v in r.fixed_for(query)})
        lead = min(matched, key=lambda r: (r.advisory.id != shown, r.advisory.id))
        summary = lead.advisory.summary or next(
            (r.advisory.summary for r in matched if r.advisory.summary), ""
        )
        references = dict.fromkeys(ref for r in matched for ref in r.advisory.references)
        found.append(
            Vulnerability(
                id=shown,
                aliases=tuple(i for i in members[0].group_ids if i != shown),
                package=members[0].package,
                version=version,
                summary=summary,
                severity=assessment.severity,
                severity_basis=assessment.basis,
                cvss=assessment.vector,
                score=assessment.score,
                fixed_in=tuple(str(v) for v in fixed),
                references=tuple(references),
                records=tuple(sorted(r.advisory.id for r in matched)),
            )
        )
    return sorted(found, key=lambda v: v.id)


def select_fix(
    records: Sequence[RecordMatcher], version: str, vulnerabilities: Sequence[Vulnerability]
) -> str | None:
    """The smallest version above ``version`` that none of ``vulnerabilities`` affects.

    Candidates are the versions the package's records name (fixed events first among them,
    but also limits, other records' introduced versions and versions lists, which are real
    releases). A candidate must be clear of every record of every vulnerability, not only the
    records that matched. Final releases are preferred; a pre-release is offered only when no
    final release qualifies. ``None`` when no known version fixes them all.
    """
    query = QueriedVersion.read(version)
    if query.version is None:
        return None
    wanted = {v.id for v in vulnerabilities}
    blocking = [r for r in records if r.shown in wanted]
    # A version a blocking record lists is affected by it, so it can never be the fix: only
    # the other records' lists (and every record's events) can name one.
    others = [r for r in records if r.shown not in wanted]
    candidates: dict[Version, str] = {}
    for text in _named_versions(records, listed_from=others):
        candidate = parse_version(text)
        if candidate is not None and candidate > query.version:
            candidates.setdefault(candidate, text)
    finals = sorted(c for c in candidates if not c.is_prerelease)
    pre = sorted(c for c in candidates if c.is_prerelease)
    for pool in (finals, pre):
        for candidate in pool:
            probe = QueriedVersion(str(candidate), candidate, public_key(str(candidate)))
            if not any(r.affects(probe) for r in blocking):
                return candidates[candidate]
    return None


def affected_versions(records: Sequence[RecordMatcher]) -> list[str]:
    """Every version the records name, sorted by PEP 440 order (for ranges that admit many)."""
    seen: dict[Version, str] = {}
    for text in _named_versions(records):
        parsed = parse_version(text)
        if parsed is not None:
            seen.setdefault(parsed, text)
    return [seen[v] for v in sorted(seen)]


def _named_versions(
    records: Sequence[RecordMatcher], *, listed_from: Sequence[RecordMatcher] | None = None
) -> Iterator[str]:
    # Event versions first: they keep the spelling of the record (2.6.0, not 2.6).
    for record in records:
        yield from record.event_versions()
    for record in records if listed_from is None else listed_from:
        yield from record.listed_versions()
