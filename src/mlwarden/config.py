"""Configuration: ``mlwarden.toml`` or ``[tool.mlwarden]`` in ``pyproject.toml``.

The configuration in use comes from ``--config FILE`` or from the current working directory,
never from a scanned tree: a repository under scan is untrusted and must not be able to
suppress its own findings (see rule MW003).

Every key is checked. A typo is an error that names the key and the file, never a silently
ignored setting; a bad value says which key and what was expected.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlwarden.findings import Severity
from mlwarden.scanners.interface import Limits

if TYPE_CHECKING:
    # Dates are read only from configurations with suppressions: loaded where they are.
    import datetime as dt

#: File names that hold a configuration, in the order they are looked for.
CONFIG_FILE = "mlwarden.toml"
PYPROJECT_FILE = "pyproject.toml"

_TOP_KEYS = ("fail-on", "exclude", "limits", "suppress")
_SUPPRESS_KEYS = ("rule", "path", "fingerprint", "reason", "expires")
_RULE_ID = re.compile(r"^MW\d{3}$")


class ConfigError(ValueError):
    """The configuration is invalid; the message says where and how to fix it."""


@dataclass(frozen=True, slots=True)
class Suppression:
    """Hide findings of ``rule`` (``*`` for any) at paths matching ``path`` (a glob).

    A reason is required; past ``expires`` the suppression stops applying and says so.
    ``fingerprint``, when given, narrows it to one finding.
    """

    rule: str
    reason: str
    path: str = "*"
    fingerprint: str | None = None
    expires: dt.date | None = None

    def expired(self, today: dt.date | None = None) -> bool:
        """Whether ``today`` is past the expiry date (the expiry day itself still applies)."""
        import datetime as dt

        return self.expires is not None and (today or dt.date.today()) > self.expires

    def matches(self, rule: str, path: str, fingerprint: str) -> bool:
        """Whether this entry covers a finding of ``rule`` at ``path`` with ``fingerprint``."""
        if self.fingerprint is not None and self.fingerprint != fingerprint:
            return False
        if self.rule not in ("*", rule):
            return False
        return any(fnmatch.fnmatch(candidate, self.path) for candidate in _path_forms(path))

    def describe(self) -> str:
        """A short name for messages: the rule and the path glob."""
        text = f"{self.rule} at {self.path}"
        if self.fingerprint:
            text += f" (fingerprint {self.fingerprint})"
        return text


@dataclass(frozen=True, slots=True)
class Config:
    """Everything that shapes a scan besides its targets."""

    fail_on: Severity | None = Severity.HIGH
    limits: Limits = field(default_factory=Limits)
    exclude: tuple[str, ...] = ()
    suppressions: tuple[Suppression, ...] = ()
    baseline: Path | None = None
    source: Path | None = None  # the file this configuration was read from
    #: The vulnerability database (``--db``); ``None`` is the compiled default or, without
    #: one, the curated ML advisories shipped with mlwarden.
    db: Path | None = None
    #: An interpreter whose installed distributions are checked too (``--python``).
    python: str | None = None
    #: Read only the first rows of each dataset (``--sample N``); ``None`` reads them all.
    sample: int | None = None
    #: The Dask scheduler that scans datasets (``--engine dask --scheduler ADDRESS``);
    #: ``None`` scans them on this machine.
    scheduler: str | None = None

    def is_excluded(self, path: str) -> bool:
        """Whether a file is left out by an ``exclude`` glob."""
        norm = path.replace("\\", "/")
        return any(
            fnmatch.fnmatch(norm, pattern) or fnmatch.fnmatch(Path(norm).name, pattern)
            for pattern in self.exclude
        )


def _path_forms(path: str) -> list[str]:
    """A finding's path as given, and relative to the working directory when it is under it.

    Globs in a configuration are written relative to the project; a scan started with an
    absolute path (as CI often does) must still match them.
    """
    norm = path.replace("\\", "/")
    forms = [norm.removeprefix("./")]
    cwd = Path.cwd()
    if Path(norm).is_absolute() and Path(norm).is_relative_to(cwd):
        forms.append(Path(norm).relative_to(cwd).as_posix())
    return forms


def load_config(path: Path | None = None, *, cwd: Path | None = None) -> Config:
    """The configuration from ``path``, or the one found in ``cwd``, or the defaults.

    ``path`` may be an ``mlwarden.toml`` (keys at the top level) or a ``pyproject.toml`` (keys
    under ``[tool.mlwarden]``). Without ``path``, ``cwd`` (default: the current directory) is
    searched for ``mlwarden.toml``, then for a ``pyproject.toml`` that has ``[tool.mlwarden]``.
    """
    if path is not None:
        data = _read_toml(path)
        if path.name == PYPROJECT_FILE:
            section = _tool_section(data)
            if section is None:
                raise ConfigError(f"{path}: no [tool.mlwarden] table")
            return parse_config(section, path)
        return parse_config(data, path)
    found = discover_config(cwd or Path.cwd())
    if found is None:
        return Config()
    return load_config(found)


def discover_config(directory: Path) -> Path | None:
    """The configuration file of ``directory``, if it has one (not searched upward)."""
    candidate = directory / CONFIG_FILE
    if candidate.is_file():
        return candidate
    pyproject = directory / PYPROJECT_FILE
    if pyproject.is_file() and _tool_section(_read_toml(pyproject)) is not None:
        return pyproject
    return None


def holds_config(path: Path, max_bytes: int = 4 * 1024 * 1024) -> bool:
    """Whether a file found in a scanned tree would act as an mlwarden configuration.

    Only parsed as TOML data (never evaluated), and only when small; an ``mlwarden.toml``
    counts whatever its content, since a loader further down the line may be more lenient.
    """
    if path.name == CONFIG_FILE:
        return True
    if path.name != PYPROJECT_FILE:
        return False
    try:
        if path.stat().st_size > max_bytes:
            return False
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    import tomllib  # only when there is TOML to read

    try:
        return _tool_section(tomllib.loads(text)) is not None
    except tomllib.TOMLDecodeError:
        # Broken TOML cannot configure mlwarden, but a header says what it meant to do.
        return re.search(r"^\s*\[\s*tool\s*\.\s*mlwarden\s*[\].]", text, re.MULTILINE) is not None


def parse_config(data: Mapping[str, Any], source: Path | None = None) -> Config:
    """Build a :class:`Config` from parsed TOML, checking every key and value."""
    where = str(source) if source else "configuration"
    _check_keys(data, _TOP_KEYS, where, "")
    config = Config(source=source)
    if "fail-on" in data:
        config = dataclasses.replace(config, fail_on=_fail_on(data["fail-on"], where))
    if "exclude" in data:
        config = dataclasses.replace(config, exclude=_globs(data["exclude"], where))
    if "limits" in data:
        config = dataclasses.replace(config, limits=_limits(data["limits"], where))
    if "suppress" in data:
        entries = data["suppress"]
        if not isinstance(entries, list):
            raise ConfigError(f"{where}: 'suppress' must be an array of tables ([[suppress]])")
        sups = tuple(_suppression(e, where, i) for i, e in enumerate(entries))
        config = dataclasses.replace(config, suppressions=sups)
    return config


def parse_fail_on(text: str) -> Severity | None:
    """A ``fail-on`` value: a severity name, or ``never`` (``None``)."""
    if text.strip().lower() == "never":
        return None
    return Severity.parse(text)


def _read_toml(path: Path) -> dict[str, Any]:
    import tomllib  # only when there is TOML to read

    try:
        with path.open("rb") as stream:
            return tomllib.load(stream)
    except FileNotFoundError:
        raise ConfigError(f"configuration file {path} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"cannot read configuration {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None


def _tool_section(data: Mapping[str, Any]) -> Mapping[str, Any] | None:
    tool = data.get("tool")
    if not isinstance(tool, Mapping):
        return None
    section = tool.get("mlwarden")
    return section if isinstance(section, Mapping) else None


def _check_keys(data: Mapping[str, Any], allowed: tuple[str, ...], where: str, table: str) -> None:
    for key in data:
        if key not in allowed:
            place = f" in [{table}]" if table else ""
            raise ConfigError(
                f"{where}: unknown key {key!r}{place}; allowed keys are {', '.join(allowed)}"
            )


def _fail_on(value: object, where: str) -> Severity | None:
    if not isinstance(value, str):
        raise ConfigError(f"{where}: 'fail-on' must be a string, got {_kind(value)}")
    try:
        return parse_fail_on(value)
    except ValueError as exc:
        raise ConfigError(f"{where}: 'fail-on': {exc} or never") from None


def _globs(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: 'exclude' must be an array of glob strings")
    return tuple(value)


def _limit_fields() -> dict[str, dataclasses.Field[Any]]:
    return {f.name: f for f in dataclasses.fields(Limits)}


def _limits(value: object, where: str) -> Limits:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where}: 'limits' must be a table ([limits])")
    fields = _limit_fields()
    # Both spellings are accepted: TOML style (max-archive-depth) and the Python field name.
    allowed = tuple(name.replace("_", "-") for name in fields)
    changes: dict[str, Any] = {}
    for key, raw in value.items():
        name = key.replace("-", "_")
        if name not in fields:
            _check_keys({key: raw}, allowed, where, "limits")
        default = getattr(Limits(), name)
        if isinstance(default, int):
            if not isinstance(raw, int) or isinstance(raw, bool) or raw <= 0:
                raise ConfigError(f"{where}: limits.{key} must be a positive integer, got {raw!r}")
            changes[name] = raw
        else:
            if not isinstance(raw, int | float) or isinstance(raw, bool) or raw <= 0:
                raise ConfigError(f"{where}: limits.{key} must be a positive number, got {raw!r}")
            changes[name] = float(raw)
    return dataclasses.replace(Limits(), **changes)


def _suppression(entry: object, where: str, index: int) -> Suppression:
    label = f"{where}: suppress[{index}]"
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{label} must be a table ([[suppress]])")
    _check_keys(entry, _SUPPRESS_KEYS, where, f"[suppress] #{index}")
    rule = entry.get("rule")
    if not isinstance(rule, str) or not (rule == "*" or _RULE_ID.match(rule)):
        raise ConfigError(f"{label}: 'rule' must be a rule id such as MW101, or '*'")
    if rule != "*":
        from mlwarden.rules import get_rule

        try:
            get_rule(rule)
        except KeyError:
            raise ConfigError(f"{label}: there is no rule {rule} in the catalogue") from None
    reason = entry.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise ConfigError(f"{label}: 'reason' is required: say why {rule} is accepted here")
    path = entry.get("path", "*")
    if not isinstance(path, str) or not path:
        raise ConfigError(f"{label}: 'path' must be a glob string")
    fingerprint = entry.get("fingerprint")
    if fingerprint is not None and (not isinstance(fingerprint, str) or not fingerprint):
        raise ConfigError(f"{label}: 'fingerprint' must be a string from a JSON report")
    return Suppression(
        rule=rule,
        reason=reason.strip(),
        path=path,
        fingerprint=fingerprint,
        expires=_date(entry.get("expires"), label),
    )


def _date(value: object, label: str) -> dt.date | None:
    import datetime as dt

    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise ConfigError(f"{label}: 'expires' must be a date such as 2025-12-31, got {value!r}")


def _kind(value: object) -> str:
    return type(value).__name__
