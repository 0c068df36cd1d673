"""Annotated fixtures: the findings a file must give, written as comments in the file itself.

Annotations (any comment style that starts with ``#``, ``//``, ``!`` or ``<!--``):

- ``# expect: MW300`` or ``# expect: MW300, MW401``: these rules fire on this line.
- ``# expect-next: MW500``: on the next line that is not itself only an annotation (for
  formats where a trailing comment would change the meaning of the line: Dockerfile
  instructions, ``.properties`` values).
- ``# suppressed: MW300`` / ``# suppressed-next: MW300``: the rule fires on that line and is
  hidden by an inline ``# mlwarden: ignore[...] -- reason`` comment.
- ``# ok``: the safe form; nothing may fire on this line (documentation only: the comparison is
  exact, so an unannotated line must stay silent too).

Files that cannot hold comments (JSON) take a sidecar ``<name>.expect`` with lines such as
``12: MW500, MW501`` (``12 suppressed: MW300`` for suppressed ones).

Notebooks (``.ipynb``) are read cell by cell: annotations sit in code cells, and findings are
compared as ``(rule, cell, line)`` with the 0-based cell index and the 1-based line in the cell.

:func:`check_fixture` scans a file through :func:`mlwarden.engine.scan_file`, the way the CLI
does, and asserts the set of findings equals the annotations in both directions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path

from mlwarden.engine import scan_file
from mlwarden.findings import Finding
from mlwarden.scanners.code.inline import EVIDENCE_KEY

_RULES = r"MW\d{3}(?:\s*,\s*MW\d{3})*"
_ANNOTATION = re.compile(
    r"(?:#|//|!|<!--)\s*(?P<what>expect|suppressed)(?P<next>-next)?:\s*(?P<rules>" + _RULES + ")"
)
_ONLY_ANNOTATION = re.compile(r"^\s*(?:#|//|!|<!--)\s*(?:expect|suppressed)(?:-next)?:")
_SIDECAR = re.compile(r"^\s*(?P<line>\d+)\s*(?P<what>suppressed)?\s*:\s*(?P<rules>" + _RULES + ")")

#: ``(rule, line)`` pairs; in notebooks ``(rule, cell, line)``.
Expected = set[tuple[str, int]]


def _split_rules(text: str) -> list[str]:
    return [r.strip() for r in text.split(",") if r.strip()]


def annotations(text: str) -> tuple[Expected, Expected]:
    """The ``(rule, line)`` pairs expected active and expected suppressed in ``text``."""
    active: Expected = set()
    hidden: Expected = set()
    pending: list[tuple[str, str]] = []  # (what, rule) waiting for the next code line
    for number, line in enumerate(text.splitlines(), start=1):
        only_annotation = _ONLY_ANNOTATION.match(line) is not None
        if not only_annotation and line.strip():
            for what, rule in pending:
                (hidden if what == "suppressed" else active).add((rule, number))
            pending = []
        for match in _ANNOTATION.finditer(line):
            target = hidden if match["what"] == "suppressed" else active
            for rule in _split_rules(match["rules"]):
                if match["next"]:
                    pending.append((match["what"], rule))
                else:
                    target.add((rule, number))
    if pending:
        raise AssertionError(f"'-next' annotations at the end of the text: {pending}")
    return active, hidden


def expectations(text: str) -> Expected:
    """The ``(rule, line)`` pairs that must fire, unsuppressed, in ``text``."""
    return annotations(text)[0]


def _sidecar(path: Path) -> tuple[Expected, Expected] | None:
    side = path.with_name(path.name + ".expect")
    if not side.is_file():
        return None
    active: Expected = set()
    hidden: Expected = set()
    for raw in side.read_text(encoding="utf-8").splitlines():
        match = _SIDECAR.match(raw)
        if match is None:
            continue
        target = hidden if match["what"] else active
        target.update((rule, int(match["line"])) for rule in _split_rules(match["rules"]))
    return active, hidden


def is_suppressed(finding: Finding) -> bool:
    """Whether an inline comment with a reason hides the finding (what the policy honours)."""
    inline = finding.evidence.get(EVIDENCE_KEY)
    return isinstance(inline, dict) and bool(inline.get("reason"))


def _where(finding: Finding, notebook: bool) -> tuple[str, ...]:
    line = finding.location.line if finding.location.line is not None else 0
    if notebook:
        cell = finding.location.cell if finding.location.cell is not None else -1
        return (finding.rule, str(cell), str(line))
    return (finding.rule, str(line))


def _notebook_annotations(path: Path) -> tuple[set[tuple[str, ...]], set[tuple[str, ...]]]:
    document = json.loads(path.read_text(encoding="utf-8"))
    active: set[tuple[str, ...]] = set()
    hidden: set[tuple[str, ...]] = set()
    for index, cell in enumerate(document.get("cells", [])):
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) else str(source)
        cell_active, cell_hidden = annotations(text)
        active.update((rule, str(index), str(line)) for rule, line in cell_active)
        hidden.update((rule, str(index), str(line)) for rule, line in cell_hidden)
    return active, hidden


def findings_of(path: Path) -> list[Finding]:
    """Every finding for one file, as the CLI would see it before the policy."""
    result = scan_file(str(path), path)
    assert not result.errors, f"{path}: scan errors {result.errors}"
    return result.findings


def check_fixture(path: str | Path, findings: Iterable[Finding] | None = None) -> None:
    """Assert that the findings for ``path`` are exactly its annotations, in both directions.

    ``findings`` defaults to scanning the file with :func:`mlwarden.engine.scan_file`.
    """
    path = Path(path)
    notebook = path.suffix == ".ipynb"
    found = list(findings) if findings is not None else findings_of(path)
    if notebook:
        want_active, want_hidden = _notebook_annotations(path)
    else:
        side = _sidecar(path)
        pairs = side or annotations(path.read_text(encoding="utf-8"))
        want_active = {(rule, str(line)) for rule, line in pairs[0]}
        want_hidden = {(rule, str(line)) for rule, line in pairs[1]}
    got_active = {_where(f, notebook) for f in found if not is_suppressed(f)}
    got_hidden = {_where(f, notebook) for f in found if is_suppressed(f)}
    messages = {_where(f, notebook): f.message for f in found}
    problems: list[str] = []
    for label, want, got in (
        ("active", want_active, got_active),
        ("suppressed", want_hidden, got_hidden),
    ):
        problems.extend(
            f"missing {label} {' '.join(missing)}" for missing in sorted(want - got, key=_order)
        )
        problems.extend(
            f"unexpected {label} {' '.join(extra)}: {messages.get(extra, '')}"
            for extra in sorted(got - want, key=_order)
        )
    assert not problems, f"{path}:\n  " + "\n  ".join(problems)


def _order(item: tuple[str, ...]) -> tuple[int, ...]:
    return (*(int(part) for part in item[1:]), int(item[0][2:]))
