"""Hugging Face configs: auto_map code references and tokenizer chat templates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mlwarden.engine import scan_bytes, scan_file
from mlwarden.findings import Finding, Severity

PLAIN_CONFIG = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "hidden_size": 64,
    "num_attention_heads": 4,
    "torch_dtype": "bfloat16",
}


def _scan(document: Any, name: str = "config.json") -> list[Finding]:
    return scan_bytes(json.dumps(document, indent=2).encode(), name)


def test_plain_config_is_clean() -> None:
    assert _scan(PLAIN_CONFIG) == []


def test_auto_map_in_repository_is_medium() -> None:
    config = {
        **PLAIN_CONFIG,
        "auto_map": {
            "AutoConfig": "configuration_phi.PhiConfig",
            "AutoModelForCausalLM": "modeling_phi.PhiForCausalLM",
        },
    }
    findings = _scan(config)
    assert sorted((f.rule, f.evidence["module"]) for f in findings) == [
        ("MW190", "configuration_phi"),
        ("MW190", "modeling_phi"),
    ]
    assert all(f.severity is Severity.MEDIUM for f in findings)
    assert all(f.evidence["format"] == "huggingface-config" for f in findings)


def test_auto_map_in_another_repository_is_high() -> None:
    tokenizer = {
        "tokenizer_class": "FancyTokenizer",
        "auto_map": {"AutoTokenizer": ["someone/else--tokenization_fancy.FancyTokenizer", None]},
    }
    findings = _scan(tokenizer, "tokenizer_config.json")
    assert [(f.rule, f.severity) for f in findings] == [("MW190", Severity.HIGH)]
    assert findings[0].evidence["repository"] == "someone/else"
    assert findings[0].evidence["module"] == "tokenization_fancy"


def test_custom_pipeline() -> None:
    config = {**PLAIN_CONFIG, "custom_pipelines": {"text-x": {"impl": "pipe_x.XPipeline"}}}
    findings = _scan(config)
    assert [(f.rule, f.evidence["module"]) for f in findings] == [("MW190", "pipe_x")]


def test_tokenizer_chat_template_injection(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    template = "{{ cycler.__init__.__globals__.os.popen('touch " + str(marker) + "').read() }}"
    path = tmp_path / "tokenizer_config.json"
    path.write_text(json.dumps({"chat_template": template, "bos_token": "<s>"}))
    findings = scan_file(str(path), path).findings
    assert [(f.rule, f.severity) for f in findings] == [("MW170", Severity.CRITICAL)]
    assert findings[0].evidence["key"] == "chat_template"
    assert not marker.exists()


def test_named_chat_templates() -> None:
    tokenizer = {
        "chat_template": [
            {"name": "default", "template": "{% for m in messages %}{{ m.content }}{% endfor %}"},
            {"name": "tool_use", "template": "{{ ''|attr('__class__') }}"},
        ]
    }
    findings = _scan(tokenizer, "tokenizer_config.json")
    assert [(f.rule, f.evidence["key"]) for f in findings] == [("MW170", "chat_template[tool_use]")]


def test_non_model_json_is_ignored() -> None:
    for doc in (
        {"auto_map": "not a mapping"},
        {"rows": [{"chat_template": 3}]},
        ["auto_map"],
        {"name": "package", "version": "1.0"},
    ):
        assert _scan(doc, "data.json") == []
