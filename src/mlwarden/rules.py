"""The rule catalogue: one source for findings, docs, SARIF and HTML.

Every finding names a rule by its stable id. Rules are declared in the modules of
:mod:`mlwarden.catalogue`, one per artifact family, and registered here when that package is
imported. Ids never change meaning once released; a retired rule keeps its id.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from mlwarden.findings import Severity

#: Categories named by CONTRACT.md; ``scan`` is for limits and unreadable input.
CATEGORIES = frozenset({"model", "dependency", "code", "secret", "config", "data", "scan"})


@dataclass(frozen=True, slots=True)
class Rule:
    """A kind of problem mlwarden reports.

    ``severity`` is the default; a scanner may raise or lower it for one finding when the
    evidence says more (an imported-only global is less severe than a called one).
    ``owasp_ml`` uses the OWASP Machine Learning Security Top 10 (2023) ids (``ML06``),
    ``atlas`` the MITRE ATLAS technique ids (``AML.T0010``).
    """

    id: str
    name: str
    title: str
    severity: Severity
    category: str
    description: str
    remediation: str
    cwe: tuple[int, ...] = ()
    owasp_ml: tuple[str, ...] = ()
    atlas: tuple[str, ...] = ()
    references: tuple[str, ...] = ()

    @property
    def tags(self) -> tuple[str, ...]:
        """Tags for SARIF and HTML: CWE, OWASP ML Top 10 and ATLAS ids, and the category."""
        cwe = tuple(f"CWE-{n}" for n in self.cwe)
        owasp = tuple(f"OWASP-{t}" for t in self.owasp_ml)
        return (self.category, *cwe, *owasp, *self.atlas)

    @property
    def help_uri(self) -> str:
        return f"https://mlwarden.dev/rules/{self.id}"


_RULES: dict[str, Rule] = {}
_NAMES: set[str] = set()


def define(
    id: str,
    name: str,
    title: str,
    severity: Severity,
    category: str,
    description: str,
    remediation: str,
    *,
    cwe: tuple[int, ...] = (),
    owasp_ml: tuple[str, ...] = (),
    atlas: tuple[str, ...] = (),
    references: tuple[str, ...] = (),
) -> Rule:
    """Declare a rule in the catalogue. Ids and names must be unique."""
    if category not in CATEGORIES:
        raise ValueError(f"rule {id}: unknown category {category!r}")
    if id in _RULES:
        raise ValueError(f"rule {id} is declared twice")
    if name in _NAMES:
        raise ValueError(f"rule name {name!r} is declared twice")
    rule = Rule(
        id=id,
        name=name,
        title=title,
        severity=severity,
        category=category,
        description=_prose(description),
        remediation=_prose(remediation),
        cwe=cwe,
        owasp_ml=owasp_ml,
        atlas=atlas,
        references=references,
    )
    _RULES[id] = rule
    _NAMES.add(name)
    return rule


def _prose(text: str) -> str:
    # Catalogue prose is wrapped and indented for the source; reports want one line per
    # paragraph, paragraphs separated by a blank line.
    paragraphs = re.split(r"\n\s*\n", text.strip())
    return "\n\n".join(" ".join(p.split()) for p in paragraphs if p.strip())


def _load() -> None:
    # Importing the catalogue package runs every define(...) once.
    import mlwarden.catalogue  # noqa: F401


def get_rule(rule_id: str) -> Rule:
    """The rule with this id; ``KeyError`` if there is none."""
    _load()
    try:
        return _RULES[rule_id]
    except KeyError:
        raise KeyError(f"no rule {rule_id!r} in the catalogue") from None


def all_rules() -> Iterator[Rule]:
    """Every rule, in id order."""
    _load()
    yield from sorted(_RULES.values(), key=lambda r: r.id)
