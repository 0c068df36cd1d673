"""The tools compared, each driven through its command line as a user would run it.

Every adapter turns the tool's JSON report into :class:`Hit` rows: the corpus file (relative
to the scanned root), the notebook cell (mlwarden only: the peers read no notebooks), the line
range the tool reports, and the tool's own rule id.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
MLWARDEN = REPO / ".venv" / "bin" / "mlwarden"
PEERS = REPO / ".venv-peers" / "bin"
BANDIT = PEERS / "bandit"
SEMGREP = PEERS / "semgrep"
SEMGREP_REGISTRY_CONFIG = "p/python"
SEMGREP_TIMEOUT_S = 300.0
# Semgrep would otherwise send metrics and check for a newer version over the network.
SEMGREP_ENV = {"SEMGREP_SEND_METRICS": "off", "SEMGREP_ENABLE_VERSION_CHECK": "0"}


@dataclass(frozen=True)
class Hit:
    """One finding of one tool, placed in the corpus."""

    path: str
    cell: int | None
    start: int
    end: int
    rule: str
    suppressed: bool = False
    message: str = ""


@dataclass
class ToolRun:
    """What one tool reported on the corpus, or why it reported nothing."""

    tool: str
    available: bool
    hits: list[Hit] = field(default_factory=list)
    files_read: int | None = None
    command: str = ""
    returncode: int | None = None
    seconds: float = 0.0
    note: str = ""

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready form (hits as lists)."""
        data = dict(self.__dict__)
        data["hits"] = [h.__dict__ for h in self.hits]
        return data


def _rel(path: str, root: Path) -> str:
    p = Path(path)
    if not p.is_absolute():
        p = (root / p) if not str(p).startswith(str(root)) else p
    try:
        return p.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return p.as_posix()


def _run(
    argv: list[str], out_dir: Path, name: str, timeout: float, env: dict[str, str]
) -> tuple[int | None, float, str]:
    out_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    try:
        done = subprocess.run(
            argv,
            capture_output=True,
            timeout=timeout,
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired as expired:
        stderr = (expired.stderr or b"").decode(errors="replace")
        (out_dir / f"{name}.stderr").write_text(stderr)
        return None, time.perf_counter() - start, stderr
    seconds = time.perf_counter() - start
    stderr = done.stderr.decode(errors="replace")
    (out_dir / f"{name}.stderr").write_text(stderr)
    (out_dir / f"{name}.stdout").write_bytes(done.stdout)
    return done.returncode, seconds, stderr


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


def mlwarden(root: Path, out_dir: Path) -> ToolRun:
    """``mlwarden scan ROOT --format json``: findings and inline-suppressed findings."""
    report = out_dir / "mlwarden.json"
    argv = [str(MLWARDEN), "scan", str(root), "--format", "json", "--output", str(report)]
    argv += ["--fail-on", "never", "--no-progress"]
    code, seconds, stderr = _run(argv, out_dir, "mlwarden", 600, {})
    run = ToolRun("mlwarden", True, command=" ".join(argv[1:]), returncode=code, seconds=seconds)
    if code != 0 or not report.is_file():
        run.note = f"no report (exit {code}): {_last_line(stderr)}"
        return run
    data = json.loads(report.read_text())
    for entry, hidden in [(f, False) for f in data["findings"]] + [
        (s, True) for s in data.get("suppressed", [])
    ]:
        loc = entry["location"]
        line = loc.get("line") or 0
        where = _rel(loc["path"], root)
        message = entry.get("message") or entry.get("reason") or ""
        run.hits.append(Hit(where, loc.get("cell"), line, line, entry["rule"], hidden, message))
    run.files_read = data["summary"]["files"]
    if data.get("errors"):
        run.note = f"{len(data['errors'])} scan errors: {data['errors'][:3]}"
    return run


def bandit(root: Path, out_dir: Path) -> ToolRun:
    """``bandit -r ROOT -f json``: every result, whatever its severity or confidence."""
    if not BANDIT.exists():
        return ToolRun("bandit", False, note=f"{BANDIT} is not installed")
    report = out_dir / "bandit.json"
    argv = [str(BANDIT), "-r", str(root), "-f", "json", "-o", str(report), "-q"]
    code, seconds, stderr = _run(argv, out_dir, "bandit", 600, {})
    run = ToolRun("bandit", True, command=" ".join(["bandit", *argv[1:]]), returncode=code)
    run.seconds = seconds
    if not report.is_file():
        run.note = f"no report (exit {code}): {_last_line(stderr)}"
        return run
    data = json.loads(report.read_text())
    for result in data.get("results", []):
        lines = result.get("line_range") or [result["line_number"]]
        rule = f"{result['test_id']} {result['test_name']}"
        run.hits.append(Hit(_rel(result["filename"], root), None, min(lines), max(lines), rule))
    run.files_read = len([k for k in data.get("metrics", {}) if k != "_totals"])
    if data.get("errors"):
        run.note = f"{len(data['errors'])} files bandit could not read: " + ", ".join(
            _rel(e["filename"], root) for e in data["errors"][:5]
        )
    return run


def semgrep(root: Path, out_dir: Path, config: str, label: str) -> ToolRun:
    """``semgrep scan --config CONFIG --json``; the registry packs need the network."""
    if not SEMGREP.exists():
        return ToolRun(label, False, note=f"{SEMGREP} is not installed")
    report = out_dir / f"{label}.json"
    argv = [str(SEMGREP), "scan", "--config", config, "--json", "--output", str(report)]
    argv += ["--metrics", "off", "--disable-version-check", "--no-git-ignore", str(root)]
    code, seconds, stderr = _run(argv, out_dir, label, SEMGREP_TIMEOUT_S, SEMGREP_ENV)
    run = ToolRun(label, False, command=" ".join(["semgrep", *argv[1:]]), returncode=code)
    run.seconds = seconds
    data: dict[str, Any] = {}
    if report.is_file():
        try:
            data = json.loads(report.read_text())
        except json.JSONDecodeError:
            data = {}
    rules_run = len(data.get("rules", [])) if isinstance(data.get("rules"), list) else None
    scanned = data.get("paths", {}).get("scanned")
    if code is None:
        run.note = f"timed out after {SEMGREP_TIMEOUT_S:.0f} s: {_last_line(stderr)}"
        return run
    if not data or (data.get("errors") and not data.get("results") and scanned is None):
        run.note = f"no results (exit {code} after {seconds:.0f} s): {_last_line(stderr)}"
        return run
    run.available = True
    for result in data.get("results", []):
        start, end = result["start"]["line"], result["end"]["line"]
        # Local rule files get their folder prepended to the id: keep the rule's own name.
        rule = result["check_id"].rsplit(".", 1)[-1]
        run.hits.append(Hit(_rel(result["path"], root), None, start, end, rule))
    run.files_read = len(scanned) if isinstance(scanned, list) else None
    errors = data.get("errors") or []
    run.note = f"{len(errors)} errors" + (f", {rules_run} rules" if rules_run else "")
    return run


def versions() -> dict[str, str]:
    """The version each tool reports about itself."""
    found: dict[str, str] = {}
    for name, argv in (
        ("mlwarden", [str(MLWARDEN), "--version"]),
        ("bandit", [str(BANDIT), "--version"]),
        ("semgrep", [str(SEMGREP), "--version", "--disable-version-check"]),
    ):
        try:
            out = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
        except (OSError, subprocess.TimeoutExpired):
            found[name] = "not installed"
            continue
        words = (out.stdout or out.stderr).split()
        found[name] = next((w for w in words if w[:1].isdigit()), "?")
    return found
