"""The rule pages in docs/rules are generated from the catalogue and kept up to date."""

from __future__ import annotations

from pathlib import Path

from mlwarden.docs import INDEX, expected_pages, main, rule_page
from mlwarden.rules import all_rules, get_rule

DOCS = Path(__file__).resolve().parents[1] / "docs" / "rules"


def test_every_rule_has_a_page_and_an_index_entry() -> None:
    pages = expected_pages()
    for rule in all_rules():
        assert f"{rule.id}.md" in pages
        assert f"[{rule.id}]({rule.id}.md)" in pages[INDEX]


def test_committed_docs_are_up_to_date() -> None:
    stale = [
        name
        for name, text in expected_pages().items()
        if not (DOCS / name).is_file() or (DOCS / name).read_text(encoding="utf-8") != text
    ]
    extra = sorted(p.name for p in DOCS.glob("MW*.md") if p.name not in expected_pages())
    assert not stale and not extra, f"run `make docs`: stale {stale}, removed rules {extra}"


def test_page_content() -> None:
    page = rule_page(get_rule("MW003"))
    assert page.startswith("# MW003: Untrusted configuration in scanned tree\n")
    for text in (
        "| Default severity | medium |",
        "| Category | scan |",
        "[CWE-15](https://cwe.mitre.org/data/definitions/15.html)",
        "ML06 AI Supply Chain Attacks",
        "[AML.T0010](https://atlas.mitre.org/techniques/AML.T0010)",
        "## Description",
        "## Remediation",
        "## References",
    ):
        assert text in page


def test_generator_writes_and_prunes(tmp_path: Path) -> None:
    (tmp_path / "MW999.md").write_text("a retired page")
    assert main([str(tmp_path)]) == 0
    assert not (tmp_path / "MW999.md").exists()
    assert (tmp_path / "MW001.md").read_text(encoding="utf-8") == rule_page(get_rule("MW001"))
    assert main([]) == 2
