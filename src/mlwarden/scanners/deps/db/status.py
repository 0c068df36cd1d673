"""What a database holds and how old it is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

#: Data older than this is called stale: scans and ``mlwarden db status`` warn.
STALE_AFTER = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class DatabaseInfo:
    """Counts and provenance of an advisory database.

    ``path`` is the compiled file (``None`` for the curated advisories, read in memory);
    ``source`` is where the records came from (a URL, a path, or the curated set);
    ``records`` counts advisories that can match (withdrawn ones are counted apart);
    ``skipped`` counts files that were not read as records, and ``warnings`` the notes on
    records read in a documented but unusual way (invalid versions in events).
    """

    path: Path | None
    source: str
    records: int
    packages: int
    built_at: datetime | None
    withdrawn: int = 0
    skipped: int = 0
    warnings: int = 0
    curated: bool = False

    @property
    def age(self) -> timedelta | None:
        """How long ago the database was built (``None`` when unknown)."""
        if self.built_at is None:
            return None
        return datetime.now(UTC) - self.built_at

    @property
    def stale(self) -> bool:
        """Whether the data is older than :data:`STALE_AFTER`."""
        age = self.age
        return age is not None and age > STALE_AFTER

    def warning(self) -> str | None:
        """What a scan should warn about this database, if anything."""
        if self.curated:
            return (
                f"only the {self.records} curated ML advisories shipped with mlwarden were "
                "checked; run `mlwarden db update` for every PyPI advisory"
            )
        if self.stale:
            return (
                f"the advisory database is {describe_age(self.age)} old (built "
                f"{self.built_at:%Y-%m-%d}); run `mlwarden db update`"
            )
        return None

    def lines(self) -> list[str]:
        """A short description, one fact a line, for ``mlwarden db status``."""
        built = (
            f"{self.built_at:%Y-%m-%d %H:%M:%S} UTC ({describe_age(self.age)} ago)"
            if self.built_at is not None
            else "unknown"
        )
        return [
            f"database: {self.path if self.path is not None else '(built in, read in memory)'}",
            f"source:   {self.source}",
            f"built:    {built}",
            f"records:  {self.records} advisories for {self.packages} packages"
            + (f" ({self.withdrawn} withdrawn, never matched)" if self.withdrawn else ""),
            f"skipped:  {self.skipped} files; {self.warnings} records with notes",
        ]


def describe_age(age: timedelta | None) -> str:
    """An age in words: ``3 days``, ``5 hours``, ``12 minutes``."""
    if age is None:
        return "an unknown time"
    seconds = max(0, int(age.total_seconds()))
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return "less than a minute"


def parse_timestamp(text: str | None) -> datetime | None:
    """An RFC 3339 UTC timestamp (``2025-01-02T03:04:05Z``), or ``None``."""
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
