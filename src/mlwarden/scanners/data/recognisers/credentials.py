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
from mlwarden.scanners.data.recognisers.gates import lowered

_LENGTH = re.compile(r"\((\d+) chars\)$")
#: Lines of a column searched as one string that go to the detectors in one call.
_GROUP_LINES = 64
_SCORES = {"high": 0.95, "medium": 0.8, "low": 0.5}
# Cheap gate: a credential word, a vendor prefix, or a long run mixing upper case, lower
# case and digits. Hex digests, UUIDs, long numbers and IBANs do not open it on their own.
_WORDS = r"pass|pwd|secret|token|api.?key|auth|cred|bearer|-----begin"
_PREFIXES = (
    r"AKIA|ASIA|gh[pousr]_|github_pat_|glpat-|xox[abpr]-|sk-|sk_live|rk_live|hf_|AIza|ya29\."
    r"|eyJ|npm_|pypi-|SG\."
)
_RUN_CLASS = r"[A-Za-z0-9_\-+/=]"
_GATE = re.compile(rf"(?i:{_WORDS})|{_PREFIXES}|{_RUN_CLASS}{{20,}}")
# The gate's three parts, searched separately: the case-insensitive words over a lower-cased
# copy, the prefixes as written, and only maximal runs (a run found from its first character).
_GATE_WORDS = re.compile(_WORDS)
_GATE_PREFIXES = re.compile(_PREFIXES)
_GATE_RUNS = re.compile(rf"(?<!{_RUN_CLASS}){_RUN_CLASS}{{20,}}")


def _opens_gate(hit: str) -> bool:
    if len(hit) < 20:
        return True
    # Long hits are runs of ASCII token characters: case changes tell upper from lower.
    return hit.lower() != hit and hit.upper() != hit and _DIGIT.search(hit) is not None


_DIGIT = re.compile(r"\d")


def _line_of(text: str, start: int, end: int) -> tuple[int, int]:
    low = text.rfind("\n", 0, start) + 1
    high = text.find("\n", end)
    return low, len(text) if high < 0 else high


def gated_lines(text: str) -> list[tuple[int, int]]:
    """The (start, end) of every line of ``text`` where :data:`_GATE` opens, in order.

    The same lines as a scan of the whole text with :data:`_GATE` (a word or prefix hit, or a
    run of 20 token characters mixing upper case, lower case and digits), found faster. The
    one subtlety: the combined pattern consumes a whole run from its first character, so a
    word inside a long run that does not open the gate is not a hit on its own.
    """
    low_text = lowered(text)
    if low_text is None:
        return _scanned_lines(text)
    runs = [(m.start(), m.end()) for m in _GATE_RUNS.finditer(text)]
    starts = {a for a, _ in runs}
    lines: list[tuple[int, int]] = []
    words = [m.start() for m in _GATE_WORDS.finditer(low_text)]
    words += [m.start() for m in _GATE_PREFIXES.finditer(text)]
    words.sort()
    run_index = 0
    for position in words:
        # A word counts unless a run that started before it swallowed it.
        while run_index < len(runs) and runs[run_index][1] <= position:
            run_index += 1
        inside = run_index < len(runs) and runs[run_index][0] < position
        if not inside or position in starts:
            lines.append(_line_of(text, position, position))
    for a, b in runs:
        if _opens_gate(text[a:b]):
            lines.append(_line_of(text, a, b))
    return sorted(set(lines))


def _scanned_lines(text: str) -> list[tuple[int, int]]:
    lines: list[tuple[int, int]] = []
    for hit in _GATE.finditer(text):
        if (lines and hit.start() < lines[-1][1]) or not _opens_gate(hit.group()):
            continue
        lines.append(_line_of(text, hit.start(), hit.end()))
    return lines


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
        # Only the lines with a gate hit go to the detectors, in groups of whole cells (of a
        # column searched as one string): a secret never spans cells, and the detectors'
        # overlap check grows with the square of what one call finds.
        lines = gated_lines(text)
        group: list[tuple[int, int]] = []
        for index, line in enumerate(lines):
            group.append(line)
            following = lines[index + 1] if index + 1 < len(lines) else None
            if following is None or (
                len(group) >= _GROUP_LINES and text.find("\x1e", line[1], following[0]) >= 0
            ):
                yield from self._find_in_lines(finder, text, group)
                group = []

    def _find_in_lines(
        self, finder: Callable[..., list[Any]], text: str, lines: list[tuple[int, int]]
    ) -> Iterator[EntityMatch]:
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
