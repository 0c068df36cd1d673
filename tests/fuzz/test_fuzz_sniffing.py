"""What a loader accepts must reach a scanner: forms of real formats that libraries read but
that content sniffing could take for unknown bytes.

Each test builds a form that the named loader reads (checked once by hand with harmless
content, never here) around a payload, and asserts that the scan does not pass it as clean.
"""

from __future__ import annotations

import io
import json
import lzma
import tarfile
import tempfile
from pathlib import Path

import pytest
from fuzz_oracle import FUZZ, scan_file_soundly, scan_soundly
from fuzz_seeds import MARKER, keras_files, onnx_seeds, saved_model_pb
from hypothesis import given
from hypothesis import strategies as st

from mlwarden.findings import Severity

PAYLOAD = (
    b"\x80\x02cposix\nsystem\nX"
    + len(f"touch {MARKER}").to_bytes(4, "little")
    + f"touch {MARKER}".encode()
    + b"\x85R."
)
TEMPLATE_PAYLOAD = "{{ cycler.__init__.__globals__.os.popen('touch " + str(MARKER) + "').read() }}"


def _serious(findings: list) -> list:  # type: ignore[type-arg]
    return [f for f in findings if f.severity >= Severity.HIGH]


@FUZZ
@given(padding=st.integers(0, 12_000), template_first=st.booleans())
def test_tokenizer_configs_of_any_length_are_scanned(padding: int, template_first: bool) -> None:
    # Real tokenizer_config.json files run to tens of KiB, mostly long strings.
    template = "{% for m in messages %}" + " " * padding + "{{ m['content'] }}{% endfor %}"
    template += TEMPLATE_PAYLOAD
    tokens = {str(i): {"content": f"<t{i}>", "special": True} for i in range(30)}
    document: dict[str, object] = {"chat_template": template, "added_tokens_decoder": tokens}
    if not template_first:
        document = {"added_tokens_decoder": tokens, "chat_template": template}
    findings = scan_soundly(json.dumps(document, indent=2).encode(), "tokenizer_config.json")
    assert any(f.rule == "MW170" for f in findings), findings


@pytest.mark.parametrize("dict_size", [0x1000, 0x1800, 0x8000, 0xC000])
def test_lzma_streams_with_small_dictionaries_are_scanned(dict_size: int) -> None:
    filters = [{"id": lzma.FILTER_LZMA1, "dict_size": dict_size}]
    data = lzma.compress(PAYLOAD, format=lzma.FORMAT_ALONE, filters=filters)
    assert _serious(scan_soundly(data, "model.joblib"))


def _v7_tar(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    raw = bytearray(buffer.getvalue())
    raw[257:265] = bytes(8)  # no "ustar" magic or version: the original Unix layout
    raw[148:156] = b" " * 8
    raw[148:156] = b"%06o\x00 " % sum(raw[:512])
    return bytes(raw)


@pytest.mark.parametrize("member", ["storages", "pickle", "data.pkl"])
def test_tars_without_ustar_magic_are_scanned(member: str) -> None:
    archive = _v7_tar(member, PAYLOAD)
    with tarfile.open(fileobj=io.BytesIO(archive)) as readable:
        assert readable.getnames() == [member]
    assert _serious(scan_soundly(archive, "checkpoint.tar"))


def test_ustar_tar_with_the_same_member_is_scanned() -> None:
    # The control for the test above: the same archive with its magic is read.
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        info = tarfile.TarInfo("storages")
        info.size = len(PAYLOAD)
        archive.addfile(info, io.BytesIO(PAYLOAD))
    assert _serious(scan_soundly(buffer.getvalue(), "checkpoint.tar"))


def test_default_lzma_stream_is_scanned() -> None:
    data = lzma.compress(PAYLOAD, format=lzma.FORMAT_ALONE)
    assert _serious(scan_soundly(data, "model.joblib"))


def _with_user_block(h5: bytes, size: int) -> bytes:
    import h5py

    with tempfile.TemporaryDirectory() as folder:
        source, target = Path(folder, "source.h5"), Path(folder, "target.h5")
        source.write_bytes(h5)
        with h5py.File(source, "r") as old, h5py.File(target, "w", userblock_size=size) as new:
            for key, value in old.attrs.items():
                new.attrs[key] = value
            for name in old:
                old.copy(old[name], new, name=name)
        raw = target.read_bytes()
    # The user block is free for any content; HDF5 readers look for the superblock after it.
    return b"#" * size + raw[size:]


@pytest.mark.parametrize("size", [512, 4096])
def test_hdf5_with_a_user_block_is_scanned(size: int) -> None:
    files = keras_files()
    if files is None:
        pytest.skip("keras is not installed")
    findings = scan_file_soundly(_with_user_block(files["model.h5"], size), "model.h5")
    assert any(f.rule == "MW160" for f in findings), findings


def _fields_in_another_order(message: bytes) -> bytes:
    # Field 1 (a varint) moved behind the others: protobuf readers take fields in any order.
    assert message[0] == 0x08 and message[1] < 0x80
    return message[2:] + message[:2]


@pytest.mark.parametrize("name", ["model.onnx", "model.bin"])
def test_onnx_models_with_fields_in_any_order_are_scanned(name: str) -> None:
    model = _fields_in_another_order(onnx_seeds()[1].data)
    assert any(f.rule == "MW140" for f in scan_soundly(model, name))


@pytest.mark.parametrize("form", ["without-version", "version-last"])
def test_saved_models_with_fields_in_any_order_are_scanned(form: str) -> None:
    message = saved_model_pb()
    message = message[2:] if form == "without-version" else _fields_in_another_order(message)
    assert _serious(scan_soundly(message, "saved_model.pb"))


def test_json_whose_first_bytes_read_as_a_length_is_not_safetensors() -> None:
    # Regression: '{"data":{"...' has a '{' at byte 8, like a safetensors header.
    from mlwarden.sniff import Kind, sniff

    document = b'{"data":{"id": 1, "name": "iris"}}'
    assert sniff(document, "openml.json") is Kind.JSON
