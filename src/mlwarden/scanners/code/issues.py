"""What the Python, notebook and serving rules report: a rule firing at a line of a text.

Each family has its own issue type (:class:`~mlwarden.scanners.code.python.CodeIssue`,
:class:`~mlwarden.scanners.code.serving.ServingIssue`); they share this shape, so one function
turns any of them into a finding of the scanned artifact.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from mlwarden.findings import Finding, Severity
from mlwarden.scanners.interface import Artifact, Scanner


class LocatedIssue(Protocol):
    """A rule firing at a 1-based line (and column) of a text, not yet a finding."""

    @property
    def rule(self) -> str: ...
    @property
    def line(self) -> int: ...
    @property
    def column(self) -> int | None: ...
    @property
    def message(self) -> str: ...
    @property
    def severity(self) -> Severity | None: ...
    @property
    def evidence(self) -> Mapping[str, object]: ...
    @property
    def key(self) -> str: ...


def issue_finding(artifact: Artifact, issue: LocatedIssue, *, cell: int | None = None) -> Finding:
    """The finding for an issue in an artifact's text (or in one notebook cell)."""
    return Scanner.finding(
        artifact,
        issue.rule,
        issue.message,
        severity=issue.severity,
        evidence=dict(issue.evidence),
        key=issue.key,
        line=issue.line,
        column=issue.column,
        cell=cell,
    )
