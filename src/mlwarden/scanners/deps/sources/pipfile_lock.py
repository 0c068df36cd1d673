"""``Pipfile.lock``: pipenv's JSON lock file.

``default`` holds the packages the project needs and ``develop`` those for development; each
maps a name to ``{"version": "==1.2.3", "hashes": [...], "markers": "...", "extras": [...]}``.
Entries with ``git``, ``path``, ``file`` or ``editable`` instead of a version come from a VCS,
a local path or a URL: unverifiable.
"""

from __future__ import annotations

import json
from pathlib import Path

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from mlwarden.scanners.deps.model import (
    Dependency,
    IssueKind,
    SourceError,
    SourceIssue,
    SourceResult,
)
from mlwarden.scanners.deps.sources.pep508 import (
    array,
    pinned_version,
    quote,
    read_source,
    table,
    unverifiable,
)

FORMAT = "pipfile-lock"
_SECTIONS = {"default": None, "develop": "develop"}


def parse_pipfile_lock(
    path: Path, text: str | None = None, *, display: str | None = None
) -> SourceResult:
    """Read the ``default`` and ``develop`` packages of a ``Pipfile.lock``."""
    shown = display if display is not None else str(path)
    content = read_source(path, text, shown)
    try:
        data = json.loads(content)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise SourceError(shown, f"malformed JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise SourceError(shown, "not a Pipfile.lock: the document is not an object")
    lines = content.splitlines()
    result = SourceResult(FORMAT)
    for section, group in _SECTIONS.items():
        start = next((i for i, text_line in enumerate(lines) if f'"{section}"' in text_line), 0)
        for name, value in table(data.get(section)).items():
            line = next((i + 1 for i in range(start, len(lines)) if f'"{name}"' in lines[i]), None)
            _entry(result, shown, line, name, table(value), group)
    return result


def _entry(
    result: SourceResult,
    shown: str,
    line: int | None,
    name: str,
    entry: dict[str, object],
    group: str | None,
) -> None:
    markers = entry.get("markers")
    marker = markers if isinstance(markers, str) and markers else None
    extras = tuple(sorted(str(e) for e in array(entry.get("extras"))))
    hashes = tuple(str(h) for h in array(entry.get("hashes")))
    reference = _reference(entry)
    if reference is not None:
        result.issues.append(unverifiable(shown, line, name, reference))
        result.dependencies.append(
            Dependency.create(
                name,
                source=shown,
                line=line,
                group=group,
                extras=extras,
                marker=marker,
                url=reference,
            )
        )
        return
    version = entry.get("version", "")
    text = version if isinstance(version, str) else ""
    try:
        specifier = SpecifierSet(text if text != "*" else "")
    except InvalidSpecifier:
        result.issues.append(
            SourceIssue(
                shown,
                line,
                f"{name}: version {quote(text)} is not a PEP 440 specifier",
                IssueKind.UNPARSABLE,
            )
        )
        return
    result.dependencies.append(
        Dependency.create(
            name,
            source=shown,
            line=line,
            group=group,
            extras=extras,
            marker=marker,
            version=pinned_version(specifier),
            specifier=str(specifier),
            hashes=hashes,
        )
    )


def _reference(entry: dict[str, object]) -> str | None:
    if isinstance(entry.get("git"), str):
        ref = entry.get("ref")
        return f"git+{entry['git']}" + (f"@{ref}" if isinstance(ref, str) else "")
    for key in ("path", "file", "hg", "svn", "bzr"):
        if isinstance(entry.get(key), str):
            return str(entry[key])
    return None
