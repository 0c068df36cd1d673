"""Putting the detectors together: one list of located, redacted matches per text."""

from __future__ import annotations

import re
from typing import NamedTuple

from mlwarden.scanners.code.lines import LineIndex
from mlwarden.scanners.code.secrets.assignments import assignment_candidates
from mlwarden.scanners.code.secrets.formats import (
    SECRET_KINDS,
    Candidate,
    format_candidates,
    has_key_body,
)
from mlwarden.scanners.code.secrets.text import fingerprint_key, mask_encoded, redact

_SERVICE_ACCOUNT = re.compile(r"\"type\"\s*:\s*\"service_account\"")
_SA_PRIVATE_KEY = re.compile(r"\"private_key\"\s*:\s*\"-----BEGIN")

#: No detector matches fewer characters than this (an assigned value alone has
#: ``MIN_LENGTH``; every token format is longer): shorter texts hold no secret. A test keeps
#: this true of every pattern.
SHORTEST_SECRET = 16

#: When two detectors claim overlapping text, the more specific kind wins (lower is better).
_CONFIDENCE_RANK = {"high": 0, "medium": 1, "low": 2}


class SecretMatch(NamedTuple):
    """One secret found in a text, located and redacted.

    ``line`` and ``column`` are 1-based. ``redacted`` never holds the full value (its first
    characters and its length); ``key`` is a salted digest that tells two secrets apart in a
    finding's fingerprint without revealing them. ``confidence`` is ``high`` when a checksum or
    vendor marker confirms the format, ``medium`` for a vendor shape or a service named beside
    it, ``low`` for a random-looking value under a secret-like name. ``name`` is the variable,
    key or flag the value was assigned to, when there is one.
    """

    rule: str
    kind: str
    line: int
    column: int
    redacted: str
    confidence: str
    key: str
    name: str = ""

    @property
    def label(self) -> str:
        """How people call this kind of secret ("Hugging Face token")."""
        return SECRET_KINDS[self.kind].label


def find_secrets(text: str, *, syntax: str = "text") -> list[SecretMatch]:
    """Every secret in ``text``, in order of position.

    ``syntax="python"`` reads only quoted values as assigned secrets (a bare word in code is a
    name, not a value); any other syntax also reads bare ``NAME=value`` values, ``ENV`` lines
    and command-line flags. Base64 images and other long encoded payloads are never searched.
    """
    if len(text) < SHORTEST_SECRET:
        return []  # tiny texts (an archive's version member) are common: skip the detectors
    masked = mask_encoded(text)
    candidates = list(format_candidates(masked, text))
    candidates.extend(assignment_candidates(masked, unquoted=syntax != "python"))
    candidates.extend(_service_accounts(text))
    found = _resolve(candidates)
    if not found:
        return []  # most texts hold no secret: spare them the line index
    index = LineIndex(text)
    matches: list[SecretMatch] = []
    for candidate in found:
        line, column = index.at(candidate.start)
        kind = SECRET_KINDS[candidate.kind]
        matches.append(
            SecretMatch(
                rule=kind.rule,
                kind=candidate.kind,
                line=line,
                column=column,
                redacted=_redacted(candidate),
                confidence=candidate.confidence,
                key=fingerprint_key(candidate.kind, candidate.value),
                name=candidate.name,
            )
        )
    return matches


def _redacted(candidate: Candidate) -> str:
    if candidate.kind in ("private-key", "gcp-service-account-key"):
        # The header says what the key is and reveals nothing of it.
        return f"-----BEGIN {candidate.value}-----"
    return redact(candidate.value, candidate.shown)


def _service_accounts(text: str) -> list[Candidate]:
    # A Google Cloud service-account key file: a JSON document of type "service_account"
    # that carries its private key.
    if _SERVICE_ACCOUNT.search(text) is None:
        return []
    return [
        Candidate(m.start(), m.end(), "PRIVATE KEY", "gcp-service-account-key", "high", 0)
        for m in _SA_PRIVATE_KEY.finditer(text)
        if has_key_body(text, m.end())
    ]


def _resolve(candidates: list[Candidate]) -> list[Candidate]:
    """One match per place: overlapping candidates keep the surest, most specific one."""
    ordered = sorted(
        candidates,
        key=lambda c: (
            _CONFIDENCE_RANK[c.confidence],
            c.kind in ("high-entropy-secret", "bearer-token"),
            c.start,
        ),
    )
    kept: list[Candidate] = []
    for candidate in ordered:
        if any(_overlaps(candidate, other) for other in kept):
            continue
        kept.append(candidate)
    # A service-account file's private key is that file's finding, not a second one.
    accounts = [c for c in kept if c.kind == "gcp-service-account-key"]
    if accounts:
        kept = [c for c in kept if c.kind != "private-key" or not _near_account(c, accounts)]
    return sorted(kept, key=lambda c: c.start)


def _overlaps(a: Candidate, b: Candidate) -> bool:
    return a.start < b.end and b.start < a.end


def _near_account(key: Candidate, accounts: list[Candidate]) -> bool:
    return any(0 <= key.start - a.start <= 40 for a in accounts)
