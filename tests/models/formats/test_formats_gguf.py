"""GGUF: headers checked against the file; chat templates parsed, never rendered."""

from __future__ import annotations

import struct
from pathlib import Path

import gguf
import numpy as np
import pytest
from template_samples import CHATML, INJECTION_VARIANTS

from mlwarden.engine import scan_file
from mlwarden.findings import Finding, Severity
from mlwarden.scanners.models.gguf import GGML_BLOCKS

LLAMA3 = """{{- bos_token }}
{%- set ns = namespace(system='', found=false) %}
{%- for message in messages %}
  {%- if message.role == 'system' %}
    {%- set ns.system = message.content | trim %}{%- continue %}
  {%- endif %}
  {%- if ns.system and loop.first %}{{ ns.system + '\n\n' }}{%- endif %}
  {%- if (message.role == 'user') != (loop.index0 % 2 == 0) %}
    {{- raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}
  {%- endif %}
  {%- if message.role == 'assistant' %}
    {%- generation %}{{ message.content.split('</think>')[-1].strip() }}{%- endgeneration %}
  {%- else %}
    {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'
        + message['content'] | trim + '<|eot_id|>' }}
  {%- endif %}
{%- endfor %}
{%- if tools %}{{ tools | map(attribute='function') | map('tojson') | join(', ') }}{%- endif %}
{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}
{%- endif %}"""


TOOLS = """{%- set system = messages | selectattr('role', 'equalto', 'system') | list %}
{%- if system | length > 0 %}{{ '<start_of_turn>system\n' + system[0]['content'] }}{%- endif %}
{%- if tools is defined and tools %}
  {%- for tool in tools %}{{ '\n' + (tool | tojson(indent=2)) }}{%- endfor %}
{%- endif %}
{%- for message in messages if message.role != 'system' %}
  {%- if loop.index > 64 %}{%- break %}{%- endif %}
  {%- set role = 'model' if message['role'] == 'assistant' else message['role'] %}
  {%- if message.tool_calls is defined %}
    {%- for call in message.tool_calls %}
      {{- '<tool_call>' + call.function.name + (call.function.arguments | tojson) }}
    {%- endfor %}
  {%- endif %}
  {{- '<start_of_turn>' + role + '\n' + message['content'][:4096] | trim + '<end_of_turn>\n' }}
  {%- if loop.last and add_generation_prompt %}{{ '<start_of_turn>model\n' }}{%- endif %}
{%- endfor %}"""


def _write(path: Path, templates: dict[str, str] | None = None, tensors: int = 1) -> Path:
    writer = gguf.GGUFWriter(path, "llama")
    writer.add_name("tiny")
    writer.add_context_length(128)
    writer.add_array("tokenizer.ggml.tokens", ["<s>", "</s>", "hello", "world"])
    writer.add_array("tokenizer.ggml.scores", [0.0, 0.0, -1.0, -2.0])
    for key, template in (templates or {"tokenizer.chat_template": CHATML}).items():
        writer.add_string(key, template)
    for i in range(tensors):
        writer.add_tensor(f"blk.{i}.weight", np.arange(64, dtype=np.float32).reshape(2, 32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def _scan(path: Path) -> list[Finding]:
    return scan_file(str(path), path).findings


def test_block_table_matches_gguf_package() -> None:
    for ggml_type, block in GGML_BLOCKS.items():
        assert gguf.GGML_QUANT_SIZES[gguf.GGMLQuantizationType(ggml_type)] == block


@pytest.mark.parametrize("template", [CHATML, LLAMA3, TOOLS])
def test_real_templates_are_clean(tmp_path: Path, template: str) -> None:
    path = _write(tmp_path / "model.gguf", {"tokenizer.chat_template": template}, tensors=3)
    assert _scan(path) == []


def test_no_template_is_clean(tmp_path: Path) -> None:
    path = _write(tmp_path / "model.gguf", {})
    assert _scan(path) == []


def test_cve_2024_34359_payload_is_critical_and_never_runs(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    payload = (
        "{% for x in ().__class__.__base__.__subclasses__() %}"
        "{% if 'warning' in x.__name__ %}"
        "{{ x()._module.__builtins__['__import__']('os').popen('touch " + str(marker) + "') }}"
        "{% endif %}{% endfor %}"
    )
    path = _write(tmp_path / "model.bin", {"tokenizer.chat_template": payload})
    findings = _scan(path)
    assert [f.rule for f in findings] == ["MW170"]
    finding = findings[0]
    assert finding.severity is Severity.CRITICAL
    assert finding.evidence["format"] == "gguf"
    assert finding.evidence["key"] == "tokenizer.chat_template"
    assert any("__subclasses__" in c for c in finding.evidence["constructs"])
    assert not marker.exists()


@pytest.mark.parametrize("template", INJECTION_VARIANTS)
def test_injection_variants(tmp_path: Path, template: str) -> None:
    path = _write(tmp_path / "m.gguf", {"tokenizer.chat_template.tool_use": template})
    findings = _scan(path)
    assert [f.rule for f in findings] == ["MW170"]
    assert findings[0].evidence["key"] == "tokenizer.chat_template.tool_use"


def test_include_is_reported(tmp_path: Path) -> None:
    path = _write(tmp_path / "m.gguf", {"tokenizer.chat_template": "{% include '/etc/passwd' %}"})
    findings = _scan(path)
    assert [f.rule for f in findings] == ["MW172"]
    assert findings[0].severity is Severity.MEDIUM


def test_unparsable_template(tmp_path: Path) -> None:
    path = _write(tmp_path / "m.gguf", {"tokenizer.chat_template": "{% if %}{{ x"})
    assert [f.rule for f in _scan(path)] == ["MW171"]


@pytest.mark.parametrize("literal", ["9" * 5000, "1.\u0663"])
def test_template_with_an_unreadable_literal_is_unparsable(tmp_path: Path, literal: str) -> None:
    # jinja2 fails on these with ValueError or SyntaxError rather than a template error.
    path = _write(tmp_path / "m.gguf", {"tokenizer.chat_template": "{{ " + literal + " }}"})
    findings = _scan(path)
    assert [f.rule for f in findings] == ["MW171"]
    assert "literal" in findings[0].message


@pytest.mark.parametrize("cut", [5, 10, 30, 200, -4])
def test_truncated_file_fails_closed(tmp_path: Path, cut: int) -> None:
    data = _write(tmp_path / "full.gguf").read_bytes()
    path = tmp_path / "cut.gguf"
    path.write_bytes(data[:cut])
    findings = _scan(path)
    assert [f.rule for f in findings] == ["MW002"]
    assert findings[0].severity is Severity.HIGH


def test_absurd_counts_fail_closed(tmp_path: Path) -> None:
    path = tmp_path / "bomb.gguf"
    path.write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 2**60, 2**60) + bytes(64))
    assert [f.rule for f in _scan(path)] == ["MW002"]


def test_version_one_header(tmp_path: Path) -> None:
    # v1 uses 32-bit counts and lengths; one string key, no tensor.
    key, value = b"general.name", b"tiny"
    data = b"GGUF" + struct.pack("<III", 1, 0, 1)
    data += struct.pack("<I", len(key)) + key + struct.pack("<II", 8, len(value)) + value
    path = tmp_path / "v1.gguf"
    path.write_bytes(data)
    assert _scan(path) == []


def _raw_v3(strings: list[tuple[str, str]]) -> bytes:
    data = b"GGUF" + struct.pack("<IQQ", 3, 0, len(strings))
    for key, value in strings:
        k, v = key.encode(), value.encode()
        data += struct.pack("<Q", len(k)) + k + struct.pack("<IQ", 8, len(v)) + v
    return data


def test_duplicate_template_key_fails_closed(tmp_path: Path) -> None:
    # Which copy a reader keeps differs; a clean first copy must not hide a second one.
    path = tmp_path / "dup.gguf"
    path.write_bytes(
        _raw_v3(
            [
                ("tokenizer.chat_template", CHATML),
                ("tokenizer.chat_template", "{{ lipsum.__globals__ }}"),
            ]
        )
    )
    findings = _scan(path)
    assert [f.rule for f in findings] == ["MW002"]
    assert "duplicate" in findings[0].message


def test_raw_v3_template_is_analysed(tmp_path: Path) -> None:
    path = tmp_path / "raw.gguf"
    path.write_bytes(_raw_v3([("tokenizer.chat_template", "{{ lipsum.__globals__ }}")]))
    assert [f.rule for f in _scan(path)] == ["MW170"]


def test_deeply_nested_arrays_fail_closed(tmp_path: Path) -> None:
    data = (
        b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + struct.pack("<Q", 1) + b"k" + struct.pack("<I", 9)
    )
    data += struct.pack("<IQ", 9, 1) * 10_000 + struct.pack("<IQ", 4, 0)
    path = tmp_path / "nested.gguf"
    path.write_bytes(data)
    findings = _scan(path)
    assert [f.rule for f in findings] == ["MW002"]
    assert "nested" in findings[0].message
