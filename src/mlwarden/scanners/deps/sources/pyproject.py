"""``pyproject.toml``: PEP 621 project tables, PEP 735 dependency groups, Poetry tables.

- ``[project] dependencies`` (no group) and ``optional-dependencies`` (the group is the extra);
  a ``dynamic`` list naming them means they are computed at build time, an issue.
- ``[dependency-groups]`` (PEP 735): each group's requirements, once, under that group;
  ``{include-group = "..."}`` entries are checked (unknown groups, cycles) but not copied, since
  the included group's requirements are already reported under their own group.
- Poetry: ``[tool.poetry.dependencies]`` (``python`` skipped), ``dev-dependencies`` and
  ``[tool.poetry.group.<name>.dependencies]``, with Poetry's constraint syntax; ``git``,
  ``path`` and ``url`` dependencies are unverifiable. With Poetry 2, a package in both
  ``[project] dependencies`` and ``[tool.poetry.dependencies]`` is read from ``[project]``.
- uv: ``[tool.uv] dev-dependencies``; ``[tool.uv.sources]`` entries that point at git, a path
  or a URL make that dependency unverifiable.

TOML keeps no line numbers, so a dependency's line is where its text first appears in its
section, found by searching the source.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from mlwarden.scanners.deps.model import Dependency, IssueKind, SourceIssue, SourceResult
from mlwarden.scanners.deps.sources.pep508 import (
    array,
    load_toml,
    parse_requirement,
    pinned_version,
    quote,
    read_source,
    table,
    unverifiable,
)
from mlwarden.scanners.deps.sources.poetry_constraint import (
    ConstraintError,
    poetry_to_pep440,
    python_marker,
)

FORMAT = "pyproject"


class _Lines:
    """Finds the line where a value is written, within a section when one is named."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def section(self, header: str) -> int:
        """0-based index of ``[header]``, or 0 when the table is written another way."""
        pattern = re.compile(
            r"^\s*\[\s*" + re.escape(header).replace(r"\.", r"\s*\.\s*") + r"\s*\]\s*(#.*)?$"
        )
        return next((i for i, line in enumerate(self.lines) if pattern.match(line)), 0)

    def find(self, needle: str, start: int = 0) -> int | None:
        """1-based line of the first occurrence of ``needle`` at or after ``start``."""
        for i in range(start, len(self.lines)):
            if needle in self.lines[i]:
                return i + 1
        return None

    def key(self, key: str, start: int) -> int | None:
        """1-based line where ``key = ...`` is written at or after ``start``."""
        pattern = re.compile(r'^\s*["\']?' + re.escape(key) + r'["\']?\s*=')
        for i in range(start, len(self.lines)):
            if pattern.match(self.lines[i]):
                return i + 1
        return None


def parse_pyproject(
    path: Path, text: str | None = None, *, display: str | None = None
) -> SourceResult:
    """Read every dependency a ``pyproject.toml`` declares."""
    shown = display if display is not None else str(path)
    content = read_source(path, text, shown)
    data = load_toml(content, shown)
    reader = _PyprojectReader(shown, _Lines(content), data)
    reader.read()
    return reader.result


class _PyprojectReader:
    def __init__(self, display: str, lines: _Lines, data: dict[str, Any]) -> None:
        self.display = display
        self.lines = lines
        self.data = data
        self.result = SourceResult(FORMAT)
        project = table(data.get("project"))
        name = project.get("name")
        self.own = canonicalize_name(name) if isinstance(name, str) else None
        tool = table(data.get("tool"))
        self.poetry = table(tool.get("poetry"))
        self.uv = table(tool.get("uv"))

    def read(self) -> None:
        self._project()
        self._dependency_groups()
        self._poetry()
        self._uv()

    def _requirements(self, entries: list[Any], group: str | None, start: int) -> None:
        for entry in entries:
            if not isinstance(entry, str):
                continue
            line = self.lines.find(entry, start)
            dependency, issue = parse_requirement(
                entry, source=self.display, line=line, group=group
            )
            if issue is not None:
                self.result.issues.append(issue)
            if dependency is not None and dependency.canonical != self.own:
                self.result.dependencies.append(dependency)

    def _project(self) -> None:
        project = table(self.data.get("project"))
        start = self.lines.section("project")
        self._requirements(array(project.get("dependencies")), None, start)
        optional = table(project.get("optional-dependencies"))
        extras_start = max(start, self.lines.section("project.optional-dependencies"))
        for extra, entries in optional.items():
            self._requirements(array(entries), extra, extras_start)
        dynamic = {d for d in array(project.get("dynamic")) if isinstance(d, str)}
        for key in sorted(dynamic & {"dependencies", "optional-dependencies"}):
            self.result.issues.append(
                SourceIssue(
                    self.display,
                    self.lines.key("dynamic", start),
                    f"[project] {key} are dynamic: computed at build time, not listed here",
                    IssueKind.DYNAMIC,
                )
            )

    def _dependency_groups(self) -> None:
        groups = table(self.data.get("dependency-groups"))
        start = self.lines.section("dependency-groups")
        known: dict[str, str] = {canonicalize_name(g): g for g in groups}
        for group, entries in groups.items():
            self._requirements(array(entries), group, start)
            for entry in array(entries):
                if isinstance(entry, dict) and "include-group" in entry:
                    self._check_include(group, str(entry["include-group"]), groups, known)

    def _check_include(
        self, group: str, target: str, groups: dict[str, Any], known: dict[str, str]
    ) -> None:
        line = self.lines.find(target, self.lines.section("dependency-groups"))
        seen = [canonicalize_name(group)]
        name = canonicalize_name(target)
        while True:
            if name not in known:
                self.result.issues.append(
                    SourceIssue(
                        self.display,
                        line,
                        f"group {quote(group)} includes unknown group {quote(target)}",
                        IssueKind.MISSING_INCLUDE,
                    )
                )
                return
            if name in seen:
                self.result.issues.append(
                    SourceIssue(
                        self.display,
                        line,
                        f"group {quote(group)} includes itself through "
                        f"{quote(target)} (an include cycle)",
                        IssueKind.INCLUDE_CYCLE,
                    )
                )
                return
            seen.append(name)
            # Follow the first include of the included group; one path finds a cycle.
            nested = [
                e["include-group"]
                for e in array(groups[known[name]])
                if isinstance(e, dict) and isinstance(e.get("include-group"), str)
            ]
            if not nested or len(seen) > 64:
                return
            name = canonicalize_name(nested[0])

    def _poetry(self) -> None:
        extras = table(self.poetry.get("extras"))
        extra_of: dict[str, str] = {
            canonicalize_name(str(p)): extra
            for extra, packages in extras.items()
            for p in array(packages)
        }
        project = table(self.data.get("project"))
        declared = {d.canonical for d in self.result.dependencies if d.group is None}
        main = table(self.poetry.get("dependencies"))
        skip = declared if array(project.get("dependencies")) else set()
        self._poetry_table(main, "tool.poetry.dependencies", None, extra_of, skip)
        self._poetry_table(
            table(self.poetry.get("dev-dependencies")),
            "tool.poetry.dev-dependencies",
            "dev",
            {},
            set(),
        )
        for group, body in table(self.poetry.get("group")).items():
            self._poetry_table(
                table(table(body).get("dependencies")),
                f"tool.poetry.group.{group}.dependencies",
                group,
                {},
                set(),
            )

    def _poetry_table(
        self,
        deps: dict[str, Any],
        header: str,
        group: str | None,
        extra_of: dict[str, str],
        skip: set[str],
    ) -> None:
        start = self.lines.section(header)
        for name, value in deps.items():
            canonical = canonicalize_name(name)
            if canonical == "python" or canonical in skip or canonical == self.own:
                continue
            line = self.lines.key(name, start)
            in_group = group if group is not None else extra_of.get(canonical)
            for entry in value if isinstance(value, list) else [value]:
                self._poetry_entry(name, entry, line, in_group)

    def _poetry_entry(self, name: str, value: object, line: int | None, group: str | None) -> None:
        spec: dict[str, Any] = {"version": value} if isinstance(value, str) else table(value)
        markers = [m for m in (spec.get("markers"),) if isinstance(m, str) and m]
        if isinstance(spec.get("python"), str):
            try:
                python = python_marker(spec["python"])
            except ConstraintError:
                python = None
            if python:
                markers.append(f"({python})" if " or " in python else python)
        marker = " and ".join(markers) or None
        extras = tuple(sorted(str(e) for e in array(spec.get("extras"))))
        reference = _poetry_reference(spec)
        if reference is not None:
            self.result.issues.append(unverifiable(self.display, line, name, reference))
            self.result.dependencies.append(
                Dependency.create(
                    name,
                    source=self.display,
                    line=line,
                    marker=marker,
                    extras=extras,
                    url=reference,
                    group=group,
                )
            )
            return
        constraint = spec.get("version", "*")
        try:
            alternatives = poetry_to_pep440(str(constraint))
        except ConstraintError as exc:
            self.result.issues.append(
                SourceIssue(self.display, line, f"{name}: {exc}", IssueKind.UNPARSABLE)
            )
            return
        for specifier in alternatives:
            self.result.dependencies.append(
                Dependency.create(
                    name,
                    source=self.display,
                    line=line,
                    version=pinned_version(SpecifierSet(specifier)),
                    specifier=specifier,
                    marker=marker,
                    extras=extras,
                    group=group,
                )
            )

    def _uv(self) -> None:
        start = self.lines.section("tool.uv")
        self._requirements(array(self.uv.get("dev-dependencies")), "dev", start)
        sources: dict[str, dict[str, Any]] = {
            canonicalize_name(k): table(v) for k, v in table(self.uv.get("sources")).items()
        }
        if not sources:
            return
        rewritten = []
        for dep in self.result.dependencies:
            source = sources.get(dep.canonical, {})
            reference = _uv_reference(source)
            if reference is None or dep.url is not None:
                rewritten.append(dep)
                continue
            self.result.issues.append(unverifiable(self.display, dep.line, dep.name, reference))
            rewritten.append(replace(dep, url=reference, version=None, pinned=False))
        self.result.dependencies = rewritten


def _poetry_reference(spec: dict[str, Any]) -> str | None:
    if isinstance(spec.get("git"), str):
        ref = next(
            (spec[k] for k in ("rev", "tag", "branch") if isinstance(spec.get(k), str)), None
        )
        return f"git+{spec['git']}" + (f"@{ref}" if ref else "")
    for key in ("path", "url", "file"):
        if isinstance(spec.get(key), str):
            return str(spec[key])
    return None


def _uv_reference(source: dict[str, Any]) -> str | None:
    if isinstance(source.get("git"), str):
        ref = next(
            (source[k] for k in ("rev", "tag", "branch") if isinstance(source.get(k), str)), None
        )
        return f"git+{source['git']}" + (f"@{ref}" if ref else "")
    for key in ("path", "url"):
        if isinstance(source.get(key), str):
            return str(source[key])
    return None
