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
    return dumps(data)


_ENCODER = json.JSONEncoder(ensure_ascii=False)


def _compact(value: object) -> str:
    return _ENCODER.encode(value)


def dumps(data: dict[str, object]) -> str:
    """``data`` as JSON text with one top-level key per line and one list item per line.

    A report of many findings reads (and diffs, and greps) one finding per line, and is
    written several times faster than with a fully indented layout.
    """
    lines = ["{"]
    last = len(data) - 1
    for number, (key, value) in enumerate(data.items()):
        comma = "," if number < last else ""
        name = _compact(key)
        if isinstance(value, list) and value:
            lines.append(f"  {name}: [")
            lines.extend(f"    {_compact(item)}," for item in value[:-1])
            lines.append(f"    {_compact(value[-1])}")
            lines.append(f"  ]{comma}")
        else:
            lines.append(f"  {name}: {_compact(value)}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"
