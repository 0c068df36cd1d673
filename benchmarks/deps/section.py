"""The dependency section of ``benchmarks/RESULTS.md``, between its own markers.

Only the text between ``<!-- deps:start -->`` and ``<!-- deps:end -->`` is replaced (the file
is read again right before writing); without the markers the section is appended.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from results import write_section

START = "<!-- deps:start -->"
END = "<!-- deps:end -->"
COMPILE_TARGET_S = 10.0
WARM_SCAN_TARGET_S = 1.0
LISTED_DIFFERENCES = 15


def _ratio(mlwarden_s: float, tool_s: float) -> str:
    return f"{mlwarden_s / tool_s:.2f}" if tool_s else "-"


def _met(value: float, target: float) -> str:
    return "MET" if value < target else "NOT MET"


def _pip_audit_result(entry: dict[str, Any]) -> str:
    if not entry.get("parsed"):
        verdict = "no JSON report"
    else:
        reasons = ", ".join(f"{n} {r.lower()}" for r, n in entry.get("skip_reasons", {}).items())
        verdict = f"{entry['vulns']} vulns; {entry['skipped']} of {entry['dependencies']} skipped"
        verdict += f" ({reasons})" if reasons else ""
    said = '; printed "No known vulnerabilities found"' if entry.get("said_clean") else ""
    timed = "; timed out" if entry.get("timed_out") else ""
    return f"{verdict}{said}; exit {','.join(map(str, entry['returncodes']))}{timed}"


def render(results: dict[str, Any]) -> str:
    """The section's Markdown, markers included."""
    v = results["versions"]
    comp = results["compile"]
    scans = results["scans"]
    ml = results["mlwarden"]
    warm_uv = scans["warm_uv_lock"]["median_s"]
    warm_req = scans["warm_requirements"]["median_s"]
    pins = results["pins"]
    found = f"{ml['vulns']} vulns ({ml['records']} records) in {ml['vulnerable_pins']} pins"
    lines = [
        START,
        "# Dependency scanning: the shared advisory database and a 500-pin lockfile",
        "",
        f"- Date: {results['date']}",
        f"- Machine: {results['machine']}",
        f"- Versions: mlwarden {v['mlwarden']}, pip-audit {v['pip-audit']}, "
        f"PyYAML {v['PyYAML']}, packaging {v['packaging']}, Python {v['Python']}",
        f"- Database: the shared OSV records ({comp['message'].split(' from ')[0]}).",
        f"- Pins: {pins} real package names and versions taken from that database (seed "
        f"{results['seed']}; `deps/pins.py`), written as `requirements.txt`, `uv.lock` and "
        "`poetry.lock`.",
        "- How: `make -C benchmarks deps` (`deps/run.py`); every time is a whole process, "
        "start-up included, with Python's bytecode cache as users have it (one row without "
        "it); peak MB is the process's peak RSS. Raw outputs: `benchmarks/work/deps/`.",
        "- Last column: mlwarden time / tool time, against mlwarden's warm scan of the same "
        "`requirements.txt` (below 1: mlwarden was faster).",
        "",
        "## Targets",
        "",
        f"- Compiling the shared database < {COMPILE_TARGET_S:g} s: "
        f"**{_met(comp['median_s'], COMPILE_TARGET_S)}: {comp['median_s']:.2f} s** "
        f"(median of {len(comp['runs_s'])}: {', '.join(f'{s:.2f}' for s in comp['runs_s'])})",
        f"- Warm scan of the {pins}-pin `uv.lock`, whole process, < {WARM_SCAN_TARGET_S:g} s: "
        f"**{_met(warm_uv, WARM_SCAN_TARGET_S)}: {warm_uv:.3f} s** (median of "
        f"{len(scans['warm_uv_lock']['runs_s'])}; `requirements.txt`: {warm_req:.3f} s)",
        "",
        "| task | tool | wall s | peak MB | result | mlwarden time / tool time |",
        "| --- | --- | ---: | ---: | --- | ---: |",
        f"| compile {results['record_files']} YAML records | `mlwarden db update --from` | "
        f"{comp['median_s']:.2f} | "
        f"{comp['peak_mb']:.0f} | exit {comp['returncodes'][0]} | 1.00 |",
        f"| first scan of `uv.lock` (compiles on first use) | mlwarden | "
        f"{scans['cold_uv_lock']['median_s']:.2f} | {scans['cold_uv_lock']['peak_mb']:.0f} | "
        f"{ml['per_format_vulns']['warm_uv_lock']} vulns | - |",
        f"| warm scan of `uv.lock` | mlwarden | {warm_uv:.3f} | "
        f"{scans['warm_uv_lock']['peak_mb']:.0f} | {found} | - |",
        f"| warm scan of `poetry.lock` | mlwarden | {scans['warm_poetry_lock']['median_s']:.3f} | "
        f"{scans['warm_poetry_lock']['peak_mb']:.0f} | "
        f"{ml['per_format_vulns']['warm_poetry_lock']} vulns | - |",
        f"| warm scan of `requirements.txt` | mlwarden | {warm_req:.3f} | "
        f"{scans['warm_requirements']['peak_mb']:.0f} | {found}; {ml['findings']} findings | "
        "1.00 |",
        "| warm scan of `uv.lock` with no bytecode cache at all (`PYTHONDONTWRITEBYTECODE=1`, "
        "empty `PYTHONPYCACHEPREFIX`: every module, stdlib included, compiled from source) | "
        f"mlwarden | {scans['warm_uv_lock_no_pyc']['median_s']:.3f} | "
        f"{scans['warm_uv_lock_no_pyc']['peak_mb']:.0f} | same | - |",
        f"| start-up only (`mlwarden --version`) | mlwarden | "
        f"{scans['startup']['median_s']:.3f} | {scans['startup']['peak_mb']:.0f} | - | - |",
    ]
    pa = results["pip_audit"]
    for service, label in (("pypi", "PyPI JSON API (default)"), ("osv", "`-s osv`")):
        if service in pa:
            e = pa[service]
            lines.append(
                f"| scan `requirements.txt` | pip-audit, {label} | {e['median_s']:.2f} | "
                f"{e['peak_mb']:.0f} | {_pip_audit_result(e)} | "
                f"{_ratio(warm_req, e['median_s']) if e.get('parsed') else '- (failed)'} |"
            )
    naive = results["naive"]
    lines.append(
        f"| scan `requirements.txt` | straightforward matcher (loads all YAML each run) | "
        f"{naive['median_s']:.2f} | {naive['peak_mb']:.0f} | "
        f"{naive.get('records', '?')} records in {naive.get('vulnerable_pins', '?')} pins | "
        f"{_ratio(warm_req, naive['median_s'])} |"
    )
    lines += ["", *_pip_audit_notes(pa), "", *_comparison(results), END]
    return "\n".join(lines) + "\n"


def _pip_audit_notes(pa: dict[str, Any]) -> list[str]:
    lines = ["## pip-audit without its service", ""]
    if not pa.get("installed"):
        return [*lines, "pip-audit is not installed in `.venv-peers`: not measured."]
    lines.append(
        "This machine reaches a package index (its simple API) and nothing else: PyPI's JSON "
        "API, which pip-audit's default service asks about every pin, answers 404 here, and "
        "api.osv.dev does not resolve. Command: `pip-audit -r requirements.txt --no-deps "
        "--disable-pip --format json [-s osv]` with a fresh `--cache-dir`."
    )
    lines.append("")
    for service in ("pypi", "osv"):
        e = pa[service]
        last = e["stderr_tail"][-1].strip()[:400] if e["stderr_tail"] else ""
        lines.append(f"- `{service}`: {_pip_audit_result(e)}. Last line on stderr: `{last}`")
    return lines


def _comparison(results: dict[str, Any]) -> list[str]:
    ml = results["mlwarden"]
    naive = results["naive"]
    diff = results.get("differences", {"only_mlwarden": [], "only_naive": []})
    agree = "agree" if ml["formats_agree"] else "DISAGREE"
    lines = [
        "## Result sets",
        "",
        f"- mlwarden: {ml['vulns']} distinct (package, version, vulnerability), from "
        f"{ml['records']} matching (package, version, record); the three file formats "
        f"{agree} ({ml['per_format_vulns']}). Findings by rule: {ml['rules']}; "
        f"errors: {len(ml['errors'])}.",
        f"- Straightforward matcher ({naive.get('loader', '?')}, plain OSV ranges, no alias "
        f"grouping): {naive.get('records', '?')} (package, version, record); "
        f"{naive.get('skipped_ranges', '?')} (record, pin) pairs had a range it could not "
        "evaluate (an event that is not PEP 440).",
        f"- Found by mlwarden only: {len(diff['only_mlwarden'])}; by the matcher only: "
        f"{len(diff['only_naive'])}.",
    ]
    for key, label in (("only_mlwarden", "mlwarden only"), ("only_naive", "matcher only")):
        lines.extend(
            f"  - {label}: {item['package']} {item['version']} {item['record']}: {item['why']}"
            for item in diff[key][:LISTED_DIFFERENCES]
        )
        if len(diff[key]) > LISTED_DIFFERENCES:
            lines.append(f"  - ... {len(diff[key]) - LISTED_DIFFERENCES} more in results.json")
    return lines


def write(results: dict[str, Any], path: Path) -> None:
    """Replace this section of ``path`` (or append it), leaving the rest of the file alone."""
    write_section(render(results), START, END, path)
