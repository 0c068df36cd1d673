"""The JSON report of CONTRACT.md."""

from __future__ import annotations

import json

from mlwarden.findings import Report


def render(report: Report, *, color: bool = False) -> str:
    """The report as JSON text (``color`` is ignored)."""
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"
