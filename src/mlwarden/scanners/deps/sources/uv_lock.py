"""``uv.lock``: uv's universal lock file, one ``[[package]]`` table per resolved version.

A package's ``source`` says where it comes from: ``registry`` (an index: checked), ``editable``
and ``virtual`` (the project itself or a workspace member: skipped), ``git``, ``path``,
``directory`` or ``url`` (not from an index: unverifiable). One name may appear with several
versions when the resolution forks by platform or Python version; each is reported.
"""

from __future__ import annotations

from pathlib import Path

from mlwarden.scanners.deps.model import Dependency, IssueKind, SourceIssue, SourceResult
from mlwarden.scanners.deps.sources.pep508 import (
    array,
    locked_entries,
    table,
    unverifiable,
)

FORMAT = "uv-lock"
_PROJECT_SOURCES = ("editable", "virtual")
_DIRECT_SOURCES = ("git", "path", "directory", "url")


def parse_uv_lock(
    path: Path, text: str | None = None, *, display: str | None = None
) -> SourceResult:
    """Read every locked package of a ``uv.lock`` except the project's own."""
    shown, entries = locked_entries(path, text, display, "package")
    result = SourceResult(FORMAT)
    for line, entry in entries:
        name = entry.get("name")
        source = table(entry.get("source"))
        if any(key in source for key in _PROJECT_SOURCES):
            continue
        if not isinstance(name, str):
            result.issues.append(
                SourceIssue(shown, line, "a [[package]] without a name", IssueKind.UNPARSABLE)
            )
            continue
        version = entry.get("version")
        direct = next((k for k in _DIRECT_SOURCES if isinstance(source.get(k), str)), None)
        if direct is not None:
            reference = str(source[direct])
            if direct == "git":
                reference = f"git+{reference}"
            locked = version if isinstance(version, str) else None
            result.issues.append(unverifiable(shown, line, name, reference, locked))
            result.dependencies.append(
                Dependency.create(name, source=shown, line=line, url=reference)
            )
            continue
        if not isinstance(version, str):
            result.issues.append(
                SourceIssue(shown, line, f"{name} has no locked version", IssueKind.UNPARSABLE)
            )
            continue
        result.dependencies.append(
            Dependency.create(
                name,
                source=shown,
                line=line,
                version=version,
                specifier=f"=={version}",
                hashes=_hashes(entry),
            )
        )
    return result


def _hashes(entry: dict[str, object]) -> tuple[str, ...]:
    files = [table(entry.get("sdist")), *(table(w) for w in array(entry.get("wheels")))]
    return tuple(str(f["hash"]) for f in files if isinstance(f.get("hash"), str))
