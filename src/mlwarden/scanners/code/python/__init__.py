"""Python rules over the syntax tree (MW300-MW339); the scanner registers on import.

``check_source(text, path=...)`` is the entry point other scanners reuse (notebook cells): it
returns :class:`CodeIssue` values and never raises for text that does not parse.
"""

from mlwarden.scanners.code.python.analysis import check_source
from mlwarden.scanners.code.python.context import CodeIssue
from mlwarden.scanners.code.python.scanner import PythonRulesScanner

__all__ = ["CodeIssue", "PythonRulesScanner", "check_source"]
