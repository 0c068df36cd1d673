"""Pickle analysis: a streaming opcode reader, a symbolic machine and a global policy.

Nothing here unpickles: opcodes are decoded and simulated on symbolic values only.
Importing this package registers :class:`PickleScanner` for ``Kind.PICKLE``.
"""

from mlwarden.scanners.models.pickle.machine import PickleProgram
from mlwarden.scanners.models.pickle.scanner import (
    PickleScanner,
    findings_for,
    scan_pickle_stream,
)

__all__ = ["PickleProgram", "PickleScanner", "findings_for", "scan_pickle_stream"]
