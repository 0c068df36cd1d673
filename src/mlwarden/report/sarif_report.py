"""SARIF 2.1.0, as read by GitHub code scanning and other SARIF viewers.

One run; the driver lists every rule that a result (reported or suppressed) names, with its
help, tags (category, CWE, OWASP ML Top 10, MITRE ATLAS) and a numeric ``security-severity``.
Suppressed and baselined findings are results with an external suppression, so viewers can
show them as accepted. Files that could not be scanned become tool execution notifications.
"""

from __future__ import annotations

import json
import os
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from mlwarden.findings import Finding, Report, Severity, Suppressed
from mlwarden.rules import Rule, get_rule

SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
INFORMATION_URI = "https://github.com/mlwarden/mlwarden"

#: SARIF result levels. SARIF has three; security-severity keeps the finer grading.
LEVELS = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}

#: Scores GitHub maps back to its critical (>= 9.0), high (7.0-8.9), medium (4.0-6.9) and low
#: (0.1-3.9) bands.
SECURITY_SEVERITY = {
    Severity.CRITICAL: 9.5,
    Severity.HIGH: 8.0,
    Severity.MEDIUM: 5.5,
    Severity.LOW: 3.0,
    Severity.INFO: 0.5,
}


def render(report: Report, *, color: bool = False) -> str:
    """The report as SARIF 2.1.0 JSON text (``color`` is ignored)."""
    return json.dumps(to_sarif(report), indent=2, ensure_ascii=False) + "\n"


def to_sarif(report: Report, base: Path | None = None) -> dict[str, Any]:
    """The SARIF log as a dictionary; paths are made relative to ``base`` (default: cwd)."""
    from mlwarden import __version__

    base = (base or Path.cwd()).resolve()
    everything = [*report.findings, *(s.finding for s in report.suppressed)]
    rule_ids = sorted({f.rule for f in everything})
    index = {rule_id: i for i, rule_id in enumerate(rule_ids)}
    results = [_result(f, index, base) for f in report.sorted_findings()]
    results += [_suppressed_result(s, index, base) for s in report.suppressed]
    notifications = [
        {
            "level": "error",
            "message": {"text": error.message},
            "locations": [{"physicalLocation": {"artifactLocation": _artifact(error.path, base)}}],
        }
        for error in report.errors
    ]
    notifications += [{"level": "warning", "message": {"text": w}} for w in report.warnings]
    invocation: dict[str, Any] = {
        "executionSuccessful": not report.errors,
        "properties": {"files": report.files, "bytes": report.bytes, "seconds": report.seconds},
    }
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "mlwarden",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": [_rule(get_rule(rule_id)) for rule_id in rule_ids],
                    }
                },
                "invocations": [invocation],
                "originalUriBaseIds": {"SRCROOT": {"uri": base.as_uri() + "/"}},
                "results": results,
                "columnKind": "unicodeCodePoints",
            }
        ],
    }


def _rule(rule: Rule) -> dict[str, Any]:
    refs = "\n".join(f"- {ref}" for ref in rule.references)
    markdown = f"{rule.description}\n\n**Remediation.** {rule.remediation}"
    text = f"{rule.description}\n\nRemediation: {rule.remediation}"
    if refs:
        markdown += f"\n\n**References**\n\n{refs}"
        text += f"\n\nReferences:\n{refs}"
    return {
        "id": rule.id,
        "name": _pascal(rule.name),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.description},
        "help": {"text": text, "markdown": markdown},
        "helpUri": rule.help_uri,
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": {
            "tags": ["security", *rule.tags],
            "security-severity": f"{SECURITY_SEVERITY[rule.severity]:.1f}",
            "severity": rule.severity.value,
            "category": rule.category,
        },
    }


def _pascal(slug: str) -> str:
    # SARIF suggests rule names in PascalCase ("DangerousGlobalInPickle").
    return "".join(part[:1].upper() + part[1:] for part in slug.split("-"))


def _result(finding: Finding, index: dict[str, int], base: Path) -> dict[str, Any]:
    loc = finding.location
    physical: dict[str, Any] = {"artifactLocation": _artifact(loc.path, base)}
    location: dict[str, Any] = {"physicalLocation": physical}
    inner = loc.member or (f"cell {loc.cell}" if loc.cell is not None else None)
    if inner is None:
        region: dict[str, int] = {}
        if loc.line is not None:
            region["startLine"] = loc.line
            if loc.column is not None:
                region["startColumn"] = loc.column
        if region:
            physical["region"] = region
    else:
        # SARIF has no notion of a member inside an archive or a cell inside a notebook: the
        # physical location is the file on disk, a logical location names the part, and the
        # line (which counts within that part, not within the file) goes in the properties.
        location["logicalLocations"] = [
            {"name": inner, "fullyQualifiedName": f"{loc.path}!{inner}", "kind": "member"}
        ]
        where = {"member": loc.member, "cell": loc.cell, "line": loc.line, "column": loc.column}
        location["properties"] = {k: v for k, v in where.items() if v is not None}
    properties: dict[str, Any] = {
        "severity": finding.severity.value,
        "security-severity": f"{SECURITY_SEVERITY[finding.severity]:.1f}",
        "evidence": finding.to_dict()["evidence"],
    }
    if loc.member:
        properties["member"] = loc.member
    return {
        "ruleId": finding.rule,
        "ruleIndex": index[finding.rule],
        "level": LEVELS[finding.severity],
        "message": {"text": finding.message},
        "locations": [location],
        "partialFingerprints": {"mlwardenFingerprint/v1": finding.fingerprint},
        "properties": properties,
    }


def _suppressed_result(hidden: Suppressed, index: dict[str, int], base: Path) -> dict[str, Any]:
    result = _result(hidden.finding, index, base)
    result["suppressions"] = [
        {
            "kind": "external",
            "status": "accepted",
            "justification": hidden.reason,
            "properties": {"source": hidden.source},
        }
    ]
    return result


def _artifact(path: str, base: Path) -> dict[str, Any]:
    """An artifactLocation: relative to ``base`` (SRCROOT) when the file is under it."""
    pure = Path(path)
    try:
        absolute = pure if pure.is_absolute() else Path(os.path.abspath(pure))
        relative = absolute.relative_to(base)
    except ValueError:
        relative = None
    if relative is not None:
        return {"uri": _uri(PurePosixPath(*relative.parts)), "uriBaseId": "SRCROOT"}
    if pure.is_absolute():
        return {"uri": pure.as_uri()}
    return {"uri": _uri(PurePosixPath(*pure.parts))}


def _uri(path: PurePosixPath) -> str:
    return quote(str(path), safe="/")
