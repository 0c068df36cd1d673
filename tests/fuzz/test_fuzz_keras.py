"""Fuzz the Keras scanner: damaged .keras zips and config.json documents, damaged .h5 files."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest
from fuzz_mutations import JSON_VALUES, mutated_bytes, zip_with_mutated_member
from fuzz_oracle import FUZZ, scan_file_soundly, scan_soundly
from fuzz_seeds import keras_files
from hypothesis import given, settings
from hypothesis import strategies as st


def _keras() -> dict[str, bytes]:
    files = keras_files()
    if files is None:
        pytest.skip("keras is not installed")
    return files


def _replace_config(archive: bytes, config: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(archive)) as source, zipfile.ZipFile(buffer, "w") as out:
        for info in source.infolist():
            data = config if info.filename == "config.json" else source.read(info)
            out.writestr(info.filename, data)
    return buffer.getvalue()


@st.composite
def _config_with_replaced_subtree(draw: st.DrawFn, config: Any) -> Any:
    """The config with one dict value or list item, at any depth, replaced by other JSON."""
    if isinstance(config, dict) and config and draw(st.integers(0, 3)):
        key = draw(st.sampled_from(sorted(config)))
        return {**config, key: draw(_config_with_replaced_subtree(config[key]))}
    if isinstance(config, list) and config and draw(st.integers(0, 3)):
        at = draw(st.integers(0, len(config) - 1))
        return [*config[:at], draw(_config_with_replaced_subtree(config[at])), *config[at + 1 :]]
    return draw(JSON_VALUES)


def test_keras_seeds_exist() -> None:
    assert set(_keras()) == {"model.keras", "model.h5"}


@FUZZ
@given(data=st.data())
def test_keras_zip_with_damaged_members_scans_soundly(data: st.DataObject) -> None:
    archive = _keras()["model.keras"]
    scan_soundly(data.draw(zip_with_mutated_member(archive)), "model.keras")


@FUZZ
@given(data=st.data())
def test_keras_config_with_replaced_subtrees_scans_soundly(data: st.DataObject) -> None:
    archive = _keras()["model.keras"]
    with zipfile.ZipFile(io.BytesIO(archive)) as source:
        config = json.loads(source.read("config.json"))
    changed = data.draw(_config_with_replaced_subtree(config))
    scan_soundly(_replace_config(archive, json.dumps(changed).encode()), "model.keras")


@FUZZ
@given(data=st.data())
def test_damaged_keras_h5_files_scan_soundly(data: st.DataObject) -> None:
    h5 = _keras()["model.h5"]
    scan_file_soundly(data.draw(mutated_bytes(h5)), "model.h5")


@FUZZ
@given(data=st.data())
def test_keras_h5_with_damaged_model_config_scans_soundly(data: st.DataObject) -> None:
    # The model_config attribute is JSON stored in the HDF5 file; damage only that text.
    h5 = _keras()["model.h5"]
    start = h5.find(b'{"module"')
    if start < 0:
        start = h5.find(b'{"class_name"')
    assert start >= 0
    end = h5.find(b"\x00", start)
    text = h5[start:end]
    damaged = data.draw(mutated_bytes(text))[: len(text)].ljust(len(text), b" ")
    scan_file_soundly(h5[:start] + damaged + h5[end:], "model.h5")


@settings(FUZZ, max_examples=30)
@given(depth=st.integers(1, 20_000), where=st.sampled_from(["layers", "function", "module"]))
def test_keras_configs_nested_past_the_decoder_depth_scan_soundly(depth: int, where: str) -> None:
    archive = _keras()["model.keras"]
    nested = "[" * depth + "1" + "]" * depth
    config = '{"class_name": "Functional", "config": {"%s": %s}}' % (where, nested)  # noqa: UP031
    scan_soundly(_replace_config(archive, config.encode()), "model.keras")
