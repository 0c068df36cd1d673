"""What the rules share while one module is analysed: names, scopes, and the issues found."""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mlwarden.findings import Severity
from mlwarden.scanners.code.python.names import NameTable

#: A rule run on a call: the analysis, the call, and the canonical name of what it calls.
CallRule = Callable[["ModuleAnalysis", ast.Call, "str | None"], None]

#: Longest argument text kept in evidence.
EVIDENCE_TEXT = 160


@dataclass(frozen=True, slots=True)
class CodeIssue:
    """One rule firing at one place in Python source (1-based line and column).

    ``severity`` is ``None`` when the rule's default applies. ``key`` tells apart several
    issues of one rule in one file without using line numbers, so it survives edits above.
    """

    rule: str
    line: int
    column: int
    message: str
    severity: Severity | None
    evidence: dict[str, Any]
    key: str


@dataclass(frozen=True, slots=True)
class Source:
    """Where untrusted text comes from: model output or request input."""

    kind: str  # "model-output" or "request-input"
    what: str
    line: int


@dataclass(slots=True)
class Scope:
    """A function, class or module body: its qualified name and the values bound to names.

    Values are kept, not evaluated: taint is worked out only when a sink is reached.
    """

    name: str
    bindings: dict[str, list[ast.expr | Source]] = field(default_factory=dict)

    def bind(self, name: str, value: ast.expr | Source) -> None:
        self.bindings.setdefault(name, []).append(value)


class ModuleAnalysis:
    """The state of one walk over one module's tree."""

    __slots__ = ("_counts", "issues", "names", "scopes", "skip_strings", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.names = NameTable()
        self.scopes: list[Scope] = [Scope("<module>")]
        self.issues: list[CodeIssue] = []
        #: String literals already judged as part of a larger expression.
        self.skip_strings: set[int] = set()
        self._counts: Counter[str] = Counter()

    @property
    def scope(self) -> Scope:
        return self.scopes[-1]

    def lookup(self, name: str) -> list[ast.expr | Source]:
        """The values bound to ``name`` so far, in the innermost scope that binds it."""
        for scope in reversed(self.scopes):
            values = scope.bindings.get(name)
            if values is not None:
                return values
        return []

    def report(
        self,
        rule: str,
        node: ast.AST,
        message: str,
        *,
        evidence: dict[str, Any],
        subject: str,
        severity: Severity | None = None,
    ) -> None:
        """Record an issue at ``node``; ``subject`` names what fired (a call, a keyword)."""
        base = f"{self.scopes[-1].name}:{subject}"
        self._counts[f"{rule}:{base}"] += 1
        count = self._counts[f"{rule}:{base}"]
        key = base if count == 1 else f"{base}#{count}"
        line = getattr(node, "lineno", 1)
        column = getattr(node, "col_offset", 0) + 1
        self.issues.append(CodeIssue(rule, line, column, message, severity, evidence, key))


def snippet(node: ast.AST) -> str:
    """Source-like text of a node for evidence, shortened."""
    try:
        text = ast.unparse(node)
    except (ValueError, RecursionError):  # unparse recurses; deep trees are not worth it
        return "…"
    text = " ".join(text.split())
    return text if len(text) <= EVIDENCE_TEXT else text[: EVIDENCE_TEXT - 1] + "…"


def keyword(call: ast.Call, name: str) -> ast.keyword | None:
    """The keyword argument ``name`` of a call, if given."""
    for kw in call.keywords:
        if kw.arg == name:
            return kw
    return None


def has_splat(call: ast.Call) -> bool:
    """Whether the call passes ``**kwargs`` (its keywords cannot all be seen)."""
    return any(kw.arg is None for kw in call.keywords)


def argument(call: ast.Call, position: int, name: str) -> ast.expr | None:
    """An argument given by position or by name."""
    kw = keyword(call, name)
    if kw is not None:
        return kw.value
    if len(call.args) > position and not any(
        isinstance(a, ast.Starred) for a in call.args[: position + 1]
    ):
        return call.args[position]
    return None


def is_true(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def is_false(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is False
