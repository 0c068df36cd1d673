"""Hugging Face configs: custom code that ``trust_remote_code=True`` would import, and chat
templates in tokenizer configs.

``config.json``, ``tokenizer_config.json``, ``processor_config.json`` and the like are
recognised by content. Only small JSON documents that carry one of the keys of interest are
parsed; any other JSON is left alone, so data files cost one read and a byte search.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from mlwarden.findings import Finding, Severity
from mlwarden.scanners import register
from mlwarden.scanners.interface import Artifact, ScanContext, Scanner
from mlwarden.sniff import Kind

_MARKERS = (b'"auto_map"', b'"custom_pipelines"', b'"chat_template"')
_FORMAT = "huggingface-config"


def code_references(document: dict[str, Any]) -> list[tuple[str, str]]:
    """``(where, reference)`` for every class named by ``auto_map`` and ``custom_pipelines``."""
    refs: list[tuple[str, str]] = []
    auto_map = document.get("auto_map")
    if isinstance(auto_map, dict):
        for auto_class, value in auto_map.items():
            values = value if isinstance(value, list) else [value]
            refs.extend((f"auto_map.{auto_class}", v) for v in values if isinstance(v, str))
    pipelines = document.get("custom_pipelines")
    if isinstance(pipelines, dict):
        for task, spec in pipelines.items():
            if isinstance(spec, dict) and isinstance(spec.get("impl"), str):
                refs.append((f"custom_pipelines.{task}.impl", spec["impl"]))
    return refs


def split_reference(reference: str) -> tuple[str | None, str]:
    """``("org/repo", "module")`` for ``org/repo--module.Class``; ``(None, module)`` if local."""
    repo, sep, local = reference.partition("--")
    if not sep:
        repo, local = "", reference
    module = local.rsplit(".", 1)[0] if "." in local else local
    return (repo or None), module


def chat_templates(document: dict[str, Any]) -> list[tuple[str, str]]:
    """``(key, template)`` for the chat template(s) of a tokenizer config."""
    value = document.get("chat_template")
    if isinstance(value, str):
        return [("chat_template", value)]
    found: list[tuple[str, str]] = []
    if isinstance(value, list):
        for i, item in enumerate(value):
            if isinstance(item, dict) and isinstance(item.get("template"), str):
                found.append((f"chat_template[{item.get('name', i)}]", item["template"]))
    return found


@register
class HuggingFaceConfigScanner(Scanner):
    """``auto_map``/``custom_pipelines`` code references and chat templates in HF configs."""

    name = "huggingface-config"
    kinds = frozenset({Kind.JSON})

    def scan(self, artifact: Artifact, context: ScanContext) -> Iterator[Finding]:
        if artifact.size > context.limits.max_metadata_bytes:
            return  # configs are small; a large JSON file is data
        data = artifact.read_at_most(context.limits.max_metadata_bytes + 1)
        if not any(marker in data for marker in _MARKERS):
            return
        try:
            document = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            return  # not a config; the JSON sniffer saw only a plausible start
        if not isinstance(document, dict):
            return
        yield from self._code_findings(artifact, document)
        for key, template in chat_templates(document):
            context.check_time()
            yield from self._template_findings(artifact, key, template)

    def _code_findings(self, artifact: Artifact, document: dict[str, Any]) -> Iterator[Finding]:
        grouped: dict[tuple[str | None, str], list[str]] = {}
        for where, reference in code_references(document):
            grouped.setdefault(split_reference(reference), []).append(f"{where}={reference}")
        for (repo, module), uses in sorted(
            grouped.items(), key=lambda kv: (kv[0][0] or "", kv[0][1])
        ):
            origin = f"repository {repo!r}" if repo else "the model repository"
            yield self.finding(
                artifact,
                "MW190",
                f"module {module!r} from {origin} is imported with trust_remote_code=True "
                f"({', '.join(uses[:3])})",
                severity=Severity.HIGH if repo else Severity.MEDIUM,
                evidence={"format": _FORMAT, "module": module, "repository": repo, "uses": uses},
                key=f"{repo or ''}--{module}",
            )

    def _template_findings(self, artifact: Artifact, key: str, source: str) -> Iterator[Finding]:
        # jinja2's parser is imported only for files that carry a template.
        from mlwarden.scanners.models.chat_template import template_findings

        yield from template_findings(artifact, key, source, _FORMAT)


__all__ = ["HuggingFaceConfigScanner", "chat_templates", "code_references", "split_reference"]
