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
# Cheap gate: every detected secret has a long run of token characters.
_TOKEN_RUN = re.compile(r"[A-Za-z0-9_\-+/=]{16,}|-----BEGIN")


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
        if finder is None or _TOKEN_RUN.search(text) is None:
            return
        line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        for match in finder(text):
            start = line_starts[match.line - 1] + match.column - 1
            length = _LENGTH.search(match.redacted)
            if length is not None:
                end = start + int(length.group(1))
            else:
                newline = text.find("\n", start)
                end = len(text) if newline < 0 else newline
            yield EntityMatch(SECRET, start, end, _SCORES.get(match.confidence, 0.5), True)

    def validate(self, value: str, context: str = "") -> str | None:
        """SECRET when the detectors find a secret covering most of ``value``."""
        finder = _finder()
        if finder is None:
            return None
        probe = f"{context or 'secret'}={value}" if "=" not in value else value
        return SECRET if finder(probe) else None
