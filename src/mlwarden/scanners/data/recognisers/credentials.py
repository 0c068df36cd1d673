"""Secrets in data: the code scanner's detectors (:func:`find_secrets`), located by offset.

The secrets package is imported on first use; if it is missing (a trimmed installation) the
recogniser finds nothing rather than failing the scan.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from typing import Any

from mlwarden.scanners.data.recognisers.base import SECRET, EntityMatch

_LENGTH = re.compile(r"\((\d+) chars\)$")
_SCORES = {"high": 0.95, "medium": 0.8, "low": 0.5}
# Cheap gate: a credential word, a vendor prefix, or a long run mixing upper case, lower
# case and digits. Hex digests, UUIDs, long numbers and IBANs do not open it on their own.
_GATE = re.compile(
    r"(?i:pass|pwd|secret|token|api.?key|auth|cred|bearer|-----BEGIN)"
    r"|AKIA|ASIA|gh[pousr]_|github_pat_|glpat-|xox[abpr]-|sk-|sk_live|rk_live|hf_|AIza|ya29\."
    r"|eyJ|npm_|pypi-|SG\.|[A-Za-z0-9_\-+/=]{20,}"
)


def _opens_gate(hit: str) -> bool:
    if len(hit) < 20:
        return True
    return (
        any(c.isupper() for c in hit)
        and any(c.islower() for c in hit)
        and any(c.isdigit() for c in hit)
    )


@functools.cache
def _finder() -> Callable[..., list[Any]] | None:
    try:
        from mlwarden.scanners.code.secrets import find_secrets
    except ImportError:
        return None
    return find_secrets


class SecretRecogniser:
    """API keys, tokens, private keys and credentials, as the secrets scanner finds them."""

    entities: tuple[str, ...] = (SECRET,)
    column_hint: re.Pattern[str] | None = re.compile(
        r"secret|token|api_?key|password|passwd|credential|private_?key", re.I
    )
    cell_shape: re.Pattern[str] = re.compile(r"\S{16,}.*")
    needs_context: bool = False

    def find(self, text: str, context: str = "") -> Iterator[EntityMatch]:
        """Every secret in ``text``."""
        finder = _finder()
        if finder is None:
            return
        # Only the lines with a gate hit go to the detectors, joined, with their offsets.
        lines: list[tuple[int, int]] = []
        for hit in _GATE.finditer(text):
            if (lines and hit.start() < lines[-1][1]) or not _opens_gate(hit.group()):
                continue
            low = text.rfind("\n", 0, hit.start()) + 1
            high = text.find("\n", hit.end())
            lines.append((low, len(text) if high < 0 else high))
        if not lines:
            return
        excerpt = "\n".join(text[low:high] for low, high in lines)
        line_starts = [low for low, _ in lines]
        for match in finder(excerpt):
            start = line_starts[match.line - 1] + match.column - 1
            length = _LENGTH.search(match.redacted)
            line_end = lines[match.line - 1][1]
            end = min(line_end, start + int(length.group(1))) if length is not None else line_end
            yield EntityMatch(SECRET, start, end, _SCORES.get(match.confidence, 0.5), True)

    def validate(self, value: str, context: str = "") -> str | None:
        """SECRET when the detectors find a secret covering most of ``value``."""
        finder = _finder()
        if finder is None:
            return None
        probe = f"{context or 'secret'}={value}" if "=" not in value else value
        return SECRET if finder(probe) else None
