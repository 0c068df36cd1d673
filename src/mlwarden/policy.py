"""Policy: suppressions with a reason and an expiry, and baselines of known findings."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

from mlwarden.config import Config, ConfigError
from mlwarden.findings import Finding, Report, Suppressed


def load_baseline(path: Path) -> set[str]:
    """Fingerprints recorded in a baseline file (a JSON report written by ``--format json``)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read baseline {path}: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"baseline {path} is not valid JSON: {exc}") from None
    findings = data.get("findings") if isinstance(data, dict) else None
    if not isinstance(findings, list):
        raise ConfigError(f"baseline {path} has no 'findings' list; write one with --format json")
    return {str(f["fingerprint"]) for f in findings if isinstance(f, dict) and "fingerprint" in f}


def apply_policy(report: Report, config: Config, today: dt.date | None = None) -> Report:
    """Move suppressed and baselined findings out of ``findings`` into ``suppressed``."""
    baseline = load_baseline(config.baseline) if config.baseline else set()
    kept: list[Finding] = []
    hidden: list[Suppressed] = list(report.suppressed)
    warnings = list(report.warnings)
    expired_seen: set[int] = set()
    for finding in report.findings:
        fp = finding.fingerprint
        reason: tuple[str, str] | None = None
        for i, sup in enumerate(config.suppressions):
            if not sup.matches(finding.rule, finding.location.path, fp):
                continue
            if sup.expired(today):
                if i not in expired_seen:
                    expired_seen.add(i)
                    warnings.append(
                        f"suppression of {sup.rule} at {sup.path} expired on "
                        f"{sup.expires}; its findings are reported again"
                    )
                continue
            reason = (sup.reason, "config")
            break
        if reason is None and fp in baseline:
            reason = ("in baseline", "baseline")
        if reason is None:
            kept.append(finding)
        else:
            hidden.append(Suppressed(finding, reason[0], reason[1]))
    return dataclasses.replace(
        report, findings=tuple(kept), suppressed=tuple(hidden), warnings=tuple(warnings)
    )
