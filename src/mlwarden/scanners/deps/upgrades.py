"""The upgrades that would clear a report's dependency findings.

Built from findings alone (their evidence), so every renderer, and any script reading the
JSON report, sees the same plan.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mlwarden.findings import Finding, Severity

if TYPE_CHECKING:
    from packaging.version import Version

#: Rules whose findings an upgrade clears.
DEPENDENCY_RULES = frozenset({"MW200", "MW201"})


@dataclass(frozen=True, slots=True)
class Upgrade:
    """Move ``package`` from ``current`` (a version or a range) to ``target``.

    ``target`` is ``None`` when no release fixes every vulnerability; ``vulnerabilities`` are
    the shown ids it clears (or would, once a fix exists); ``sources`` the files to edit.
    """

    package: str
    current: str
    target: str | None
    vulnerabilities: tuple[str, ...]
    severity: Severity
    sources: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "package": self.package,
            "current": self.current,
            "target": self.target,
            "vulnerabilities": list(self.vulnerabilities),
            "severity": self.severity.value,
            "sources": list(self.sources),
        }

    def describe(self) -> str:
        """One line for a person: ``torch 2.1.0 -> 2.6.0 (3 vulnerabilities)``."""
        count = len(self.vulnerabilities)
        what = f"{count} vulnerabilit{'y' if count == 1 else 'ies'}"
        if self.target is None:
            return f"{self.package} {self.current}: no release fixes all {what} yet"
        return f"{self.package} {self.current} -> {self.target} ({what})"


def upgrade_plan(findings: Iterable[Finding]) -> list[Upgrade]:
    """One upgrade per package and current version or range, worst first."""
    groups: dict[tuple[str, str], list[Finding]] = {}
    for finding in findings:
        if finding.rule not in DEPENDENCY_RULES:
            continue
        evidence = finding.evidence
        current = evidence.get("version") or evidence.get("specifier") or "?"
        groups.setdefault((str(evidence.get("package")), str(current)), []).append(finding)
    plan = []
    for (package, current), items in groups.items():
        targets = {str(f.evidence["fix"]) for f in items if f.evidence.get("fix")}
        unfixable = any(not f.evidence.get("fix") for f in items)
        ids: set[str] = set()
        for f in items:
            ids.update(f.evidence.get("ids") or [str(f.evidence.get("id"))])
        plan.append(
            Upgrade(
                package=package,
                current=current,
                target=None if unfixable or not targets else max(targets, key=_version_key),
                vulnerabilities=tuple(sorted(ids)),
                severity=max(f.severity for f in items),
                sources=tuple(sorted({str(f.evidence.get("source")) for f in items})),
            )
        )
    plan.sort(key=lambda u: (-u.severity.rank, u.package, u.current))
    return plan


def _version_key(text: str) -> Version:
    # Imported here: reports without dependency findings never need it.
    from packaging.version import InvalidVersion, Version

    try:
        return Version(text)
    except InvalidVersion:
        return Version("0")
