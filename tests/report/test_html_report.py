"""The HTML report: self-contained, escaped, complete."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from mlwarden.findings import Report
from mlwarden.report import render
from mlwarden.report.html_report import reference_href

from .conftest import SCRIPT


class Tags(HTMLParser):
    """Every start tag with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def parse(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Tags()
    parser.feed(html)
    return parser.tags


def test_scanned_text_is_escaped(sample_report: Report) -> None:
    html = render(sample_report, "html")
    assert SCRIPT not in html
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(" in html
    assert not any(tag == "script" for tag, _ in parse(html))


def test_self_contained(sample_report: Report) -> None:
    html = render(sample_report, "html")
    tags = parse(html)
    for tag, attrs in tags:
        assert tag not in {"script", "link", "img", "iframe", "object", "embed"}, tag
        assert "src" not in attrs, (tag, attrs)
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
    style = re.search(r"<style>(.*?)</style>", html, re.S)
    assert style is not None
    assert "url(" not in style.group(1) and "@import" not in style.group(1)
    assert "Content-Security-Policy" in html


def test_summary_cards_and_groups(sample_report: Report) -> None:
    html = render(sample_report, "html")
    for severity, count in [("critical", 1), ("high", 1), ("medium", 1), ("low", 1), ("info", 0)]:
        card = re.search(rf'<div class="card {severity}[^"]*">\s*<div class="n">(\d+)</div>', html)
        assert card is not None, severity
        assert int(card.group(1)) == count
    assert html.index("<h3>models/evil.pt</h3>") < html.index("<h3>vendor/mlwarden.toml</h3>")


def test_rule_links_remediation_references_evidence(sample_report: Report) -> None:
    html = render(sample_report, "html")
    anchors = {attrs.get("id") for _, attrs in parse(html)}
    links = {attrs.get("href") for tag, attrs in parse(html) if tag == "a"}
    for rule in ("MW001", "MW002", "MW003"):
        assert f"rule-{rule}" in anchors
        assert f"#rule-{rule}" in links
    assert "https://cwe.mitre.org/data/definitions/15.html" in links
    assert "Fix:</strong> Check where the file came from." in html
    assert "max_pickle_opcodes" in html  # evidence
    assert "member archive/data.pkl" in html


def test_errors_warnings_suppressed(sample_report: Report) -> None:
    html = render(sample_report, "html")
    assert "models/locked.pkl" in html and "Permission denied" in html
    assert "expired on 2020-01-01" in html
    assert "Suppressed (1)" in html
    assert "reviewed by the security team" in html


def test_empty_report_says_so() -> None:
    assert "No findings." in render(Report(targets=("x",)), "html")


def test_reference_links() -> None:
    assert reference_href("CVE-2025-32434") == "https://www.cve.org/CVERecord?id=CVE-2025-32434"
    assert reference_href("CWE-502") == "https://cwe.mitre.org/data/definitions/502.html"
    assert (
        reference_href("GHSA-53q9-r3pm-6pq6") == "https://github.com/advisories/GHSA-53q9-r3pm-6pq6"
    )
    assert reference_href("https://example.org/x") == "https://example.org/x"
    assert reference_href("PEP 307") is None
