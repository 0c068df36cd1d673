"""pip requirements files, with their ``-r`` and ``-c`` includes.

The format (pip's "Requirements File Format"): one requirement or option per line; a line
ending in ``\\`` continues on the next; ``#`` at the start of a line, or after whitespace, starts
a comment; per-requirement options (``--hash``) follow the requirement. ``-r FILE`` includes
another requirements file and ``-c FILE`` a constraints file, both relative to the including
file. Every included file is read: packages from includes are never skipped.

Constraints limit what is installed without asking for it. A constraint on a package that a
requirement names narrows that requirement (a pinned constraint makes it a pin, and the
constraint is not reported again); a constraint on a package no requirement names is kept as
its own entry, since such pins usually fix indirect dependencies.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from mlwarden.scanners.deps.model import (
    Dependency,
    IssueKind,
    SourceError,
    SourceIssue,
    SourceResult,
    SourceTooLarge,
)
from mlwarden.scanners.deps.sources.pep508 import (
    parse_requirement,
    pinned_version,
    quote,
    read_source,
    unverifiable,
)
from mlwarden.scanners.deps.sources.requirements_syntax import (
    FLAG_OPTIONS,
    INCLUDE_OPTIONS,
    PER_REQUIREMENT_OPTIONS,
    VALUED_OPTIONS,
    is_direct_reference,
    logical_lines,
    name_of_reference,
    uncomment,
)

FORMAT = "requirements"

#: How deep ``-r``/``-c`` includes may nest, and how many files one source may pull in.
MAX_INCLUDE_DEPTH = 16
MAX_INCLUDED_FILES = 256


@dataclass(slots=True)
class _Reader:
    """Reads one top-level requirements file and everything it includes."""

    origin: str
    root: Path | None
    result: SourceResult = field(default_factory=lambda: SourceResult(FORMAT))
    constraints: list[Dependency] = field(default_factory=list)
    visited: set[tuple[Path, bool]] = field(default_factory=set)
    files: int = 0

    def read_lines(
        self,
        lines: Iterable[tuple[int, str]],
        *,
        base: Path,
        display: str,
        constraint: bool,
        stack: tuple[Path, ...],
    ) -> None:
        for number, line in lines:
            if not line:
                continue
            if line.startswith("-"):
                self._option_line(line, number, base, display, constraint, stack)
            else:
                self._requirement_line(line, number, display, constraint)

    def _option_line(
        self,
        line: str,
        number: int,
        base: Path,
        display: str,
        constraint: bool,
        stack: tuple[Path, ...],
    ) -> None:
        tokens = line.split()
        i = 0
        while i < len(tokens):
            token = tokens[i]
            option, _, value = token.partition("=") if token.startswith("--") else (token, "", "")
            if option[:2] in ("-r", "-c", "-e") and len(option) > 2 and not option.startswith("--"):
                option, value = option[:2], option[2:]  # "-rbase.txt"
            takes_value = (
                option in INCLUDE_OPTIONS
                or option in VALUED_OPTIONS
                or option in ("-e", "--editable")
            )
            if takes_value and not value:
                i += 1
                if i >= len(tokens):
                    self._issue(
                        display, number, f"option {option} has no value", IssueKind.UNPARSABLE
                    )
                    return
                value = tokens[i]
            i += 1
            if option in INCLUDE_OPTIONS:
                nested = constraint or INCLUDE_OPTIONS[option] == "constraint"
                self._include(value, number, base, display, nested, stack)
            elif option in ("-e", "--editable"):
                self._direct_reference(value, number, display, constraint)
            elif option not in VALUED_OPTIONS and option not in FLAG_OPTIONS:
                self._issue(
                    display, number, f"unknown option {quote(option)}", IssueKind.UNPARSABLE
                )
                return

    def _requirement_line(self, line: str, number: int, display: str, constraint: bool) -> None:
        tokens = line.split()
        cut = next((i for i, t in enumerate(tokens) if t.startswith("-")), len(tokens))
        spec = " ".join(tokens[:cut])
        hashes: list[str] = []
        options = tokens[cut:]
        i = 0
        while i < len(options):
            option, _, value = options[i].partition("=")
            if option not in PER_REQUIREMENT_OPTIONS:
                self._issue(
                    display,
                    number,
                    f"unknown option {quote(option)} after a requirement",
                    IssueKind.UNPARSABLE,
                )
                return
            if not value and i + 1 < len(options):
                i += 1
                value = options[i]
            if option == "--hash" and value:
                hashes.append(value)
            i += 1
        if is_direct_reference(spec):
            self._direct_reference(spec, number, display, constraint)
            return
        dependency, issue = parse_requirement(
            spec, source=display, line=number, origin=self.origin, hashes=tuple(hashes)
        )
        if issue is not None:
            self.result.issues.append(issue)
        if dependency is not None:
            self._add(dependency, constraint)

    def _direct_reference(self, spec: str, number: int, display: str, constraint: bool) -> None:
        url, _, marker = spec.partition("; ")
        url = url.strip()
        name = name_of_reference(url)
        self.result.issues.append(unverifiable(display, number, name, url))
        if name is None:
            return
        dependency = Dependency.create(
            name,
            source=display,
            line=number,
            origin=self.origin,
            url=url,
            marker=marker.strip() or None,
        )
        self._add(dependency, constraint)

    def _add(self, dependency: Dependency, constraint: bool) -> None:
        if constraint:
            self.constraints.append(replace(dependency, constrained_by=dependency.location))
        else:
            self.result.dependencies.append(dependency)

    def _include(
        self,
        target: str,
        number: int,
        base: Path,
        display: str,
        constraint: bool,
        stack: tuple[Path, ...],
    ) -> None:
        what = "constraints file" if constraint else "requirements file"
        if "://" in target:
            self._issue(
                display,
                number,
                f"{what} {quote(target)} is a URL; it was not read",
                IssueKind.UNVERIFIABLE,
            )
            return
        path = (base / target).resolve()
        shown = _display_join(display, target)
        if path in stack:
            self._issue(
                display,
                number,
                f"{what} {quote(target)} includes itself again (an include cycle); not read twice",
                IssueKind.INCLUDE_CYCLE,
            )
            return
        if (path, constraint) in self.visited:
            return  # already read through another include: its entries are in the result
        if len(stack) > MAX_INCLUDE_DEPTH or self.files >= MAX_INCLUDED_FILES:
            self._issue(
                display,
                number,
                f"{what} {quote(target)} not read: more than "
                f"{MAX_INCLUDE_DEPTH} levels or {MAX_INCLUDED_FILES} files of "
                "includes",
                IssueKind.LIMIT,
            )
            return
        if self.root is not None and not path.is_relative_to(self.root):
            self._issue(
                display,
                number,
                f"{what} {quote(target)} is outside the scanned tree; it was not read",
                IssueKind.MISSING_INCLUDE,
            )
            return
        if not path.is_file():
            self._issue(
                display,
                number,
                f"{what} {quote(target)} does not exist or is not a regular file",
                IssueKind.MISSING_INCLUDE,
            )
            return
        try:
            text = read_source(path, None, shown)
        except SourceError as exc:
            kind = IssueKind.LIMIT if isinstance(exc, SourceTooLarge) else IssueKind.UNPARSABLE
            self._issue(display, number, f"{what} {quote(target)}: {exc}", kind)
            return
        self.visited.add((path, constraint))
        self.files += 1
        self.read_lines(
            logical_lines(text),
            base=path.parent,
            display=shown,
            constraint=constraint,
            stack=(*stack, path),
        )

    def _issue(self, display: str, line: int | None, message: str, kind: IssueKind) -> None:
        self.result.issues.append(SourceIssue(display, line, message, kind))

    def finish(self) -> SourceResult:
        """Apply constraints to the requirements they name and keep the others."""
        by_name: dict[str, Dependency] = {}
        for constraint in self.constraints:
            by_name.setdefault(constraint.canonical, constraint)
        used: set[str] = set()
        merged: list[Dependency] = []
        for dep in self.result.dependencies:
            entry = by_name.get(dep.canonical)
            if entry is None or dep.pinned or dep.url is not None or entry.url is not None:
                merged.append(dep)
                continue
            used.add(dep.canonical)
            merged.append(_narrow(dep, entry))
        merged.extend(c for c in self.constraints if c.canonical not in used)
        self.result.dependencies = merged
        return self.result


def _narrow(requirement: Dependency, constraint: Dependency) -> Dependency:
    """A requirement as its constraint narrows it: pinned by it, or within both ranges."""
    try:
        both = SpecifierSet(requirement.specifier) & SpecifierSet(constraint.specifier)
    except InvalidSpecifier:
        both = SpecifierSet(constraint.specifier)
    version = constraint.version or pinned_version(both)
    return replace(
        requirement,
        specifier=str(both),
        version=version,
        pinned=version is not None,
        constrained_by=constraint.location,
    )


def _display_join(display: str, target: str) -> str:
    target = target.replace("\\", "/")
    if posixpath.isabs(target):
        return target
    return posixpath.normpath(posixpath.join(posixpath.dirname(display), target))


def parse_requirements(
    path: Path, text: str | None = None, *, display: str | None = None, root: Path | None = None
) -> SourceResult:
    """Read a requirements (or constraints) file and every file it includes."""
    shown = display if display is not None else str(path)
    content = read_source(path, text, shown)
    resolved = path.resolve()
    reader = _Reader(origin=shown, root=root.resolve() if root is not None else None)
    reader.visited.add((resolved, False))
    reader.read_lines(
        logical_lines(content),
        base=resolved.parent,
        display=shown,
        constraint=False,
        stack=(resolved,),
    )
    return reader.finish()


def parse_requirement_lines(
    lines: Iterable[tuple[int, str]],
    *,
    base: Path,
    display: str,
    format: str = FORMAT,
    root: Path | None = None,
) -> SourceResult:
    """Read requirement lines held in another file (a conda environment's ``pip:`` list).

    Includes are relative to ``base``; ``display`` names the file the lines are in.
    """
    reader = _Reader(
        origin=display,
        root=root.resolve() if root is not None else None,
        result=SourceResult(format),
    )
    cleaned = ((number, uncomment(line)) for number, line in lines)
    reader.read_lines(cleaned, base=base.resolve(), display=display, constraint=False, stack=())
    return reader.finish()
