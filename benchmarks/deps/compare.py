"""Result sets of mlwarden, pip-audit and the straightforward matcher, and their differences."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

Triple = tuple[str, str, str]


def mlwarden_results(report: Path) -> dict[str, Any]:
    """What one ``mlwarden scan --format json`` report found.

    ``vulns`` holds (package, version, shown id): one per vulnerability (records merged by
    alias); ``records`` holds (package, version, record id) for every record that matched,
    the level the straightforward matcher works at.
    """
    data = json.loads(report.read_text())
    vulns: set[Triple] = set()
    records: set[Triple] = set()
    rules: dict[str, int] = {}
    for finding in data.get("findings", []):
        rules[finding["rule"]] = rules.get(finding["rule"], 0) + 1
        if finding["rule"] != "MW200":
            continue
        evidence = finding["evidence"]
        package, version = evidence["package"], evidence["version"]
        vulns.add((package, version, evidence["id"]))
        records.update((package, version, r) for r in evidence.get("records", []))
    return {
        "findings": len(data.get("findings", [])),
        "rules": rules,
        "errors": data.get("errors", []),
        "vulns": vulns,
        "records": records,
        "packages": {(p, v) for p, v, _ in vulns},
    }


def naive_results(output: Path) -> dict[str, Any]:
    """What the straightforward matcher found, and the ranges it could not evaluate."""
    data = json.loads(output.read_text())
    return {
        "records": {(p, v, r) for p, v, r in data["matches"]},
        "skipped": data["skipped_ranges"],
        "seconds_inside": data["seconds"],
        "loaded": data["records"],
        "loader": data["loader"],
    }


def pip_audit_results(stdout: Path, stderr: Path) -> dict[str, Any]:
    """pip-audit's JSON: vulnerabilities it reports, packages it skipped, and what it told."""
    text = stdout.read_text(errors="replace")
    err = stderr.read_text(errors="replace")
    said_clean = "No known vulnerabilities found" in text + err
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        data = None
    if not isinstance(data, dict):
        return {"parsed": False, "said_clean": said_clean, "vulns": 0, "skipped": None}
    deps = data.get("dependencies", [])
    vulns = {
        (d.get("name", ""), d.get("version", ""), v.get("id", ""))
        for d in deps
        for v in d.get("vulns", [])
    }
    skipped = [d for d in deps if d.get("skip_reason")]
    reasons: dict[str, int] = {}
    for dep in skipped:
        reason = str(dep["skip_reason"]).split(":", 1)[0]
        reasons[reason] = reasons.get(reason, 0) + 1
    return {
        "parsed": True,
        "said_clean": said_clean,
        "dependencies": len(deps),
        "vulns": len(vulns),
        "skipped": len(skipped),
        "skip_reasons": reasons,
    }


def differences(mlwarden: set[Triple], naive: dict[str, Any]) -> dict[str, list[dict[str, str]]]:
    """Record-level matches found by one side only, each with what explains it, if known."""
    skipped: dict[str, list[str]] = naive["skipped"]
    only_mlwarden = []
    for package, version, record in sorted(mlwarden - naive["records"]):
        ranges = skipped.get(f"{record} {package} {version}")
        why = (
            "the straightforward matcher skips a range whose events are not all PEP 440 "
            f"({ranges[0][:120]}); mlwarden reads their leading version"
            if ranges
            else "unexplained"
        )
        only_mlwarden.append({"package": package, "version": version, "record": record, "why": why})
    only_naive = [
        {"package": p, "version": v, "record": r, "why": "unexplained"}
        for p, v, r in sorted(naive["records"] - mlwarden)
    ]
    return {"only_mlwarden": only_mlwarden, "only_naive": only_naive}
