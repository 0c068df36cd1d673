"""``pylock.toml`` (PEP 751, the standard lock file), one ``[[packages]]`` table per package.

Each package has a ``name``, usually a ``version`` and optionally a ``marker``. Exactly one of
``vcs``, ``directory``, ``archive``, ``sdist`` or ``wheels`` says where its code comes from;
the first three are source trees or files named by URL or path, not index releases:
unverifiable. The spec forbids ``version`` where it cannot be guaranteed to match the code, so
a package from an index without one is reported as an issue too.
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

FORMAT = "pylock"
_DIRECT_SOURCES = ("vcs", "directory", "archive")


def parse_pylock(
    path: Path, text: str | None = None, *, display: str | None = None
) -> SourceResult:
    """Read every package of a ``pylock.toml``."""
    shown, entries = locked_entries(path, text, display, "packages")
    result = SourceResult(FORMAT)
    for line, entry in entries:
        name = entry.get("name")
        if not isinstance(name, str):
            result.issues.append(
                SourceIssue(
                    shown, line, "a [[packages]] entry without a name", IssueKind.UNPARSABLE
                )
            )
            continue
        marker = entry.get("marker") if isinstance(entry.get("marker"), str) else None
        version = entry.get("version") if isinstance(entry.get("version"), str) else None
        direct = next((k for k in _DIRECT_SOURCES if isinstance(entry.get(k), dict)), None)
        if direct is not None:
            reference = _reference(direct, table(entry[direct]))
            result.issues.append(unverifiable(shown, line, name, reference, version))
            result.dependencies.append(
                Dependency.create(name, source=shown, line=line, marker=marker, url=reference)
            )
            continue
        if version is None:
            result.issues.append(
                SourceIssue(
                    shown,
                    line,
                    f"{name} has no version: it cannot be checked",
                    IssueKind.UNPARSABLE,
                )
            )
            continue
        result.dependencies.append(
            Dependency.create(
                name,
                source=shown,
                line=line,
                version=version,
                specifier=f"=={version}",
                marker=marker,
                hashes=_hashes(entry),
            )
        )
    return result


def _reference(kind: str, source: dict[str, Any]) -> str:
    where = source.get("url") or source.get("path") or f"a {kind} source"
    if kind == "vcs":
        vcs = source.get("type", "vcs")
        commit = source.get("commit-id")
        return f"{vcs}+{where}" + (f"@{commit}" if isinstance(commit, str) else "")
    return str(where)


def _hashes(entry: dict[str, Any]) -> tuple[str, ...]:
    files = [table(entry.get("sdist")), *(table(w) for w in array(entry.get("wheels")))]
    return tuple(
        f"{algorithm}:{value}" for f in files for algorithm, value in table(f.get("hashes")).items()
    )
