"""Poetry's version constraint syntax, turned into PEP 440 specifiers.

Poetry writes ``^1.2`` (caret: up to the next change of the leftmost non-zero part), ``~1.2``
(tilde: up to the next minor, or major when only a major is given), ``1.2.*``, a bare ``1.2.3``
(an exact version: a pin), ``>= 1.2, < 1.5`` or ``>=1.2 <1.5`` (all must hold) and
``A || B`` (either holds). PEP 440 has no "or", so a constraint becomes one specifier set per
alternative.
"""

from __future__ import annotations

import re

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

_CLAUSE = re.compile(r"(\^|~=|~|===|==|!=|<=|>=|<|>|=)?\s*([^\s,<>=!~^|]+)")
_ALTERNATIVES = re.compile(r"\s*\|\|?\s*")


class ConstraintError(ValueError):
    """A Poetry constraint that does not follow Poetry's syntax."""


def poetry_to_pep440(constraint: str) -> list[str]:
    """One PEP 440 specifier string per ``||`` alternative; ``[""]`` means any version."""
    alternatives = [alt for alt in _ALTERNATIVES.split(constraint.strip()) if alt.strip()]
    if not alternatives:
        return [""]
    return [_alternative(alt) for alt in alternatives]


def _alternative(text: str) -> str:
    clauses: list[str] = []
    position = 0
    text = text.strip()
    while position < len(text):
        if text[position] in " ,\t":
            position += 1
            continue
        match = _CLAUSE.match(text, position)
        if match is None or match.end() == position:
            raise ConstraintError(f"cannot read {text!r} at {text[position:]!r}")
        position = match.end()
        clauses.extend(_clause(match.group(1) or "", match.group(2)))
    spec = ",".join(clauses)
    try:
        SpecifierSet(spec)
    except InvalidSpecifier as exc:
        raise ConstraintError(f"{text!r} is not a valid version constraint") from exc
    return spec


def _clause(operator: str, version: str) -> list[str]:
    if version == "*":
        return []
    if operator == "^":
        return [f">={version}", f"<{_caret_upper(version)}"]
    if operator == "~":
        return [f">={version}", f"<{_tilde_upper(version)}"]
    if operator in ("", "="):
        return [f"=={version}"]
    return [f"{operator}{version}"]


def _release(version: str) -> tuple[int, ...]:
    try:
        return Version(version).release
    except InvalidVersion as exc:
        raise ConstraintError(f"{version!r} is not a version") from exc


def _caret_upper(version: str) -> str:
    release = _release(version)
    # The leftmost non-zero part is bumped; with no non-zero part, the last part given.
    index = next((i for i, part in enumerate(release) if part != 0), len(release) - 1)
    return ".".join(str(p) for p in (*release[:index], release[index] + 1))


def _tilde_upper(version: str) -> str:
    release = _release(version)
    if len(release) == 1:
        return str(release[0] + 1)
    return f"{release[0]}.{release[1] + 1}"


def python_marker(constraint: str) -> str | None:
    """A Poetry ``python = "..."`` constraint as a PEP 508 marker on ``python_version``."""
    alternatives = []
    for spec in poetry_to_pep440(constraint):
        if not spec:
            return None  # any Python
        clauses = " and ".join(
            f'python_version {s.operator} "{s.version}"'
            for s in sorted(SpecifierSet(spec), key=str)
        )
        alternatives.append(clauses)
    if len(alternatives) == 1:
        return alternatives[0]
    return " or ".join(f"({alt})" for alt in alternatives)
