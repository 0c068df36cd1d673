"""The secrets scanner: code, configuration and other text files."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from mlwarden.findings import Finding
from mlwarden.scanners import register
from mlwarden.scanners.code.inline import inline_suppressions, mark
from mlwarden.scanners.code.secrets.detect import SecretMatch, find_secrets
from mlwarden.scanners.interface import Artifact, ScanContext, Scanner
from mlwarden.sniff import Kind


def read_text(artifact: Artifact, context: ScanContext, what: str) -> str:
    """The artifact as text, at most ``max_metadata_bytes`` of it.

    Text files never fail closed: an oversized one is searched up to the limit and a warning
    says the rest was not.
    """
    limit = context.limits.max_metadata_bytes
    data = artifact.read_at_most(limit + 1)
    if len(data) > limit:
        data = data[:limit]
        where = artifact.path + (f"!{artifact.member}" if artifact.member else "")
        context.warnings.append(
            f"{where}: only the first {limit} bytes were searched for {what} "
            "(limits.max_metadata_bytes)"
        )
    return data.decode("utf-8", errors="replace")


def secret_message(match: SecretMatch, where: str = "") -> str:
    """What a finding says about a secret: its kind, redacted value and the name it is under."""
    under = f" assigned to {match.name!r}" if match.name and match.kind != "private-key" else ""
    return f"{match.label} {match.redacted}{under}{where}"


def secret_evidence(match: SecretMatch) -> dict[str, object]:
    """Machine-readable evidence for a secret; the value itself is never included."""
    evidence: dict[str, object] = {
        "kind": match.kind,
        "redacted": match.redacted,
        "confidence": match.confidence,
    }
    if match.name:
        evidence["name"] = match.name
    return evidence


def secret_finding(artifact: Artifact, match: SecretMatch, *, cell: int | None = None) -> Finding:
    """The finding for a secret found in an artifact's text (or in one notebook cell)."""
    return Scanner.finding(
        artifact,
        match.rule,
        secret_message(match),
        evidence=secret_evidence(match),
        key=match.key,
        line=match.line,
        column=match.column,
        cell=cell,
    )


@register
class SecretsScanner(Scanner):
    """Credentials written into source, scripts, configs, Dockerfiles and other text."""

    name: ClassVar[str] = "secrets"
    kinds: ClassVar[frozenset[Kind]] = frozenset(
        {
            Kind.PYTHON,
            Kind.TEXT,
            Kind.JSON,
            Kind.SHELL,
            Kind.DOCKERFILE,
            Kind.COMPOSE,
            Kind.PROPERTIES,
        }
    )

    def scan(self, artifact: Artifact, context: ScanContext) -> Iterator[Finding]:
        text = read_text(artifact, context, "secrets")
        syntax = "python" if artifact.kind is Kind.PYTHON else "text"
        matches = find_secrets(text, syntax=syntax)
        if not matches:
            return
        suppressions = inline_suppressions(text)
        for match in matches:
            yield mark(secret_finding(artifact, match), suppressions)
