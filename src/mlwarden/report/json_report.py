"""The JSON report of CONTRACT.md."""

from __future__ import annotations

import json

from mlwarden.findings import Report
from mlwarden.scanners.deps.upgrades import upgrade_plan


def render(report: Report, *, color: bool = False) -> str:
    """The report as JSON text (``color`` is ignored).

    Besides CONTRACT.md's keys, ``upgrades`` lists the upgrades that clear the dependency
    findings, when there are any.
    """
    data = report.to_dict()
    upgrades = upgrade_plan(report.findings)
    if upgrades:
        data["upgrades"] = [u.to_dict() for u in upgrades]
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
