"""Rule documentation, generated from the catalogue: one Markdown page per rule and an index.

Run ``python -m mlwarden.docs OUTDIR`` (``make docs`` writes ``docs/rules``). The pages are
committed; a test checks that they match the catalogue.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from mlwarden.report.html_report import reference_href
from mlwarden.rules import Rule, all_rules

INDEX = "README.md"

_OWASP = {
    "ML01": "Input Manipulation Attack",
    "ML02": "Data Poisoning Attack",
    "ML03": "Model Inversion Attack",
    "ML04": "Membership Inference Attack",
    "ML05": "Model Theft",
    "ML06": "AI Supply Chain Attacks",
    "ML07": "Transfer Learning Attack",
    "ML08": "Model Skewing",
    "ML09": "Output Integrity Attack",
    "ML10": "Model Poisoning",
}


def rule_page(rule: Rule) -> str:
    """The Markdown page of one rule."""
    lines = [
        f"# {rule.id}: {rule.title}",
        "",
        "| | |",
        "| --- | --- |",
        f"| Id | `{rule.id}` |",
        f"| Name | `{rule.name}` |",
        f"| Default severity | {rule.severity.value} |",
        f"| Category | {rule.category} |",
    ]
    if rule.cwe:
        cwes = ", ".join(f"[CWE-{n}]({reference_href(f'CWE-{n}')})" for n in rule.cwe)
        lines.append(f"| CWE | {cwes} |")
    if rule.owasp_ml:
        owasp = ", ".join(f"{t} {_OWASP.get(t, '')}".strip() for t in rule.owasp_ml)
        lines.append(f"| OWASP ML Top 10 (2023) | {owasp} |")
    if rule.atlas:
        atlas = ", ".join(f"[{t}](https://atlas.mitre.org/techniques/{t})" for t in rule.atlas)
        lines.append(f"| MITRE ATLAS | {atlas} |")
    lines += ["", "## Description", "", _paragraphs(rule.description), ""]
    lines += ["## Remediation", "", _paragraphs(rule.remediation), ""]
    if rule.references:
        lines += ["## References", ""]
        lines += [f"- {_reference(ref)}" for ref in rule.references]
        lines.append("")
    lines += [
        "## Suppressing",
        "",
        "Accept this finding for a path in `mlwarden.toml`, with a reason (required) and an",
        "expiry date:",
        "",
        "```toml",
        "[[suppress]]",
        f'rule = "{rule.id}"',
        'path = "models/trusted/*"',
        'reason = "why this is acceptable here"',
        "expires = 2026-12-31",
        "```",
        "",
        "[All rules](README.md)",
        "",
    ]
    return "\n".join(lines)


def index_page(rules: Sequence[Rule]) -> str:
    """The index of every rule, grouped by category."""
    lines = [
        "# Rules",
        "",
        "Every finding names one of these rules. Ids never change meaning once released.",
        "This directory is generated from the rule catalogue by `make docs`; do not edit it.",
        "",
    ]
    categories = sorted({r.category for r in rules})
    for category in categories:
        lines += [
            f"## {category}",
            "",
            "| Id | Title | Default severity |",
            "| --- | --- | --- |",
        ]
        lines += [
            f"| [{r.id}]({r.id}.md) | {r.title} | {r.severity.value} |"
            for r in rules
            if r.category == category
        ]
        lines.append("")
    return "\n".join(lines)


def _reference(ref: str) -> str:
    href = reference_href(ref)
    if href is None:
        return ref
    return f"<{ref}>" if href == ref else f"[{ref}]({href})"


def _paragraphs(text: str) -> str:
    # The catalogue wraps its prose for the source; pages keep one line per paragraph.
    return "\n\n".join(" ".join(p.split()) for p in text.split("\n\n") if p.strip())


def expected_pages() -> dict[str, str]:
    """File name to content, for every page the catalogue calls for."""
    rules = list(all_rules())
    pages = {f"{r.id}.md": rule_page(r) for r in rules}
    pages[INDEX] = index_page(rules)
    return pages


def write_docs(outdir: Path) -> list[Path]:
    """Write every page into ``outdir``, removing pages of rules no longer in the catalogue."""
    outdir.mkdir(parents=True, exist_ok=True)
    pages = expected_pages()
    for stale in outdir.glob("MW*.md"):
        if stale.name not in pages:
            stale.unlink()
    written = []
    for name, text in pages.items():
        path = outdir / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m mlwarden.docs OUTDIR``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m mlwarden.docs OUTDIR", file=sys.stderr)
        return 2
    written = write_docs(Path(args[0]))
    print(f"wrote {len(written)} pages to {args[0]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
