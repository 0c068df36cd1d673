"""The terminal report: findings grouped by file, worst first, then errors, warnings and a
summary line.

Scanned content (messages, member names) is passed to rich as plain ``Text``, never as markup,
so a file name such as ``[red]x[/red]`` is printed as it is. Colour is used only when asked.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from itertools import groupby

from rich.console import Console
from rich.text import Text

from mlwarden.findings import Finding, Report, Severity
from mlwarden.rules import get_rule
from mlwarden.scanners.deps.upgrades import upgrade_plan

SEVERITY_STYLES = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "bold yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}

#: Wide enough that a line is never wrapped when piped into grep or a log.
PLAIN_WIDTH = 200


def render(report: Report, *, color: bool = False) -> str:
    """The report as text for a terminal; ANSI colour only when ``color`` is true."""
    out = io.StringIO()
    console = Console(
        file=out,
        force_terminal=color,
        no_color=not color,
        color_system="standard" if color else None,
        width=PLAIN_WIDTH,
        highlight=False,
        emoji=False,
        markup=False,
        soft_wrap=True,
    )
    for path, findings in groupby(by_file(report.findings), key=lambda f: f.location.path):
        console.print(Text(safe(path), style="bold underline"))
        for finding in findings:
            _print_finding(console, finding)
        console.print()
    upgrades = upgrade_plan(report.findings)
    if upgrades:
        console.print(Text("Upgrades that clear the dependency findings:", style="bold"))
        for upgrade in upgrades:
            console.print(Text(f"  {safe(upgrade.describe())}"))
        console.print()
    if report.errors:
        console.print(Text("Errors (not scanned completely):", style="bold red"))
        for error in report.errors:
            line = Text.assemble("  ", (safe(error.path), "bold"), f": {safe(error.message)}")
            console.print(line)
        console.print()
    if report.warnings:
        console.print(Text("Warnings:", style="bold yellow"))
        for warning in report.warnings:
            console.print(Text(f"  {safe(warning)}"))
        console.print()
    console.print(summary_line(report, color=color))
    return out.getvalue()


def by_file(findings: Iterable[Finding]) -> list[Finding]:
    """Grouped by file, then worst first within a file, then by place inside it."""
    return sorted(
        findings,
        key=lambda f: (
            f.location.path,
            -f.severity.rank,
            f.location.member or "",
            f.location.cell if f.location.cell is not None else -1,
            f.location.line or 0,
            f.location.column or 0,
            f.rule,
            f.key,
        ),
    )


def where(finding: Finding) -> str:
    """The place inside the file: member, cell, line and column, as far as known."""
    loc = finding.location
    parts = []
    if loc.member:
        parts.append(f"member {loc.member}")
    if loc.cell is not None:
        parts.append(f"cell {loc.cell}")
    if loc.line is not None:
        parts.append(f"line {loc.line}" + (f", column {loc.column}" if loc.column else ""))
    return ", ".join(parts)


def short_remediation(text: str, limit: int = 160) -> str:
    """The first sentences of a rule's remediation that fit in ``limit`` characters."""
    sentences: list[str] = re.findall(r".+?[.!?](?=\s|$)", " ".join(text.split()))
    if not sentences:
        return " ".join(text.split())
    short = sentences[0]
    for sentence in sentences[1:]:
        if len(short) + len(sentence) + 1 > limit:
            break
        short += " " + sentence.strip()
    return short.strip()


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def safe(text: str) -> str:
    """Scanned text with control characters shown as escapes.

    Member names and messages come from scanned files; an ANSI escape sequence in one must not
    reach the terminal, where it could hide lines or rewrite what was printed before.
    """
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text).replace("\n", "\\n")


def _print_finding(console: Console, finding: Finding) -> None:
    rule = get_rule(finding.rule)
    label = f"{finding.severity.value.upper():<8}"
    head = Text.assemble(
        "  ",
        (label, SEVERITY_STYLES[finding.severity]),
        " ",
        (finding.rule, "bold"),
        " ",
        rule.title,
    )
    place = where(finding)
    if place:
        head.append(f"  ({safe(place)})", style="dim")
    console.print(head)
    indent = " " * 12
    console.print(Text(indent + safe(finding.message)))
    console.print(Text.assemble(indent, ("fix: ", "green"), short_remediation(rule.remediation)))


def summary_line(report: Report, *, color: bool = False) -> Text:
    """One line: counts per severity, files, bytes, seconds, suppressed and errors."""
    counts = report.by_severity
    total = sum(counts.values())
    text = Text(f"{total} finding{'s' if total != 1 else ''}")
    if counts:
        text.append(" (")
        for i, severity in enumerate(s for s in sorted(Severity, reverse=True) if s in counts):
            if i:
                text.append(", ")
            style = SEVERITY_STYLES[severity] if color else ""
            text.append(f"{counts[severity]} {severity.value}", style=style)
        text.append(")")
    text.append(
        f" in {report.files} file{'s' if report.files != 1 else ''}, "
        f"{human_bytes(report.bytes)}, {report.seconds:.2f}s"
    )
    if report.suppressed:
        text.append(f"; {len(report.suppressed)} suppressed")
    if report.errors:
        text.append(f"; {len(report.errors)} error{'s' if len(report.errors) != 1 else ''}")
    return text


def human_bytes(size: int) -> str:
    """``1536`` as ``1.5 KiB``; exact bytes below 1 KiB."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"  # pragma: no cover
