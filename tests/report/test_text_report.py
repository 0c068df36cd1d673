"""The terminal report: grouping, order, summary, colour only when asked."""

from __future__ import annotations

from mlwarden.findings import Finding, Location, Report, Severity
from mlwarden.report import render
from mlwarden.report.text_report import human_bytes, short_remediation


def test_findings_are_grouped_by_file_worst_first(sample_report: Report) -> None:
    text = render(sample_report, "text")
    lines = text.splitlines()
    assert lines[0] == "models/evil.pt"
    heads = [line.split()[:2] for line in lines if line.startswith("  ") and line[2] != " "]
    # models/evil.pt: critical, high, low; then vendor/mlwarden.toml: medium.
    assert heads[:4] == [
        ["CRITICAL", "MW002"],
        ["HIGH", "MW001"],
        ["LOW", "MW002"],
        ["MEDIUM", "MW003"],
    ]
    assert text.index("models/evil.pt") < text.index("vendor/mlwarden.toml")


def test_locations_messages_and_remediation_are_shown(sample_report: Report) -> None:
    text = render(sample_report, "text")
    assert "(member archive/data.pkl)" in text
    assert "(line 3, column 7)" in text
    assert "(cell 2, line 1)" in text
    assert "scan limit reached" in text
    assert "fix: Check where the file came from." in text
    assert "Scan limit reached" in text  # the rule title


def test_summary_errors_warnings_and_suppressed(sample_report: Report) -> None:
    text = render(sample_report, "text")
    summary = text.rstrip().splitlines()[-1]
    assert summary == (
        "4 findings (1 critical, 1 high, 1 medium, 1 low) in 4 files, 3.0 MiB, 1.25s; "
        "1 suppressed; 1 error"
    )
    assert "Errors (not scanned completely):" in text
    assert "models/locked.pkl: cannot read: Permission denied" in text
    assert "Warnings:" in text
    assert "expired on 2020-01-01" in text


def test_plain_unless_colour_is_asked(sample_report: Report) -> None:
    assert "\x1b[" not in render(sample_report, "text")
    assert "\x1b[" in render(sample_report, "text", color=True)


def test_scanned_text_cannot_inject_markup_or_escapes() -> None:
    finding = Finding(
        "MW002",
        Severity.HIGH,
        "[bold red]fake[/bold red] \x1b[2J\x1b[H cleared",
        Location("m.pkl", member="a\x1b]0;title\x07.pkl"),
    )
    text = render(Report(targets=("m.pkl",), findings=(finding,), files=1), "text", color=True)
    assert "[bold red]fake[/bold red]" in text
    assert "\x1b[2J" not in text and "\x1b]" not in text and "\x07" not in text
    assert "\\x1b[2J" in text


def test_empty_report() -> None:
    text = render(Report(targets=("x",), files=2, bytes=10, seconds=0.01), "text")
    assert text.strip() == "0 findings in 2 files, 10 B, 0.01s"


def test_helpers() -> None:
    assert human_bytes(512) == "512 B"
    assert human_bytes(1536) == "1.5 KiB"
    assert short_remediation("One. Two.") == "One. Two."
    assert short_remediation("A" * 150 + ". " + "B" * 30 + ".") == "A" * 150 + "."
