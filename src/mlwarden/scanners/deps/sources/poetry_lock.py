"""``poetry.lock``: the versions Poetry resolved, one ``[[package]]`` table each.

Each package has ``name`` and ``version``; ``category`` (Poetry before 1.5: ``"main"`` or
``"dev"``) or ``groups`` (Poetry 2) say which groups need it; ``markers`` is a string or a
table of one marker per group. A ``[package.source]`` of type ``git``, ``directory``, ``file``
or ``url`` means the code did not come from an index: unverifiable. Type ``legacy`` is a
private index, checked like PyPI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlwarden.scanners.deps.model import Dependency, IssueKind, SourceIssue, SourceResult
from mlwarden.scanners.deps.sources.pep508 import (
    array,
    locked_entries,
    table,
    unverifiable,
)

FORMAT = "poetry-lock"
_DIRECT_SOURCES = frozenset({"git", "directory", "file", "url", "hg"})


def parse_poetry_lock(
    path: Path, text: str | None = None, *, display: str | None = None
) -> SourceResult:
    """Read every locked package of a ``poetry.lock``."""
    shown, entries = locked_entries(path, text, display, "package")
    result = SourceResult(FORMAT)
    for line, entry in entries:
        name, version = entry.get("name"), entry.get("version")
        if not isinstance(name, str) or not isinstance(version, str):
            result.issues.append(
                SourceIssue(
                    shown, line, "a [[package]] without a name and version", IssueKind.UNPARSABLE
                )
            )
            continue
        source = table(entry.get("source"))
        kind = source.get("type")
        hashes = tuple(
            str(f["hash"])
            for f in array(entry.get("files"))
            if isinstance(f, dict) and isinstance(f.get("hash"), str)
        )
        common: dict[str, Any] = {
            "source": shown,
            "line": line,
            "group": _group(entry),
            "marker": _marker(entry.get("markers")),
            "hashes": hashes,
        }
        if kind in _DIRECT_SOURCES:
            reference = str(source.get("url", "")) or f"a {kind} source"
            if kind == "git" and isinstance(source.get("resolved_reference"), str):
                reference = f"git+{reference}@{source['resolved_reference']}"
            result.issues.append(unverifiable(shown, line, name, reference, version))
            result.dependencies.append(Dependency.create(name, url=reference, **common))
            continue
        result.dependencies.append(
            Dependency.create(name, version=version, specifier=f"=={version}", **common)
        )
    return result


def _group(entry: dict[str, Any]) -> str | None:
    groups = [str(g) for g in array(entry.get("groups"))]
    if groups:
        return None if "main" in groups else ",".join(groups)
    category = entry.get("category")
    return None if category in (None, "main") else str(category)


def _marker(markers: object) -> str | None:
    if isinstance(markers, str):
        return markers or None
    if isinstance(markers, dict):
        # One marker per group: the package is needed when any of them holds.
        values = sorted({str(v) for v in markers.values() if v})
        if len(values) == 1:
            return values[0]
        return " or ".join(f"({v})" for v in values) or None
    return None
