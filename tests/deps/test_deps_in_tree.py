"""Every dependency file format is found by name and structure inside a scanned tree."""

from __future__ import annotations

from pathlib import Path

import pytest

import mlwarden

#: Each format with torch locked or pinned at 2.1.0, which the curated advisories cover.
FILES = {
    "requirements.txt": "torch==2.1.0\n",
    "requirements/base.txt": "torch==2.1.0  # pinned\n",
    "pyproject.toml": '[project]\nname = "app"\nversion = "1"\ndependencies = ["torch==2.1.0"]\n',
    "poetry/pyproject.toml": (
        '[tool.poetry]\nname = "app"\nversion = "1"\n\n'
        '[tool.poetry.dependencies]\npython = "^3.11"\ntorch = "2.1.0"\n'
    ),
    "poetry.lock": (
        '[[package]]\nname = "torch"\nversion = "2.1.0"\ndescription = ""\noptional = false\n'
        'python-versions = ">=3.8"\nfiles = []\n\n[metadata]\nlock-version = "2.0"\n'
        'python-versions = "^3.11"\ncontent-hash = "0"\n'
    ),
    "uv.lock": (
        'version = 1\nrequires-python = ">=3.11"\n\n'
        '[[package]]\nname = "app"\nversion = "1"\nsource = { editable = "." }\n\n'
        '[[package]]\nname = "torch"\nversion = "2.1.0"\n'
        'source = { registry = "https://pypi.org/simple" }\n'
    ),
    "Pipfile.lock": (
        '{"_meta": {"hash": {"sha256": "0"}, "pipfile-spec": 6, "requires": {}, "sources": []},'
        ' "default": {"torch": {"version": "==2.1.0"}}, "develop": {}}\n'
    ),
    "pylock.toml": (
        'lock-version = "1.0"\ncreated-by = "test"\n\n'
        '[[packages]]\nname = "torch"\nversion = "2.1.0"\n'
    ),
    "environment.yml": "name: app\ndependencies:\n  - pytorch==2.1.0\n",
    "conda/environment.yaml": "name: app\ndependencies:\n  - pip\n  - pip:\n    - torch==2.1.0\n",
}


@pytest.mark.parametrize("relative", sorted(FILES))
def test_each_format_is_found_in_a_tree(tmp_path: Path, relative: str) -> None:
    path = tmp_path / "project" / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(FILES[relative])
    (tmp_path / "project" / "README.md").write_text("torch==2.1.0 mentioned in prose\n")
    report = mlwarden.scan(tmp_path / "project")
    hits = [f for f in report.findings if f.rule == "MW200"]
    assert hits, report.findings
    assert {f.location.path for f in hits} == {str(path)}
    assert {f.evidence["package"] for f in hits} == {"torch"}
    assert {f.evidence["version"] for f in hits} == {"2.1.0"}
