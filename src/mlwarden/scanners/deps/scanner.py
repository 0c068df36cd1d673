"""The dependency scanner: dependency files in, known vulnerabilities out.

Every pinned or locked dependency is matched against the advisory database (MW200); ranges
are reported with the vulnerable releases they admit (MW201); URLs, VCS references and local
paths cannot be matched (MW202); parts of a file that could not be read are MW203.

The database is opened once per process and per ``--db`` value, not once per file.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from mlwarden.findings import Finding, Severity
from mlwarden.scanners import register
from mlwarden.scanners.deps.db import AdvisoryDatabase, DatabaseError
from mlwarden.scanners.deps.matching import Vulnerability
from mlwarden.scanners.deps.model import Dependency, IssueKind, SourceError, SourceResult
from mlwarden.scanners.deps.sources import parse_source
from mlwarden.scanners.interface import Artifact, FormatError, ScanContext, Scanner
from mlwarden.sniff import DEPENDENCY_KINDS

#: How many vulnerable releases of a range are listed in a finding's evidence.
MAX_ADMITTED_LISTED = 20

_databases: dict[str, AdvisoryDatabase] = {}
_lock = threading.Lock()


def open_database(path: str | None) -> AdvisoryDatabase:
    """The advisory database for ``--db`` (``None``: the default one), opened once."""
    key = path or ""
    with _lock:
        database = _databases.get(key)
        if database is None:
            database = AdvisoryDatabase.open(Path(path) if path else None)
            _databases[key] = database
        return database


@register
class DependencyScanner(Scanner):
    """Requirements files, pyproject.toml, lock files and conda environments."""

    name: ClassVar[str] = "dependencies"
    kinds = DEPENDENCY_KINDS

    def scan(self, artifact: Artifact, context: ScanContext) -> Iterator[Finding]:
        yield from self.match(artifact, context, self._read(artifact, context))

    def match(
        self, artifact: Artifact, context: ScanContext, source: SourceResult
    ) -> Iterator[Finding]:
        """The findings for dependencies already read from ``artifact``."""
        db_option = context.options.get("db")
        try:
            database = open_database(str(db_option) if db_option else None)
        except DatabaseError as exc:
            raise FormatError(f"cannot open the vulnerability database: {exc}") from None
        warning = database.info().warning()
        if warning:
            context.warnings.append(warning)
        for issue in source.issues:
            yield self._issue_finding(artifact, issue.path, issue.line, issue.message, issue.kind)
        for dependency in source.dependencies:
            context.check_time()
            if dependency.url is not None:
                continue  # reported as unverifiable through the source's issues
            if dependency.version is not None:
                yield from self._pinned(artifact, database, dependency, source.format)
            elif dependency.specifier:
                yield from self._range(artifact, database, dependency, source.format)

    @staticmethod
    def _read(artifact: Artifact, context: ScanContext) -> SourceResult:
        limit = context.limits.max_metadata_bytes
        if artifact.size > limit:
            raise FormatError(f"dependency file of {artifact.size} bytes is over {limit}")
        text = artifact.read_at_most(limit + 1).decode("utf-8", "replace")
        # On disk, includes (-r) are found relative to the real file; inside an archive there
        # is no directory to look in, and the member name stands for the path.
        path = Path(artifact.fs_path) if artifact.fs_path else Path(artifact.member or "x")
        shown = _shown(artifact)
        try:
            return parse_source(path, text, display=shown, format=artifact.kind.value)
        except SourceError as exc:
            raise FormatError(str(exc)) from None

    def _pinned(
        self, artifact: Artifact, database: AdvisoryDatabase, dep: Dependency, fmt: str
    ) -> Iterator[Finding]:
        version = dep.version or ""
        vulnerabilities = database.vulnerabilities(dep.canonical, version)
        if not vulnerabilities:
            return
        fix = database.fix(dep.canonical, version, vulnerabilities)
        for vuln in vulnerabilities:
            fixed = ", ".join(vuln.fixed_in) or "no fixed release"
            clears = (
                f"; {fix} fixes all {len(vulnerabilities)} known"
                if fix and len(vulnerabilities) > 1
                else ""
            )
            message = (
                f"{dep.name} {version} is affected by {vuln.id}"
                f"{_aka(vuln)}: {vuln.summary or 'no summary'} (fixed in: {fixed}{clears})"
            )
            evidence = _evidence(dep, fmt, vuln, fix)
            yield _located(self, artifact, dep, "MW200", message, vuln.severity, evidence, vuln)

    def _range(
        self, artifact: Artifact, database: AdvisoryDatabase, dep: Dependency, fmt: str
    ) -> Iterator[Finding]:
        try:
            admitted = database.admitted(dep.canonical, dep.specifier)
        except ValueError:
            return  # not PEP 440 (reported by the source as unparsable where it matters)
        if not admitted:
            return
        ids: dict[str, Vulnerability] = {}
        for _version, vulns in admitted:
            for vuln in vulns:
                ids.setdefault(vuln.id, vuln)
        versions = [version for version, _vulns in admitted]
        newest_vulns = admitted[-1][1]
        fix = database.fix(dep.canonical, admitted[-1][0], newest_vulns)
        shown = ", ".join(versions[:5]) + (" ..." if len(versions) > 5 else "")
        message = (
            f"{dep.name}{dep.specifier} admits {len(versions)} vulnerable release(s) "
            f"({shown}) with {len(ids)} known vulnerabilit{'y' if len(ids) == 1 else 'ies'}"
        )
        worst = max(v.severity for v in ids.values())
        evidence: dict[str, object] = {
            "package": dep.canonical,
            "version": None,
            "specifier": dep.specifier,
            "id": sorted(ids)[0],
            "ids": sorted(ids),
            "aliases": sorted({a for v in ids.values() for a in v.aliases}),
            "admitted": versions[:MAX_ADMITTED_LISTED],
            "admitted_count": len(versions),
            "fixed_in": sorted({f for v in ids.values() for f in v.fixed_in}),
            "fix": fix,
            "source": dep.source,
            "marker": dep.marker,
            "group": dep.group,
            "format": fmt,
            "worst_severity": worst.value,
        }
        severity = min(worst, Severity.MEDIUM)
        yield _located(self, artifact, dep, "MW201", message, severity, evidence, None)

    def _issue_finding(
        self, artifact: Artifact, path: str, line: int | None, message: str, kind: IssueKind
    ) -> Finding:
        rule = "MW202" if kind is IssueKind.UNVERIFIABLE else "MW203"
        finding = self.finding(
            artifact,
            rule,
            message,
            evidence={"source": path, "issue": kind.value},
            key=f"{path}:{line}:{message}",
            line=line,
        )
        return _moved(finding, path, artifact)


def scan_environment(
    python: str, context: ScanContext, *, display: str | None = None
) -> list[Finding]:
    """Findings for the distributions installed for the interpreter ``python``.

    The interpreter is run only to print its ``sys.path``; the metadata of what is installed
    is read from disk. Locations name the interpreter (``display``, default ``python``).
    Raises :class:`~mlwarden.scanners.deps.model.EnvironmentProbeError` when it cannot run.
    """
    import io

    from mlwarden.scanners.deps.sources import installed_environment
    from mlwarden.sniff import Kind

    source = installed_environment(python)
    shown = display or python
    artifact = Artifact(path=shown, kind=Kind.REQUIREMENTS, size=0, opener=lambda: io.BytesIO(b""))
    dependencies = [dataclasses.replace(d, source=shown) for d in source.dependencies]
    issues = [dataclasses.replace(i, path=shown) for i in source.issues]
    relocated = SourceResult(source.format, dependencies, issues)
    return list(DependencyScanner().match(artifact, context, relocated))


def _shown(artifact: Artifact) -> str:
    """How a dependency file is named in findings: ``path`` or ``path!member``."""
    return artifact.path if artifact.member is None else f"{artifact.path}!{artifact.member}"


def _aka(vuln: Vulnerability) -> str:
    return f" (also {', '.join(vuln.aliases[:3])})" if vuln.aliases else ""


def _evidence(dep: Dependency, fmt: str, vuln: Vulnerability, fix: str | None) -> dict[str, object]:
    return {
        "package": dep.canonical,
        "version": dep.version,
        "id": vuln.id,
        "aliases": list(vuln.aliases),
        "fixed_in": list(vuln.fixed_in),
        "fix": fix,
        "source": dep.source,
        "marker": dep.marker,
        "group": dep.group,
        "format": fmt,
        "summary": vuln.summary,
        "cvss": vuln.cvss,
        "score": vuln.score,
        "severity_basis": vuln.severity_basis,
        "records": list(vuln.records),
        "constrained_by": dep.constrained_by,
    }


def _located(
    scanner: Scanner,
    artifact: Artifact,
    dep: Dependency,
    rule: str,
    message: str,
    severity: Severity,
    evidence: dict[str, object],
    vuln: Vulnerability | None,
) -> Finding:
    key = f"{dep.canonical}:{dep.version or dep.specifier}:{vuln.id if vuln else 'range'}"
    finding = scanner.finding(
        artifact, rule, message, severity=severity, evidence=evidence, key=key, line=dep.line
    )
    return _moved(finding, dep.source, artifact)


def _moved(finding: Finding, source: str, artifact: Artifact) -> Finding:
    """Place a finding in the file that declared the dependency (an ``-r`` include, say)."""
    own = _shown(artifact)
    if source == own:
        return finding
    location = dataclasses.replace(finding.location, path=source, member=None)
    return dataclasses.replace(finding, location=location)
