"""The scanners under test: how to call each one and how to read its verdict per file.

Each tool is judged by its own default verdict, the one that sets its exit status:

- mlwarden: a finding of severity ``high`` or ``critical`` (its default ``--fail-on``).
- picklescan: a ``dangerous import`` line (suspicious globals alone exit 0).
- modelscan: any issue in its JSON report (it exits 1 on any).
- fickling: exit status 1 from ``--check-safety`` (2 is a parse failure: reported as error).
- modelaudit: an issue of severity ``warning`` or ``critical`` (its exit-1 rule); the
  ``modelaudit-critical`` view of the same run counts ``critical`` issues only.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
MLWARDEN = REPO / ".venv" / "bin" / "mlwarden"
PEERS = REPO / ".venv-peers" / "bin"


@dataclass
class Verdict:
    """What a tool said about one file."""

    status: str = "clean"  # clean | flagged | error
    reasons: list[str] = field(default_factory=list)

    def flag(self, reason: str) -> None:
        """Mark flagged with a reason (errors are overridden by a flag)."""
        self.status = "flagged"
        if reason not in self.reasons and len(self.reasons) < 6:
            self.reasons.append(reason)

    def error(self, reason: str) -> None:
        """Mark as an error unless already flagged."""
        if self.status == "clean":
            self.status = "error"
        if reason not in self.reasons and len(self.reasons) < 6:
            self.reasons.append(reason)


class PathResolver:
    """Maps a location string a tool printed back to one of the files scanned."""

    def __init__(self, files: list[Path], root: Path) -> None:
        self.root = root
        self.files = sorted((str(f) for f in files), key=len, reverse=True)

    def resolve(self, reported: str) -> str | None:
        """The scanned file that ``reported`` names (an archive member maps to its file)."""
        text = reported.strip()
        if not text:
            return None
        absolute = text if text.startswith("/") else str(self.root / text)
        for candidate in self.files:
            if absolute == candidate or (
                absolute.startswith(candidate) and absolute[len(candidate)] in ": !/("
            ):
                return candidate
        return None


@dataclass
class Tool:
    """One scanner: command lines and the parser of its output."""

    name: str
    directory_mode: bool = True
    output_json: bool = False

    def command(self, target: Path, report: Path) -> list[str]:
        """The command that scans ``target`` (file or directory), reporting to ``report``."""
        raise NotImplementedError

    def verdicts(
        self, target: Path, files: list[Path], output: str, report: Path, returncode: int | None
    ) -> dict[str, Verdict]:
        """Verdict per scanned file (absolute path) from one run's output."""
        raise NotImplementedError

    @staticmethod
    def _blank(files: list[Path]) -> dict[str, Verdict]:
        return {str(f): Verdict() for f in files}


#: Reports larger than this are not parsed (fickling can dump a whole weight blob).
REPORT_LIMIT = 256 << 20


def _load_json(report: Path) -> Any:
    try:
        if report.stat().st_size > REPORT_LIMIT:
            return None
        return json.loads(report.read_text())
    except (OSError, ValueError):
        return None


class Mlwarden(Tool):
    """mlwarden scan PATH --format json (stdout kept in the report file by the runner)."""

    def command(self, target: Path, report: Path) -> list[str]:
        return [str(MLWARDEN), "scan", str(target), "--format", "json", "--output", str(report)]

    def verdicts(
        self, target: Path, files: list[Path], output: str, report: Path, returncode: int | None
    ) -> dict[str, Verdict]:
        result = self._blank(files)
        data = _load_json(report)
        resolver = PathResolver(files, target if target.is_dir() else target.parent)
        if not isinstance(data, dict):
            for verdict in result.values():
                verdict.error(f"no JSON report (exit {returncode})")
            return result
        for finding in data.get("findings", []):
            location = finding.get("location") or {}
            path = resolver.resolve(str(location.get("path") or ""))
            if path is None and len(files) == 1:
                path = str(files[0])
            if path is None:
                continue
            member = location.get("member")
            where = f" in {member}" if member else ""
            reason = f"{finding.get('rule')} {finding.get('severity')}{where}"
            if finding.get("severity") in ("critical", "high"):
                result[path].flag(reason)
        for error in data.get("errors", []):
            path = resolver.resolve(str(error.get("path") or ""))
            if path is not None:
                result[path].error(str(error.get("message", "error"))[:120])
        return result


class Picklescan(Tool):
    """picklescan -p PATH; verdicts from its per-file log lines."""

    LINE = re.compile(r"^(?P<path>/.+?): (?P<level>dangerous|suspicious) import '(?P<what>[^']*)'")
    ERROR = re.compile(r"^ERROR: parsing pickle in (?P<path>/.+?): (?P<msg>.*)$")

    def command(self, target: Path, report: Path) -> list[str]:
        return [str(PEERS / "picklescan"), "-p", str(target)]

    def verdicts(
        self, target: Path, files: list[Path], output: str, report: Path, returncode: int | None
    ) -> dict[str, Verdict]:
        result = self._blank(files)
        resolver = PathResolver(files, target if target.is_dir() else target.parent)
        for line in output.splitlines():
            match = self.LINE.match(line)
            if match and match["level"] == "dangerous":
                path = resolver.resolve(match["path"])
                if path is not None:
                    result[path].flag(f"dangerous {match['what']}")
                continue
            match = self.ERROR.match(line)
            if match:
                path = resolver.resolve(match["path"])
                if path is not None:
                    result[path].error(match["msg"][:120])
        return result


class Modelscan(Tool):
    """modelscan -p PATH -r json -o REPORT; issue sources are relative to PATH."""

    def command(self, target: Path, report: Path) -> list[str]:
        return [str(PEERS / "modelscan"), "-p", str(target), "-r", "json", "-o", str(report)]

    def verdicts(
        self, target: Path, files: list[Path], output: str, report: Path, returncode: int | None
    ) -> dict[str, Verdict]:
        result = self._blank(files)
        data = _load_json(report)
        if not isinstance(data, dict):
            for verdict in result.values():
                verdict.error(f"no JSON report (exit {returncode})")
            return result
        single = None if target.is_dir() else str(target)
        resolver = PathResolver(files, target if target.is_dir() else target.parent)

        def locate(source: str) -> str | None:
            return single or resolver.resolve(source.split(":", 1)[0])

        for issue in data.get("issues", []):
            path = locate(str(issue.get("source", "")))
            if path is not None:
                what = f"{issue.get('module')}.{issue.get('operator')}"
                result[path].flag(f"{issue.get('severity')} {what}")
        for error in data.get("errors", []):
            path = locate(str(error.get("source", "")))
            if path is not None:
                result[path].error(str(error.get("description", "error"))[:120])
        return result


class Fickling(Tool):
    """fickling --check-safety FILE (no directory mode: the runner calls it per file)."""

    def command(self, target: Path, report: Path) -> list[str]:
        return [
            str(PEERS / "fickling"),
            "--check-safety",
            "--json-output",
            str(report),
            str(target),
        ]

    def verdicts(
        self, target: Path, files: list[Path], output: str, report: Path, returncode: int | None
    ) -> dict[str, Verdict]:
        verdict = Verdict()
        data = _load_json(report)
        severity = data.get("severity", "") if isinstance(data, dict) else ""
        if returncode == 1:
            verdict.flag(severity or "unsafe")
        elif returncode != 0:
            first = next((ln for ln in output.splitlines() if ln.strip()), "")
            verdict.error(f"exit {returncode}: {first[:100]}")
        return {str(target): verdict}


class Modelaudit(Tool):
    """modelaudit scan PATH --format json --no-cache -o REPORT."""

    levels: tuple[str, ...] = ("critical", "warning")

    def command(self, target: Path, report: Path) -> list[str]:
        return [
            str(PEERS / "modelaudit"), "scan", str(target), "--format", "json", "--no-cache",
            "-o", str(report),
        ]  # fmt: skip

    def verdicts(
        self, target: Path, files: list[Path], output: str, report: Path, returncode: int | None
    ) -> dict[str, Verdict]:
        result = self._blank(files)
        data = _load_json(report)
        if not isinstance(data, dict):
            for verdict in result.values():
                verdict.error(f"no JSON report (exit {returncode})")
            return result
        resolver = PathResolver(files, target if target.is_dir() else target.parent)
        for issue in data.get("issues", []):
            details = issue.get("details") or {}
            where = str(issue.get("location") or details.get("path") or "")
            path = resolver.resolve(where)
            if path is None and len(files) == 1:
                path = str(files[0])
            if path is None:
                continue
            severity = str(issue.get("severity", "")).lower()
            reason = f"{severity} {issue.get('rule_code', '')} {issue.get('message', '')[:90]}"
            if severity in self.levels:
                result[path].flag(reason)
            elif str(issue.get("message", "")).startswith("File too large"):
                result[path].error(str(issue["message"])[:100])
        if returncode == 2 and len(files) == 1:
            result[str(files[0])].error("exit 2: scan inconclusive")
        return result


class ModelauditCritical(Modelaudit):
    """The same modelaudit run, counting only its ``critical`` issues."""

    levels = ("critical",)


def all_tools() -> list[Tool]:
    """The tools in the order they run; modelaudit-critical reuses modelaudit's run."""
    return [
        Mlwarden("mlwarden"),
        Picklescan("picklescan"),
        Modelscan("modelscan"),
        Fickling("fickling", directory_mode=False),
        Modelaudit("modelaudit"),
    ]


DERIVED: dict[str, tuple[str, Tool]] = {
    "modelaudit-critical": ("modelaudit", ModelauditCritical("modelaudit-critical")),
}
