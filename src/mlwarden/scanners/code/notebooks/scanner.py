"""The notebook scanner: Python rules, shell rules and secrets per cell, secrets in outputs."""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Iterator, Mapping
from typing import ClassVar

from mlwarden.findings import Finding
from mlwarden.scanners import register
from mlwarden.scanners.code.inline import InlineSuppression, inline_suppressions, mark
from mlwarden.scanners.code.issues import LocatedIssue, issue_finding
from mlwarden.scanners.code.notebooks.document import NotebookCell, OutputText, parse_notebook
from mlwarden.scanners.code.notebooks.magics import CellViews, split_cell
from mlwarden.scanners.code.notebooks.shell import shell_issues
from mlwarden.scanners.code.secrets import find_secrets
from mlwarden.scanners.code.secrets.assignments import is_secret_name
from mlwarden.scanners.code.secrets.scanner import (
    read_text,
    secret_evidence,
    secret_finding,
    secret_message,
)
from mlwarden.scanners.code.secrets.text import fingerprint_key, is_placeholder, redact
from mlwarden.scanners.interface import Artifact, ScanContext, Scanner
from mlwarden.sniff import Kind

#: The rule for a secret found in a stored output.
OUTPUT_SECRET_RULE = "MW340"
#: The rule for a secret set with ``%env``.
ENV_SECRET_RULE = "MW343"


PythonChecker = Callable[[str], "list[LocatedIssue]"]


def python_checker() -> PythonChecker | None:
    """The Python rule engine (``mlwarden.scanners.code.python.check_source``), if present."""
    # Looked up at run time: the notebook scanner works (secrets, shell rules) without it.
    try:
        module = importlib.import_module("mlwarden.scanners.code.python")
    except ImportError:
        return None
    checker: PythonChecker | None = getattr(module, "check_source", None)
    return checker


@register
class NotebookScanner(Scanner):
    """Jupyter notebooks: code cells (with magics and ``!`` lines), markdown, and outputs."""

    name: ClassVar[str] = "notebooks"
    kinds: ClassVar[frozenset[Kind]] = frozenset({Kind.NOTEBOOK})

    def scan(self, artifact: Artifact, context: ScanContext) -> Iterator[Finding]:
        raw = read_text(artifact, context, "notebook cells")
        if len(raw.encode("utf-8", "replace")) >= context.limits.max_metadata_bytes:
            # The document was cut at the limit and cannot be parsed: search its text as is.
            yield from (secret_finding(artifact, match) for match in find_secrets(raw))
            return
        checker = python_checker()
        for cell in parse_notebook(raw):
            context.check_time()
            suppressions = inline_suppressions(cell.source)
            found = list(self._cell(artifact, cell, checker))
            yield from (mark(f, suppressions) for f in found)
            for output in cell.outputs:
                for finding in self._output(artifact, cell, output):
                    yield _mark_output(finding, suppressions)

    def _cell(
        self, artifact: Artifact, cell: NotebookCell, checker: PythonChecker | None
    ) -> Iterator[Finding]:
        if cell.cell_type != "code":
            # Markdown and raw cells hold no code, but pasted credentials all the same.
            yield from self._secrets(artifact, cell, cell.source, "text")
            return
        views = split_cell(cell.source)
        if checker is not None and views.python.strip():
            for issue in checker(views.python):
                yield issue_finding(artifact, issue, cell=cell.index)
        for shell in shell_issues(views.shell, views.interpolated):
            yield self.finding(
                artifact,
                shell.rule,
                shell.message,
                evidence=shell.evidence,
                key=f"{shell.rule}:{shell.line}",
                line=shell.line,
                column=shell.column,
                cell=cell.index,
            )
        yield from self._secrets(artifact, cell, views.python, "python")
        yield from self._secrets(artifact, cell, views.shell, "shell")
        yield from self._secrets(artifact, cell, views.other, "text")
        yield from self._env(artifact, cell, views)

    def _secrets(
        self, artifact: Artifact, cell: NotebookCell, text: str, syntax: str
    ) -> Iterator[Finding]:
        if not text.strip():
            return
        for match in find_secrets(text, syntax=syntax):
            yield secret_finding(artifact, match, cell=cell.index)

    def _env(self, artifact: Artifact, cell: NotebookCell, views: CellViews) -> Iterator[Finding]:
        for line, (name, value, column) in views.env.items():
            # A trailing comment is not part of what a reader takes for the value.
            value = value.split(" #", 1)[0].strip().strip("\"'")
            matches = find_secrets(f"{name}={value}")
            if matches:
                evidence = secret_evidence(matches[0])
                evidence["secret_rule"] = matches[0].rule
                shown = matches[0].redacted
                key = matches[0].key
            elif is_secret_name(name) and _literal(value):
                evidence = {"kind": "env-secret", "redacted": redact(value, 2)}
                shown = str(evidence["redacted"])
                key = fingerprint_key("env-secret", value)
            else:
                continue
            evidence["name"] = name
            yield self.finding(
                artifact,
                ENV_SECRET_RULE,
                f"%env sets {name} to a literal secret {shown}",
                evidence=evidence,
                key=key,
                line=line,
                column=column,
                cell=cell.index,
            )

    def _output(
        self, artifact: Artifact, cell: NotebookCell, output: OutputText
    ) -> Iterator[Finding]:
        if not output.text.strip():
            return
        for match in find_secrets(output.text):
            evidence = secret_evidence(match)
            evidence.update(
                {
                    "output": True,
                    "output_index": output.index,
                    "output_type": output.output_type,
                    "mime": output.mime,
                    "output_line": match.line,
                    "secret_rule": match.rule,
                }
            )
            yield self.finding(
                artifact,
                OUTPUT_SECRET_RULE,
                secret_message(match, f" in a stored output of cell {cell.index}"),
                evidence=evidence,
                key=f"output:{match.key}",
                cell=cell.index,
            )


def _literal(value: str) -> bool:
    # A value taken from elsewhere ($VAR, {expr}, a getpass() call) is not stored in the notebook.
    if len(value) < 6 or value.startswith(("$", "{", "(")) or is_placeholder(value):
        return False
    return "getpass" not in value and "environ" not in value


def _mark_output(finding: Finding, suppressions: Mapping[int, InlineSuppression]) -> Finding:
    """Outputs have no source line: an ignore comment naming the rule anywhere in the cell
    (not a bare ``ignore``) covers the cell's outputs."""
    for line, suppression in sorted(suppressions.items()):
        if finding.rule in suppression.rules:
            placed = dataclasses.replace(
                finding, location=dataclasses.replace(finding.location, line=line)
            )
            marked = mark(placed, {line: suppression})
            return dataclasses.replace(marked, location=finding.location)
    return finding
