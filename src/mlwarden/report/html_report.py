"""The HTML report: one self-contained file (inline CSS, no scripts, no external assets).

Rendered with jinja2 and autoescaping on, so text taken from scanned files (messages, member
names, evidence) is always escaped. Only mlwarden's own template is rendered; nothing scanned
is ever used as a template.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from itertools import groupby
from typing import Any

import jinja2

from mlwarden.findings import Finding, Report, Severity
from mlwarden.report.text_report import by_file, human_bytes, short_remediation, where
from mlwarden.rules import Rule, get_rule
from mlwarden.scanners.deps.upgrades import upgrade_plan

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("mlwarden.report", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render(report: Report, *, color: bool = False) -> str:
    """The report as a self-contained HTML page (``color`` is ignored)."""
    from mlwarden import __version__

    template = _ENV.get_template("report.html")
    return template.render(
        version=__version__,
        generated=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        targets=report.targets,
        cards=[
            {"severity": s.value, "count": report.by_severity.get(s.value, 0)}
            for s in sorted(Severity, reverse=True)
        ],
        total=len(report.findings),
        files=report.files,
        size=human_bytes(report.bytes),
        seconds=f"{report.seconds:.2f}",
        groups=[
            {"path": path, "findings": [_finding_view(f) for f in items]}
            for path, items in groupby(by_file(report.findings), key=lambda f: f.location.path)
        ],
        rules=[_rule_view(r) for r in _rules_used(report)],
        errors=report.errors,
        warnings=report.warnings,
        upgrades=upgrade_plan(report.findings),
        suppressed=[
            {
                "rule": s.finding.rule,
                "title": get_rule(s.finding.rule).title,
                "severity": s.finding.severity.value,
                "location": str(s.finding.location),
                "reason": s.reason,
                "source": s.source,
                "fingerprint": s.finding.fingerprint,
            }
            for s in report.suppressed
        ],
    )


def _finding_view(finding: Finding) -> dict[str, Any]:
    rule = get_rule(finding.rule)
    evidence = finding.to_dict()["evidence"]
    return {
        "rule": finding.rule,
        "title": rule.title,
        "severity": finding.severity.value,
        "where": where(finding),
        "message": finding.message,
        "remediation": short_remediation(rule.remediation),
        "evidence": json.dumps(evidence, indent=1, ensure_ascii=False) if evidence else "",
        "fingerprint": finding.fingerprint,
    }


def _rules_used(report: Report) -> list[Rule]:
    ids = {f.rule for f in report.findings} | {s.finding.rule for s in report.suppressed}
    return [get_rule(rule_id) for rule_id in sorted(ids)]


def _rule_view(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "title": rule.title,
        "severity": rule.severity.value,
        "category": rule.category,
        "description": rule.description,
        "remediation": rule.remediation,
        "tags": [t for t in rule.tags if t != rule.category],
        "references": [{"text": ref, "href": reference_href(ref)} for ref in rule.references],
        "help_uri": rule.help_uri,
    }


def reference_href(ref: str) -> str | None:
    """A link for a reference: URLs as they are, CVE, GHSA and CWE ids to their records."""
    if ref.startswith(("https://", "http://")):
        return ref
    if re.fullmatch(r"CVE-\d{4}-\d{4,}", ref):
        return f"https://www.cve.org/CVERecord?id={ref}"
    if re.fullmatch(r"GHSA(-[23456789cfghjmpqrvwx]{4}){3}", ref):
        return f"https://github.com/advisories/{ref}"
    match = re.fullmatch(r"CWE-(\d+)", ref)
    if match:
        return f"https://cwe.mitre.org/data/definitions/{match.group(1)}.html"
    return None
