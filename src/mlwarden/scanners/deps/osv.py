"""OSV records (https://ossf.github.io/osv-schema/) read into :class:`Advisory` objects.

Only what matching needs is kept: ids and aliases, a summary, severity vectors, references,
the withdrawn date, and the ``affected`` entries of the PyPI ecosystem. ``database_specific``
and ``ecosystem_specific`` are ignored, as the schema says they have no effect on evaluation.

How versions in range events are read (CONTRACT.md, "Dependency matching semantics"):

- ``ECOSYSTEM`` ranges, and ``SEMVER`` ranges (rare on PyPI), are read as PEP 440 versions.
- ``"0"`` as ``introduced`` sorts before every version; ``"*"`` as ``limit`` is infinity.
- An event that is not valid PEP 440 (``2.6.0-NA``, ``2.6.0-cu124``) is read as its leading
  valid version (``2.6.0``; see :func:`leading_version`). The record keeps a warning saying so.
- An event with no valid leading version (a date-free word, a commit hash) makes its affected
  entry match by its ``versions`` list alone; the record keeps a warning saying so.
- Local version labels are dropped: an event ``2.6.0+cu124`` is ``2.6.0``, as queried versions
  are read on their public version too.
- ``GIT`` ranges cannot be evaluated without the repository: they are left out, and the entry
  matches by its ranges of other types and its ``versions`` list (which OSV fills from them).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from packaging.utils import canonicalize_name, canonicalize_version
from packaging.version import InvalidVersion, Version

ECOSYSTEM = "PyPI"
#: Range types whose events are versions mlwarden can order.
ORDERED_RANGE_TYPES = frozenset({"ECOSYSTEM", "SEMVER"})
_SEPARATOR = re.compile(r"[-_+ ]")


class AdvisoryFormatError(ValueError):
    """A document that is not an OSV record (not a mapping, no ``id``, wrong field types)."""


class EventKind(enum.StrEnum):
    """The four kinds of range event of the OSV schema."""

    INTRODUCED = "introduced"
    FIXED = "fixed"
    LAST_AFFECTED = "last_affected"
    LIMIT = "limit"


@lru_cache(maxsize=65_536)
def parse_version(text: str) -> Version | None:
    """A PEP 440 version, or ``None`` when ``text`` is not one. Cached: advisories repeat."""
    try:
        return Version(text)
    except InvalidVersion:
        return None


def leading_version(text: str) -> Version | None:
    """The version ``text`` is read as: itself if valid PEP 440, else its leading valid version.

    The leading valid version is found in the text before the first ``-``, ``_``, ``+`` or
    space: that text itself, or its longest prefix cut before a ``.``, that is valid PEP 440.
    ``2.6.0-NA`` and ``2.6.0-cu124`` are ``2.6.0``; ``4.6.0.stable11`` is ``4.6.0``; a date
    such as ``2024-09-25`` is ``2024`` (never PEP 440's implicit post-release ``2024.post9``).
    ``None`` when nothing leading is valid.
    """
    text = text.strip()
    whole = parse_version(text)
    if whole is not None:
        return whole
    head = _SEPARATOR.split(text, maxsplit=1)[0]
    while head:
        version = parse_version(head)
        if version is not None:
            return version
        head = head.rpartition(".")[0]
    return None


_PLAIN_RELEASE = re.compile(r"(?:0|[1-9][0-9]*)(?:\.(?:0|[1-9][0-9]*))*")
_TRAILING_ZEROS = re.compile(r"(?:\.0)+$")


@lru_cache(maxsize=65_536)
def public_key(text: str) -> str:
    """A string that is equal for equal versions, on the public version (local label dropped).

    ``2.1.0+cu118``, ``2.1`` and ``2.1.0`` all give ``2.1``. Text that is not PEP 440 is kept
    as written (stripped), so that ``versions`` lists with odd entries still match exactly.
    """
    text = text.strip()
    if _PLAIN_RELEASE.fullmatch(text):
        # Most listed versions are plain releases: normalise them without parsing.
        return _TRAILING_ZEROS.sub("", text)
    version = parse_version(text)
    if version is None:
        return text
    return canonicalize_version(version.public, strip_trailing_zero=True)


@dataclass(frozen=True, slots=True)
class RangeEvent:
    """One event of a range: ``version`` is its PEP 440 reading (the normalised public version).

    ``version`` is ``"0"`` for ``introduced: "0"`` and ``"*"`` for ``limit: "*"``; ``raw`` is
    the value as written in the record.
    """

    kind: EventKind
    version: str
    raw: str


@dataclass(frozen=True, slots=True)
class VersionRange:
    """An ordered range (``ECOSYSTEM`` or ``SEMVER``) whose events could all be read."""

    type: str
    events: tuple[RangeEvent, ...]


@dataclass(frozen=True, slots=True)
class AffectedPackage:
    """One ``affected`` entry of the PyPI ecosystem.

    ``name`` is the PEP 503 canonical name. ``versions`` holds :func:`public_key` forms of the
    record's ``versions`` list. ``severity`` holds this entry's own ``(type, vector)`` pairs.
    """

    name: str
    ranges: tuple[VersionRange, ...] = ()
    versions: tuple[str, ...] = ()
    severity: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Advisory:
    """One OSV record, as far as matching PyPI packages needs it."""

    id: str
    aliases: tuple[str, ...] = ()
    summary: str = ""
    modified: str | None = None
    published: str | None = None
    withdrawn: str | None = None
    severity: tuple[tuple[str, str], ...] = ()
    references: tuple[str, ...] = ()
    affected: tuple[AffectedPackage, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def ids(self) -> tuple[str, ...]:
        """The record's id followed by its aliases."""
        return (self.id, *self.aliases)

    @property
    def packages(self) -> frozenset[str]:
        """Canonical names of the PyPI packages the record affects."""
        return frozenset(a.name for a in self.affected)

    def severity_vectors(self) -> list[tuple[str, str]]:
        """All ``(type, vector)`` pairs: the record's and those of its affected entries."""
        pairs = list(self.severity)
        for entry in self.affected:
            pairs.extend(p for p in entry.severity if p not in pairs)
        return pairs

    def to_json(self) -> dict[str, Any]:
        """A compact JSON form, read back by :meth:`from_json` (the compiled database body)."""
        return {
            "id": self.id,
            "aliases": list(self.aliases),
            "summary": self.summary,
            "modified": self.modified,
            "published": self.published,
            "withdrawn": self.withdrawn,
            "severity": [list(p) for p in self.severity],
            "references": list(self.references),
            "warnings": list(self.warnings),
            "affected": [
                {
                    "name": a.name,
                    "ranges": [
                        [r.type, [[e.kind.value, e.version, e.raw] for e in r.events]]
                        for r in a.ranges
                    ],
                    "versions": list(a.versions),
                    "severity": [list(p) for p in a.severity],
                }
                for a in self.affected
            ],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Advisory:
        """Read the form written by :meth:`to_json`."""
        return cls(
            id=data["id"],
            aliases=tuple(data["aliases"]),
            summary=data["summary"],
            modified=data["modified"],
            published=data["published"],
            withdrawn=data["withdrawn"],
            severity=tuple((k, v) for k, v in data["severity"]),
            references=tuple(data["references"]),
            warnings=tuple(data["warnings"]),
            affected=tuple(
                AffectedPackage(
                    name=a["name"],
                    ranges=tuple(
                        VersionRange(t, tuple(RangeEvent(EventKind(k), v, r) for k, v, r in evs))
                        for t, evs in a["ranges"]
                    ),
                    versions=tuple(a["versions"]),
                    severity=tuple((k, v) for k, v in a["severity"]),
                )
                for a in data["affected"]
            ),
        )


def _strings(value: Any, field: str, record_id: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise AdvisoryFormatError(f"{record_id}: {field} is not a list")
    return [str(v) for v in value if v is not None]


def _severity(value: Any, record_id: str) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise AdvisoryFormatError(f"{record_id}: severity is not a list")
    return tuple(
        (str(entry["type"]), str(entry["score"]))
        for entry in value
        if isinstance(entry, Mapping) and entry.get("type") and entry.get("score")
    )


def _read_event(kind: EventKind, raw: str) -> tuple[str | None, bool]:
    """The reading of an event value and whether it differs from what is written."""
    if kind is EventKind.INTRODUCED and raw == "0":
        return "0", False
    if kind is EventKind.LIMIT and raw == "*":
        return "*", False
    version = leading_version(raw)
    if version is None:
        return None, True
    return version.public, parse_version(raw.strip()) is None


def _read_range(
    value: Mapping[str, Any], package: str, record_id: str, warnings: list[str]
) -> VersionRange | None:
    """An ordered range, or ``None`` when one of its events cannot be read at all."""
    range_type = str(value.get("type", ""))
    events: list[RangeEvent] = []
    for entry in value.get("events") or ():
        if not isinstance(entry, Mapping):
            raise AdvisoryFormatError(f"{record_id}: a range event is not a mapping")
        for key, raw_value in entry.items():
            try:
                kind = EventKind(key)
            except ValueError:
                continue  # not an event of the schema: nothing to evaluate
            raw = str(raw_value)
            reading, reinterpreted = _read_event(kind, raw)
            if reading is None:
                warnings.append(
                    f"{record_id}: {kind} event {raw!r} of {package} has no valid PEP 440 "
                    f"version; that entry matches by its versions list alone"
                )
                return None
            if reinterpreted:
                warnings.append(
                    f"{record_id}: {kind} event {raw!r} of {package} is not valid PEP 440; "
                    f"read as {reading}"
                )
            events.append(RangeEvent(kind, reading, raw))
    return VersionRange(range_type, tuple(events))


def _read_affected(value: Any, record_id: str, warnings: list[str]) -> AffectedPackage | None:
    if not isinstance(value, Mapping):
        raise AdvisoryFormatError(f"{record_id}: an affected entry is not a mapping")
    package = value.get("package")
    if not isinstance(package, Mapping) or package.get("ecosystem") != ECOSYSTEM:
        return None
    raw_name = package.get("name")
    if not isinstance(raw_name, str) or not raw_name.strip():
        raise AdvisoryFormatError(f"{record_id}: a PyPI affected entry has no package name")
    name = canonicalize_name(raw_name.strip())
    ranges: list[VersionRange] = []
    unreadable = False
    for entry in value.get("ranges") or ():
        if not isinstance(entry, Mapping):
            raise AdvisoryFormatError(f"{record_id}: a range is not a mapping")
        if str(entry.get("type")) not in ORDERED_RANGE_TYPES:
            continue  # GIT ranges need the repository; their versions list stands for them
        read = _read_range(entry, name, record_id, warnings)
        if read is None:
            unreadable = True
        else:
            ranges.append(read)
    versions = tuple(
        dict.fromkeys(public_key(v) for v in _strings(value.get("versions"), "versions", record_id))
    )
    if unreadable:
        # CONTRACT.md: one unreadable event leaves the whole entry to its versions list.
        ranges = []
        if not versions:
            warnings.append(f"{record_id}: {name} has no versions list either; it never matches")
    return AffectedPackage(
        name, tuple(ranges), versions, _severity(value.get("severity"), record_id)
    )


def _summary(data: Mapping[str, Any]) -> str:
    summary = data.get("summary")
    if isinstance(summary, str) and summary.strip():
        return " ".join(summary.split())
    details = data.get("details")
    if isinstance(details, str) and details.strip():
        text = " ".join(details.split())
        return text if len(text) <= 200 else text[:197].rstrip() + "..."
    return ""


def parse_advisory(data: Any) -> Advisory:
    """Read one OSV record (already decoded from JSON or YAML).

    ``AdvisoryFormatError`` when it is not an OSV record. A record with no PyPI entry is read
    all the same (``affected`` is empty); callers decide whether to keep it.
    """
    if not isinstance(data, Mapping):
        raise AdvisoryFormatError("an OSV record must be a mapping")
    record_id = data.get("id")
    if not isinstance(record_id, str) or not record_id.strip():
        raise AdvisoryFormatError("an OSV record needs an id")
    record_id = record_id.strip()
    warnings: list[str] = []
    affected_entries = data.get("affected") or []
    if not isinstance(affected_entries, list):
        raise AdvisoryFormatError(f"{record_id}: affected is not a list")
    affected = tuple(
        entry
        for entry in (_read_affected(v, record_id, warnings) for v in affected_entries)
        if entry is not None
    )
    references = tuple(
        str(ref["url"])
        for ref in data.get("references") or ()
        if isinstance(ref, Mapping) and ref.get("url")
    )
    aliases = [a for a in _strings(data.get("aliases"), "aliases", record_id) if a != record_id]
    withdrawn = data.get("withdrawn")
    return Advisory(
        id=record_id,
        aliases=tuple(dict.fromkeys(aliases)),
        summary=_summary(data),
        modified=_timestamp(data.get("modified")),
        published=_timestamp(data.get("published")),
        withdrawn=_timestamp(withdrawn) if withdrawn else None,
        severity=_severity(data.get("severity"), record_id),
        references=references,
        affected=affected,
        warnings=tuple(warnings),
    )


def _timestamp(value: Any) -> str | None:
    # YAML turns unquoted timestamps into datetime objects; keep the RFC 3339 text.
    if value is None:
        return None
    if hasattr(value, "isoformat"):
        text = str(value.isoformat())
        return text.replace("+00:00", "Z")
    return str(value)


def load_document(text: str | bytes, *, yaml_syntax: bool) -> Any:
    """Decode one record file: JSON, or YAML.

    YAML is composed by PyYAML's base loader (its C version when PyYAML has libyaml) and the
    node tree turned into strings, lists and dicts here: no tag is resolved and no object is
    constructed, which is safe, several times faster than the safe loader, and right for OSV,
    where every value is a string (the safe loader would turn ``fixed: 1.10`` into the float
    1.1 and ``introduced: 0`` into an int).
    """
    if not yaml_syntax:
        import json

        return json.loads(text)
    import yaml

    loader = getattr(yaml, "CBaseLoader", yaml.BaseLoader)
    node = yaml.compose(text, Loader=loader)
    return None if node is None else _plain(node)


def _plain(node: Any) -> Any:
    """A YAML node as strings, lists and dicts (recursion is bounded by YAML's own depth)."""
    value = node.value
    if isinstance(value, str):
        return value
    if node.id == "sequence":
        return [_plain(item) for item in value]
    return {_plain(key): _plain(item) for key, item in value}


def is_record_name(name: str) -> bool:
    """Whether a file name looks like an OSV record file (``.json``, ``.yaml``, ``.yml``)."""
    return name.lower().endswith((".json", ".yaml", ".yml"))


def is_yaml_name(name: str) -> bool:
    """Whether a record file is YAML (by its extension; OSV exports are JSON)."""
    return name.lower().endswith((".yaml", ".yml"))
