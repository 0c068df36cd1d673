"""The scanner for Python source files: reads the text and runs the AST rules on it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from mlwarden.findings import Finding
from mlwarden.scanners import register
from mlwarden.scanners.code.inline import inline_suppressions, mark
from mlwarden.scanners.code.issues import issue_finding
from mlwarden.scanners.code.python.analysis import check_source
from mlwarden.scanners.interface import Artifact, LimitExceeded, ScanContext, Scanner
from mlwarden.sniff import Kind


def decode_source(data: bytes) -> str:
    """Source text from bytes: UTF-8 (with or without a byte-order mark), else Latin-1.

    Latin-1 never fails, and every name and keyword the rules look for is ASCII.
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


@register
class PythonRulesScanner(Scanner):
    """Unsafe deserialisation, remote code, unpinned downloads, injection and exposed servers."""

    name: ClassVar[str] = "python-rules"
    kinds: ClassVar[frozenset[Kind]] = frozenset({Kind.PYTHON})

    def scan(self, artifact: Artifact, context: ScanContext) -> Iterator[Finding]:
        limit = context.limits.max_metadata_bytes
        if artifact.size > limit:
            raise LimitExceeded(
                "max_metadata_bytes", f"Python source larger than {limit} bytes was not parsed"
            )
        data = artifact.read_at_most(limit + 1)
        if len(data) > limit:
            raise LimitExceeded(
                "max_metadata_bytes", f"Python source larger than {limit} bytes was not parsed"
            )
        text = decode_source(data)
        issues = check_source(text, path=artifact.path, check_time=context.check_time)
        if not issues:
            return
        suppressions = inline_suppressions(text)
        for issue in issues:
            yield mark(issue_finding(artifact, issue), suppressions)
