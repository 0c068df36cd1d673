"""The finding model: what every scanner produces and every renderer reads.

Findings carry data only. How they look is decided in :mod:`mlwarden.report`.
"""

from __future__ import annotations

import enum
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mlwarden.digests import sha256_hex


class Severity(enum.StrEnum):
    """How bad a finding is. Ordered: ``Severity.CRITICAL > Severity.HIGH``."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank >= other.rank

    @classmethod
    def parse(cls, text: str) -> Severity:
        """Read a severity name, case-insensitively; ``ValueError`` names the choices."""
        try:
            return cls(text.strip().lower())
        except ValueError:
            choices = ", ".join(s.value for s in sorted(cls, reverse=True))
            raise ValueError(f"unknown severity {text!r}; choose one of {choices}") from None


#: The evidence key under which a code scanner records an inline ``mlwarden: ignore`` comment
#: on a finding's line; the policy hides such findings (see :mod:`mlwarden.policy`).
INLINE_SUPPRESSION_KEY = "inline_suppression"

_RANK = {
    Severity.INFO: 0,
    Severity.LOW: 1,
    Severity.MEDIUM: 2,
    Severity.HIGH: 3,
    Severity.CRITICAL: 4,
}


@dataclass(frozen=True, slots=True)
class Location:
    """Where a finding is: a file as reached from the target, and a place inside it.

    ``member`` is the path inside an archive (nested archives are joined with ``!``).
    ``line`` and ``column`` are 1-based; ``cell`` is the 0-based notebook cell index.
    """

    path: str
    member: str | None = None
    line: int | None = None
    column: int | None = None
    cell: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "member": self.member,
            "line": self.line,
            "column": self.column,
            "cell": self.cell,
        }

    def __str__(self) -> str:
        text = self.path
        if self.member:
            text += f"!{self.member}"
        if self.cell is not None:
            text += f" [cell {self.cell}]"
        if self.line is not None:
            text += f":{self.line}"
            if self.column is not None:
                text += f":{self.column}"
        return text


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem found in one place.

    ``rule`` is a stable id from :mod:`mlwarden.rules`; title, category, remediation and
    references come from the rule catalogue, so a finding only carries what is specific to it.
    ``key`` tells apart several findings of one rule in one place (for example the name of the
    dangerous global); it feeds the fingerprint, which stays the same across runs.
    """

    rule: str
    severity: Severity
    message: str
    location: Location
    evidence: Mapping[str, Any] = field(default_factory=dict)
    key: str = ""

    def __hash__(self) -> int:
        return hash(self.fingerprint)

    @property
    def fingerprint(self) -> str:
        """A stable hash: the same finding in the same place gives the same value across runs.

        Line and column are left out on purpose, so that an edit above a finding does not turn
        a baselined finding into a new one.
        """
        loc = self.location
        parts = [self.rule, loc.path, loc.member or "", str(loc.cell), self.key or self.message]
        return sha256_hex("\x1f".join(parts).encode())[:32]

    def to_dict(self) -> dict[str, Any]:
        """The CONTRACT.md JSON shape of a finding."""
        from mlwarden.rules import get_rule

        rule = get_rule(self.rule)
        return {
            "fingerprint": self.fingerprint,
            "rule": self.rule,
            "severity": self.severity.value,
            "category": rule.category,
            "title": rule.title,
            "message": self.message,
            "location": self.location.to_dict(),
            "evidence": _jsonable(dict(self.evidence)),
            "remediation": rule.remediation,
            "references": list(rule.references),
        }


_JSON_SCALARS = (str, int, float, type(None))  # bool is an int


def _jsonable(value: Any) -> Any:
    if isinstance(value, _JSON_SCALARS):  # most evidence values: checked first, cheaply
        return value
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_jsonable(v) for v in value]
        return sorted(items, key=json.dumps) if isinstance(value, set | frozenset) else items
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


@dataclass(frozen=True, slots=True)
class ScanError:
    """A file, or part of one, that could not be scanned, and why."""

    path: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


@dataclass(frozen=True, slots=True)
class Suppressed:
    """A finding hidden by policy, kept so that reports can say what was hidden and why."""

    finding: Finding
    reason: str
    source: str  # "config", "baseline" or "inline"

    def to_dict(self) -> dict[str, Any]:
        return {
            "fingerprint": self.finding.fingerprint,
            "rule": self.finding.rule,
            "location": self.finding.location.to_dict(),
            "reason": self.reason,
            "source": self.source,
        }


@dataclass(frozen=True, slots=True)
class Report:
    """The outcome of one scan: findings, errors and what was covered."""

    targets: tuple[str, ...]
    findings: tuple[Finding, ...] = ()
    errors: tuple[ScanError, ...] = ()
    suppressed: tuple[Suppressed, ...] = ()
    files: int = 0
    bytes: int = 0
    seconds: float = 0.0
    warnings: tuple[str, ...] = ()
    metrics: Mapping[str, Any] | None = None

    @property
    def by_severity(self) -> dict[str, int]:
        counts = Counter(f.severity for f in self.findings)
        return {s.value: counts[s] for s in sorted(Severity, reverse=True) if counts[s]}

    @property
    def max_severity(self) -> Severity | None:
        return max((f.severity for f in self.findings), default=None)

    def failed(self, fail_on: Severity | None) -> bool:
        """Whether a finding reaches ``fail_on`` (``None`` means never fail)."""
        if fail_on is None:
            return False
        return any(f.severity >= fail_on for f in self.findings)

    def sorted_findings(self) -> list[Finding]:
        """Findings grouped by file, worst first within a file, then by position."""
        return sorted(
            self.findings,
            key=lambda f: (
                f.location.path,
                f.location.member or "",
                -f.severity.rank,
                f.location.cell if f.location.cell is not None else -1,
                f.location.line or 0,
                f.rule,
                f.key,
            ),
        )

    def to_dict(self) -> dict[str, Any]:
        """The CONTRACT.md JSON report."""
        from mlwarden import __version__

        data: dict[str, Any] = {
            "schema": 1,
            "tool": {"name": "mlwarden", "version": __version__},
            "targets": list(self.targets),
            "findings": [f.to_dict() for f in self.sorted_findings()],
            "errors": [e.to_dict() for e in self.errors],
            "suppressed": [s.to_dict() for s in self.suppressed],
            "warnings": list(self.warnings),
            "summary": {
                "files": self.files,
                "bytes": self.bytes,
                "seconds": round(self.seconds, 3),
                "by_severity": self.by_severity,
            },
        }
        if self.metrics is not None:
            data["metrics"] = _jsonable(dict(self.metrics))
        return data


def dedupe(findings: Iterable[Finding]) -> list[Finding]:
    """Drop repeats of the same finding (same fingerprint), keeping the most severe."""
    best: dict[str, Finding] = {}
    for f in findings:
        seen = best.get(f.fingerprint)
        if seen is None or f.severity > seen.severity:
            best[f.fingerprint] = f
    return list(best.values())
