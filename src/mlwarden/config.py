"""Configuration: ``mlwarden.toml`` or ``[tool.mlwarden]`` in ``pyproject.toml``."""

from __future__ import annotations

import datetime as dt
import fnmatch
from dataclasses import dataclass, field
from pathlib import Path

from mlwarden.findings import Severity
from mlwarden.scanners.interface import Limits


class ConfigError(ValueError):
    """The configuration is invalid; the message says where and how to fix it."""


@dataclass(frozen=True, slots=True)
class Suppression:
    """Hide findings of ``rule`` (``*`` for any) at paths matching ``path`` (a glob).

    A reason is required; past ``expires`` the suppression stops applying and says so.
    """

    rule: str
    reason: str
    path: str = "*"
    fingerprint: str | None = None
    expires: dt.date | None = None

    def expired(self, today: dt.date | None = None) -> bool:
        return self.expires is not None and (today or dt.date.today()) > self.expires

    def matches(self, rule: str, path: str, fingerprint: str) -> bool:
        if self.fingerprint is not None and self.fingerprint != fingerprint:
            return False
        if self.rule not in ("*", rule):
            return False
        return fnmatch.fnmatch(path, self.path)


@dataclass(frozen=True, slots=True)
class Config:
    """Everything that shapes a scan besides its targets."""

    fail_on: Severity | None = Severity.HIGH
    limits: Limits = field(default_factory=Limits)
    exclude: tuple[str, ...] = ()
    suppressions: tuple[Suppression, ...] = ()
    baseline: Path | None = None
    source: Path | None = None  # the file this configuration was read from

    def is_excluded(self, path: str) -> bool:
        """Whether a file is left out by an ``exclude`` glob."""
        norm = path.replace("\\", "/")
        return any(
            fnmatch.fnmatch(norm, pattern) or fnmatch.fnmatch(Path(norm).name, pattern)
            for pattern in self.exclude
        )
