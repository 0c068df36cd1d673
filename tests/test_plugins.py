"""Third-party scanners published as ``mlwarden.scanners`` entry points."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

import mlwarden.scanners as registry
from mlwarden.engine import scan_bytes
from mlwarden.sniff import Kind

PLUGIN = """
from mlwarden.scanners.interface import Scanner
from mlwarden.sniff import Kind


class TodoScanner(Scanner):
    name = "todo-plugin"
    kinds = frozenset({Kind.TEXT})

    def scan(self, artifact, context):
        if b"TODO" in artifact.read_at_most(1024):
            yield self.finding(artifact, "MW002", "a TODO is left in the file")
"""


@pytest.fixture
def fresh_registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("MLWARDEN_DISABLE_PLUGINS", raising=False)
    monkeypatch.setattr(registry, "_REGISTRY", list(registry._REGISTRY))
    monkeypatch.setattr(registry, "_plugins_loaded", False)
    yield
    sys.modules.pop("mlwarden_todo_plugin", None)


def _install(site: Path, group: str) -> None:
    (site / "mlwarden_todo_plugin.py").write_text(textwrap.dedent(PLUGIN))
    info = site / "mlwarden_todo_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: mlwarden-todo-plugin\nVersion: 1.0\n"
    )
    (info / "entry_points.txt").write_text(f"[{group}]\ntodo = mlwarden_todo_plugin:TodoScanner\n")


def test_an_installed_plugin_scans(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_registry: None
) -> None:
    _install(tmp_path, registry.PLUGIN_GROUP)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert "todo-plugin" in [s.name for s in registry.scanners_for(Kind.TEXT)]
    findings = scan_bytes(b"TODO: rotate the keys\n", "notes.txt")
    assert [(f.rule, f.message) for f in findings] == [("MW002", "a TODO is left in the file")]


def test_plugins_can_be_turned_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_registry: None
) -> None:
    _install(tmp_path, registry.PLUGIN_GROUP)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("MLWARDEN_DISABLE_PLUGINS", "1")
    assert "todo-plugin" not in [s.name for s in registry.scanners_for(Kind.TEXT)]


def test_without_plugins_installed_metadata_is_not_consulted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_registry: None
) -> None:
    # A distribution publishing other entry points only.
    _install(tmp_path, "console_scripts")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert not registry._plugins_may_be_installed()
    import importlib.metadata

    def refuse(**_: object) -> object:
        raise AssertionError("entry points were looked up")

    monkeypatch.setattr(importlib.metadata, "entry_points", refuse)
    assert "todo-plugin" not in [s.name for s in registry.scanners_for(Kind.TEXT)]
