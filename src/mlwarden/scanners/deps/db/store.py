"""The advisory database that scans query: open it, look packages up.

:meth:`AdvisoryDatabase.open` accepts what ``--db`` may name (CONTRACT.md): a compiled
database file, a directory of OSV records (JSON or YAML, any depth) or an OSV ``all.zip``.
Directories and zips are compiled on first use into the cache (see
:mod:`mlwarden.scanners.deps.db.paths`) and compiled again only when they change, so a second
scan is warm. With no path, the database ``mlwarden db update`` wrote is used, and when there
is none, the curated ML advisories shipped in the package.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name

from mlwarden.scanners.deps.db.compile import (
    CompileError,
    CompileSummary,
    collect,
    compile_database,
    fill_database,
    parse_record_bytes,
)
from mlwarden.scanners.deps.db.paths import (
    compiled_path_for,
    default_database_path,
    source_fingerprint,
)
from mlwarden.scanners.deps.db.schema import FORMAT, SQLITE_MAGIC
from mlwarden.scanners.deps.db.status import DatabaseInfo, parse_timestamp
from mlwarden.scanners.deps.errors import DatabaseError as DatabaseError
from mlwarden.scanners.deps.matching import (
    RecordMatcher,
    Vulnerability,
    affected_versions,
    match,
    select_fix,
)
from mlwarden.scanners.deps.osv import Advisory, parse_version

CURATED_SOURCE = "curated ML advisories shipped with mlwarden"


def _is_compiled(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    except OSError:
        return False


def _read_meta(connection: sqlite3.Connection, where: str) -> dict[str, str]:
    try:
        meta = dict(connection.execute("SELECT key, value FROM meta").fetchall())
    except sqlite3.DatabaseError as exc:
        raise DatabaseError(f"{where} is not an mlwarden advisory database ({exc})") from None
    if meta.get("format") != FORMAT:
        raise DatabaseError(
            f"{where} was written by another version of mlwarden "
            f"({meta.get('format', 'unknown format')}); run `mlwarden db update` again"
        )
    return meta


class AdvisoryDatabase:
    """A read-only view of compiled advisories, with per-package lookups cached."""

    def __init__(
        self, connection: sqlite3.Connection, info: DatabaseInfo, notes: Sequence[str] = ()
    ) -> None:
        self._connection = connection
        self._info = info
        self._records: dict[str, list[RecordMatcher]] = {}
        self.notes = tuple(notes)
        """Notes kept at compile time: events read as their leading version, and the like."""

    # -- opening -----------------------------------------------------------------------------

    @classmethod
    def open(cls, path: Path | None = None) -> AdvisoryDatabase:
        """Open the database ``path`` names, or the default one (see the module docstring).

        ``DatabaseError`` when ``path`` does not exist or holds nothing usable.
        """
        if path is None:
            default = default_database_path()
            if default.is_file():
                return cls._open_compiled(default)
            return cls.curated()
        if not path.exists():
            raise DatabaseError(f"vulnerability database {path} does not exist")
        if path.is_file() and _is_compiled(path):
            return cls._open_compiled(path)
        return cls._open_source(path)

    @classmethod
    def _open_compiled(cls, path: Path) -> AdvisoryDatabase:
        try:
            connection = sqlite3.connect(
                f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False
            )
            meta = _read_meta(connection, str(path))
        except sqlite3.Error as exc:
            raise DatabaseError(f"cannot open the advisory database {path}: {exc}") from None
        info = DatabaseInfo(
            path=path,
            source=meta.get("source", "unknown"),
            records=int(meta.get("records", 0)),
            packages=int(meta.get("packages", 0)),
            built_at=parse_timestamp(meta.get("built_at")),
            withdrawn=int(meta.get("withdrawn", 0)),
            skipped=int(meta.get("skipped_count", 0)),
            warnings=int(meta.get("warnings_count", 0)),
        )
        return cls(connection, info, json.loads(meta.get("warnings", "[]")))

    @classmethod
    def _open_source(cls, source: Path) -> AdvisoryDatabase:
        compiled = compiled_path_for(source)
        fingerprint = source_fingerprint(source)
        if compiled.is_file():
            try:
                warm = cls._open_compiled(compiled)
                if warm.fingerprint() == fingerprint:
                    return warm
                warm.close()
            except DatabaseError:
                pass  # an unreadable cache entry is simply rebuilt
        try:
            compile_database(source, compiled, fingerprint=fingerprint)
        except CompileError as exc:
            raise DatabaseError(str(exc)) from None
        return cls._open_compiled(compiled)

    @classmethod
    def curated(cls) -> AdvisoryDatabase:
        """The curated ML advisories shipped in the package, compiled in memory."""
        summary = CompileSummary(source=CURATED_SOURCE)
        outcomes = []
        folder = resources.files("mlwarden.scanners.deps.db") / "curated"
        for entry in sorted(folder.iterdir(), key=lambda e: e.name):
            if entry.name.endswith(".json"):
                outcomes.extend(parse_record_bytes(entry.name, entry.read_bytes()))
        records = collect(outcomes, summary)
        if not records:
            raise DatabaseError("the curated advisories are missing from this installation")
        newest = max((r["modified"] or "" for r in records), default="")
        summary.built_at = newest
        summary.files = len(outcomes)
        connection = sqlite3.connect(":memory:", check_same_thread=False)
        fill_database(connection, records, summary)
        info = DatabaseInfo(
            path=None,
            source=CURATED_SOURCE,
            records=summary.records,
            packages=summary.packages,
            built_at=parse_timestamp(newest),
            withdrawn=summary.withdrawn,
            skipped=len(summary.skipped),
            warnings=len(summary.warnings),
            curated=True,
        )
        return cls(connection, info, summary.warnings)

    def close(self) -> None:
        """Close the underlying connection."""
        self._connection.close()

    def __enter__(self) -> AdvisoryDatabase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- queries -----------------------------------------------------------------------------

    def info(self) -> DatabaseInfo:
        """Counts, source and age of the data."""
        return self._info

    def fingerprint(self) -> str:
        """The fingerprint of the source this database was compiled from ("" if none)."""
        row = self._connection.execute("SELECT value FROM meta WHERE key='fingerprint'").fetchone()
        return str(row[0]) if row else ""

    def records(self, name: str) -> list[RecordMatcher]:
        """Every record that names the package (canonicalised here), ready to match."""
        canonical = canonicalize_name(name)
        cached = self._records.get(canonical)
        if cached is not None:
            return cached
        rows: list[tuple[str, str, str]] = self._connection.execute(
            "SELECT r.body, g.shown, g.ids FROM affects a "
            "JOIN records r ON r.rowid = a.record JOIN groups g ON g.grp = r.grp "
            "WHERE a.package = ? ORDER BY r.id",
            (canonical,),
        ).fetchall()
        group_ids: dict[str, list[str]] = {}
        matchers = []
        for body, shown, ids in rows:
            advisory = Advisory.from_json(json.loads(body))
            members = group_ids.setdefault(shown, json.loads(ids))
            matchers.append(RecordMatcher(advisory, canonical, shown, members))
        self._records[canonical] = matchers
        return matchers

    def vulnerabilities(self, name: str, version: str) -> list[Vulnerability]:
        """The vulnerabilities that affect ``name`` at ``version``, one per alias group."""
        records = self.records(name)
        if not records:
            return []
        return match(records, version)

    def fix(self, name: str, version: str, vulnerabilities: Sequence[Vulnerability]) -> str | None:
        """The smallest version above ``version`` that fixes all ``vulnerabilities``, or None."""
        if not vulnerabilities:
            return None
        return select_fix(self.records(name), version, vulnerabilities)

    def admitted(self, name: str, specifier: str) -> list[tuple[str, list[Vulnerability]]]:
        """The vulnerable versions a range admits, with their vulnerabilities.

        The versions considered are those the package's advisories name (range events and
        versions lists) and those the specifier names itself (``>=2.0`` admits ``2.0``); a
        version counts when ``specifier`` contains it under PEP 440's rules (pre-releases only
        when the specifier names one). Sorted by version. ``ValueError`` for a specifier that
        is not PEP 440.
        """
        try:
            spec = SpecifierSet(specifier)
        except InvalidSpecifier:
            raise ValueError(f"not a PEP 440 version specifier: {specifier!r}") from None
        records = self.records(name)
        if not records:
            return []
        candidates = {parse_version(v): v for v in affected_versions(records)}
        for clause in spec:
            bound = parse_version(clause.version)
            if bound is not None and clause.operator in ("==", "===", ">=", "~=", "<="):
                candidates.setdefault(bound, clause.version)
        found = []
        for key in sorted(k for k in candidates if k is not None):
            version = candidates[key]
            if spec.contains(version):
                vulnerabilities = match(records, version)
                if vulnerabilities:
                    found.append((version, vulnerabilities))
        return found

    def packages(self) -> list[str]:
        """Canonical names of every package with an advisory (sorted)."""
        return [
            str(row[0])
            for row in self._connection.execute("SELECT DISTINCT package FROM affects ORDER BY 1")
        ]

    def record_ids(self) -> list[str]:
        """Ids of every record that can match (withdrawn records are not kept)."""
        return [str(r[0]) for r in self._connection.execute("SELECT id FROM records ORDER BY 1")]

    def skipped_files(self) -> list[tuple[str, str]]:
        """The files compilation skipped, with the reason (up to the first 500)."""
        row = self._connection.execute("SELECT value FROM meta WHERE key='skipped'").fetchone()
        data: Any = json.loads(row[0]) if row else []
        return [(str(name), str(reason)) for name, reason in data]
