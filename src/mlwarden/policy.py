"""Policy: suppressions with a reason and an expiry, baselines of known findings, and the
configuration files that a scanned tree carries but that are never applied.

Policy never deletes a finding: what it hides moves to ``Report.suppressed`` with the reason,
so every report can say what was hidden and why.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mlwarden.config import CONFIG_FILE, PYPROJECT_FILE, Config, ConfigError, holds_config
from mlwarden.findings import INLINE_SUPPRESSION_KEY as INLINE_KEY
from mlwarden.findings import Finding, Location, Report, Severity, Suppressed

if TYPE_CHECKING:
    import datetime as dt

#: Rule ids raised by policy itself.
UNTRUSTED_CONFIG_RULE = "MW003"
EXPIRED_SUPPRESSION_RULE = "MW004"


def load_baseline(path: Path) -> set[str]:
    """Fingerprints recorded in a baseline file (a JSON report written by ``--format json``).

    Both reported findings and findings that report had hidden because of its own baseline
    count, so a report written with ``--baseline`` can serve as the next baseline. Findings it
    hid through a configured suppression do not: those keep their own reason and expiry.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read baseline {path}: {exc.strerror or exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"baseline {path} is not valid JSON: {exc}") from None
    findings = data.get("findings") if isinstance(data, dict) else None
    if not isinstance(findings, list):
        raise ConfigError(f"baseline {path} has no 'findings' list; write one with --format json")
    known = {str(f["fingerprint"]) for f in findings if isinstance(f, dict) and "fingerprint" in f}
    hidden = data.get("suppressed")
    if isinstance(hidden, list):
        known.update(
            str(s["fingerprint"])
            for s in hidden
            if isinstance(s, dict) and "fingerprint" in s and s.get("source") == "baseline"
        )
    return known


def untrusted_configs(
    targets: Sequence[str], config: Config, walked: Sequence[tuple[str, Path]] | None = None
) -> Iterator[Finding]:
    """MW003 for each configuration file in the scanned trees that is not the one in use.

    Only file names and, for ``pyproject.toml``, its TOML tables are looked at; nothing is
    applied. Excluded paths and the directories the engine never enters are skipped.
    ``walked`` is the engine's walk of ``targets``, when the caller has it: it is not walked
    again.
    """
    in_use = config.source.resolve() if config.source else None
    files = _config_candidates(targets) if walked is None else walked
    for display, path in files:
        if path.name not in (CONFIG_FILE, PYPROJECT_FILE):
            continue
        if config.is_excluded(display):
            continue
        try:
            if in_use is not None and path.resolve() == in_use:
                continue
        except OSError:
            pass
        if not holds_config(path):
            continue
        where = "mlwarden.toml" if path.name == CONFIG_FILE else "[tool.mlwarden] in pyproject.toml"
        yield Finding(
            rule=UNTRUSTED_CONFIG_RULE,
            severity=Severity.MEDIUM,
            message=(
                f"an mlwarden configuration ({where}) is in the scanned tree and was not "
                "applied; scan untrusted trees from outside with your own --config"
            ),
            location=Location(path=display),
            evidence={
                "file": path.name,
                "in_use": str(config.source) if config.source else None,
            },
            key=path.name,
        )


def _config_candidates(targets: Sequence[str]) -> Iterator[tuple[str, Path]]:
    # Imported here: the engine imports every scanner, which policy users may not need.
    from mlwarden.engine import iter_files

    for target in targets:
        try:
            yield from iter_files([target])
        except (FileNotFoundError, NotADirectoryError):
            continue


def expired_suppression_findings(config: Config, today: dt.date | None = None) -> list[Finding]:
    """MW004 for each configured suppression past its expiry date."""
    where = str(config.source) if config.source else "<configuration>"
    return [
        Finding(
            rule=EXPIRED_SUPPRESSION_RULE,
            severity=Severity.LOW,
            message=(
                f"the suppression of {sup.describe()} expired on {sup.expires} and no longer "
                f"applies (reason given: {sup.reason})"
            ),
            location=Location(path=where),
            evidence={
                "rule": sup.rule,
                "path": sup.path,
                "fingerprint": sup.fingerprint,
                "expires": sup.expires.isoformat() if sup.expires else None,
                "reason": sup.reason,
            },
            key=f"{sup.rule}\x1f{sup.path}\x1f{sup.fingerprint or ''}",
        )
        for sup in config.suppressions
        if sup.expired(today)
    ]


def apply_policy(
    report: Report,
    config: Config,
    today: dt.date | None = None,
    walked: Sequence[tuple[str, Path]] | None = None,
) -> Report:
    """Move suppressed and baselined findings out of ``findings`` into ``suppressed``.

    ``walked`` is the engine's walk of the report's targets, when the caller has it.

    Adds MW003 for configuration files found in the scanned trees and MW004 (plus a warning)
    for each expired suppression. An expired suppression hides nothing. Findings that carry an
    inline ``# mlwarden: ignore[RULE] -- reason`` are hidden with source ``inline``; without a
    reason the comment is not honoured and a warning says so.
    """
    baseline = load_baseline(config.baseline) if config.baseline else set()
    findings = [*report.findings, *untrusted_configs(report.targets, config, walked)]
    kept: list[Finding] = []
    hidden: list[Suppressed] = list(report.suppressed)
    warnings = list(report.warnings)
    reopened: dict[int, int] = {}
    active = [(i, s) for i, s in enumerate(config.suppressions) if not s.expired(today)]
    expired = [(i, s) for i, s in enumerate(config.suppressions) if s.expired(today)]
    for finding in findings:
        fp = finding.fingerprint
        path = finding.location.path
        hit = next((s for _, s in active if s.matches(finding.rule, path, fp)), None)
        for i, sup in expired:
            if hit is None and sup.matches(finding.rule, path, fp):
                reopened[i] = reopened.get(i, 0) + 1
        inline = finding.evidence.get(INLINE_KEY)
        if hit is not None:
            hidden.append(Suppressed(finding, hit.reason, "config"))
        elif isinstance(inline, dict) and inline.get("reason"):
            hidden.append(Suppressed(finding, str(inline["reason"]), "inline"))
        elif isinstance(inline, dict):
            warnings.append(
                f"{finding.location}: an inline ignore without a reason ('-- why') was not "
                f"applied to {finding.rule}"
            )
            kept.append(finding)
        elif fp in baseline:
            hidden.append(Suppressed(finding, f"in baseline {config.baseline}", "baseline"))
        else:
            kept.append(finding)
    for i, sup in expired:
        count = reopened.get(i, 0)
        again = f"; {count} finding(s) it covered are reported again" if count else ""
        warnings.append(f"suppression of {sup.describe()} expired on {sup.expires}{again}")
    kept.extend(expired_suppression_findings(config, today))
    return dataclasses.replace(
        report, findings=tuple(kept), suppressed=tuple(hidden), warnings=tuple(warnings)
    )
