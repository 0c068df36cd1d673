"""A plain reading of the OSV evaluation pseudocode, to check mlwarden's matching against.

Written as directly as possible from the OSV schema's description, with none of the
optimisations of :mod:`mlwarden.scanners.deps.matching`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

#: The real PyPA advisories beside the repository (absent in some checkouts: tests skip).
SHARED = (
    Path(__file__).resolve().parents[2] / ".." / "shared" / "advisory-database" / "vulns"
).resolve()


def reading(text: str) -> Version | None:
    # The plain reading CONTRACT.md describes: the public version, else its leading release.
    try:
        return Version(Version(text).public)
    except InvalidVersion:
        head = re.match(r"\d+(\.\d+)*", text)
        return Version(head.group(0)) if head else None


def _listed(affected: dict[str, Any]) -> set[Version]:
    key = id(affected)
    if key not in _LISTED:
        _LISTED[key] = (affected, {v for v in map(reading, affected.get("versions", [])) if v})
    return _LISTED[key][1]


_LISTED: dict[int, tuple[dict[str, Any], set[Version]]] = {}


def osv_is_vulnerable(record: dict[str, Any], package: str, version: Version) -> bool:
    # The OSV schema's IsVulnerable pseudocode, written out as plainly as possible.
    if record.get("withdrawn"):
        return False
    for affected in record.get("affected", []):
        if affected["package"]["name"].lower().replace("_", "-") != package:
            continue
        if version in _listed(affected):
            return True
        for rng in affected.get("ranges", []):
            if rng["type"] != "ECOSYSTEM":
                continue
            events = []
            for event in rng["events"]:
                ((kind, value),) = event.items()
                bound = None if value == "0" else reading(value)
                events.append((kind, bound))
            limits = [b for k, b in events if k == "limit" and b is not None]
            if limits and not any(version < b for b in limits):
                continue
            vulnerable = False
            for kind, bound in sorted(
                (e for e in events if e[0] != "limit"),
                key=lambda e: (e[1] is not None, e[1] or Version("0")),
            ):
                if kind == "introduced" and (bound is None or version >= bound):
                    vulnerable = True
                elif bound is not None:
                    fixed = kind == "fixed" and version >= bound
                    closed = kind == "last_affected" and version > bound
                    vulnerable = vulnerable and not (fixed or closed)
            if vulnerable:
                return True
    return False
