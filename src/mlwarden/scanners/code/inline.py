"""Inline suppressions: ``# mlwarden: ignore[RULE,...] -- reason`` on the line of a finding.

A suppressed finding is not dropped by the scanner: it carries the suppression in its
evidence (``inline_suppression``) and the policy moves it to the report's ``suppressed`` list
with source ``inline``, so reports still say what was hidden and why. A suppression without a
reason is not honoured (the finding stays, and says so), the same rule as in mlwarden.toml.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from mlwarden.findings import INLINE_SUPPRESSION_KEY as EVIDENCE_KEY
from mlwarden.findings import Finding

_PATTERN = re.compile(
    r"mlwarden:\s*ignore(?:\[(?P<rules>[A-Za-z0-9_,\s*-]+)\])?(?:\s*--\s*(?P<reason>.*\S))?"
)


@dataclass(frozen=True, slots=True)
class InlineSuppression:
    """What one comment suppresses: rule ids (``*`` for all) and the reason given."""

    rules: frozenset[str]
    reason: str
    line: int

    def covers(self, rule: str) -> bool:
        return "*" in self.rules or rule in self.rules


def parse_inline(lines: Iterable[str]) -> dict[int, InlineSuppression]:
    """Inline suppressions by 1-based line number, from ``#`` comments."""
    found: dict[int, InlineSuppression] = {}
    for number, line in enumerate(lines, start=1):
        at = line.find("#")
        if at < 0:
            continue
        match = _PATTERN.search(line, at)
        if match is None:
            continue
        rules = match.group("rules")
        ids = frozenset(r.strip() for r in rules.split(",") if r.strip()) if rules else {"*"}
        found[number] = InlineSuppression(frozenset(ids), (match.group("reason") or ""), number)
    return found


def inline_suppressions(text: str) -> dict[int, InlineSuppression]:
    """The inline suppressions of a whole text by line; one that never names mlwarden has none
    (most do not, and this runs on every file and notebook cell that has findings)."""
    return parse_inline(text.splitlines()) if "mlwarden" in text else {}


def mark(finding: Finding, suppressions: Mapping[int, InlineSuppression]) -> Finding:
    """The finding, carrying the suppression on its line when one covers its rule."""
    line = finding.location.line
    if line is None:
        return finding
    suppression = suppressions.get(line)
    if suppression is None or not suppression.covers(finding.rule):
        return finding
    evidence = dict(finding.evidence)
    evidence[EVIDENCE_KEY] = {
        "rules": sorted(suppression.rules),
        "reason": suppression.reason,
        "line": suppression.line,
    }
    return dataclasses.replace(finding, evidence=evidence)
