"""Fuzz the Hugging Face configuration scanner: damaged and arbitrary JSON documents."""

from __future__ import annotations

import json

from fuzz_mutations import JSON_VALUES, chat_templates, mutated_seed
from fuzz_oracle import FUZZ, scan_soundly
from fuzz_seeds import Seed, huggingface_seeds
from hypothesis import given
from hypothesis import strategies as st

NAMES = st.sampled_from(
    ["config.json", "tokenizer_config.json", "generation_config.json", "adapter_config.json"]
)
KEYS = st.sampled_from(
    [
        "auto_map",
        "chat_template",
        "architectures",
        "model_type",
        "trust_remote_code",
        "custom_pipelines",
        "tokenizer_class",
        "processor_class",
        "quantization_config",
    ]
)


@FUZZ
@given(case=st.deferred(lambda: mutated_seed(huggingface_seeds())))
def test_damaged_hf_configs_scan_soundly(case: tuple[Seed, bytes]) -> None:
    seed, data = case
    scan_soundly(data, seed.name)


@FUZZ
@given(
    name=NAMES,
    document=st.dictionaries(st.one_of(KEYS, st.text(max_size=10)), JSON_VALUES, max_size=8),
)
def test_arbitrary_hf_documents_scan_soundly(name: str, document: dict[str, object]) -> None:
    scan_soundly(json.dumps(document).encode(), name)


@FUZZ
@given(name=NAMES, depth=st.integers(1, 5000), opener=st.sampled_from(["[", '{"auto_map":']))
def test_deeply_nested_json_scans_soundly(name: str, depth: int, opener: str) -> None:
    closer = "]" if opener == "[" else "}"
    scan_soundly((opener * depth + "1" + closer * depth).encode(), name)


@FUZZ
@given(template=chat_templates(), as_list=st.booleans())
def test_tokenizer_configs_with_arbitrary_chat_templates_scan_soundly(
    template: str, as_list: bool
) -> None:
    value: object = [{"name": "default", "template": template}] if as_list else template
    document = {"tokenizer_class": "PreTrainedTokenizerFast", "chat_template": value}
    scan_soundly(json.dumps(document).encode(), "tokenizer_config.json")
