"""Seed artifacts for fuzzing: real files made by the real libraries, built once per process.

Each seed carries the kind the engine should sniff it as and the offsets of its length fields,
so that mutations can aim at the fields parsers trust most.
"""

from __future__ import annotations

import bz2
import functools
import gzip
import io
import json
import lzma
import os
import pickle
import pickletools
import tarfile
import tempfile
import warnings
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlwarden.sniff import Kind

#: A payload in a seed would create this file if it ever ran; the fuzz session checks it never
#: appears.
MARKER = Path(tempfile.gettempdir()) / f"mlwarden-fuzz-pwned-{os.getpid()}"


@dataclass(frozen=True)
class LengthField:
    """A length or count in the seed: ``width`` bytes at ``offset``, in ``encoding``."""

    offset: int
    width: int
    encoding: str = "le"  # "le", "be" or "octal" (tar headers)


@dataclass(frozen=True)
class Seed:
    """A real artifact to mutate."""

    name: str
    data: bytes
    kind: Kind
    fields: tuple[LengthField, ...] = ()
    benign: bool = True
    needs_file: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


class _Call:
    """Pickles as a call of ``function(*args)``; pickling calls nothing."""

    def __init__(self, function: Any, *args: Any) -> None:
        self.function, self.args = function, args

    def __reduce__(self) -> tuple[Any, ...]:
        return self.function, self.args


# --- pickle ----------------------------------------------------------------------------------

_LENGTH_PREFIXED = {
    "BINUNICODE": 4,
    "BINBYTES": 4,
    "BINSTRING": 4,
    "BINUNICODE8": 8,
    "BINBYTES8": 8,
    "BYTEARRAY8": 8,
    "FRAME": 8,
    "SHORT_BINUNICODE": 1,
    "SHORT_BINBYTES": 1,
    "SHORT_BINSTRING": 1,
    "LONG1": 1,
    "LONG4": 4,
}


def pickle_length_fields(data: bytes) -> tuple[LengthField, ...]:
    """The offsets of every length argument in a pickle (decoded, never loaded)."""
    found: list[LengthField] = []
    try:
        for opcode, _arg, pos in pickletools.genops(io.BytesIO(data)):
            width = _LENGTH_PREFIXED.get(opcode.name)
            if width and pos is not None:
                found.append(LengthField(pos + 1, width))
    except Exception:  # a seed that stops parsing still has the fields found so far
        pass
    return tuple(found)


def _pickle_seed(name: str, data: bytes, benign: bool = True) -> Seed:
    return Seed(name, data, Kind.PICKLE, pickle_length_fields(data), benign=benign)


def _fitted_classifier() -> Any:
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    features = rng.normal(size=(40, 3))
    return LogisticRegression().fit(features, (features[:, 0] > 0).astype(int))


def _torch_state() -> dict[str, Any]:
    import torch

    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU()).state_dict()


@functools.cache
def pickle_seeds() -> tuple[Seed, ...]:
    """Plain pickles of every protocol, the pickle inside torch.save, joblib and a payload."""
    import joblib
    import numpy as np

    classifier = _fitted_classifier()
    objects = {"classes": [0, 1], "scale": 0.5, "name": "clf", "shape": (3, 4), "flag": True}
    seeds = [_pickle_seed(f"protocol{p}.pkl", pickle.dumps(objects, protocol=p)) for p in range(6)]
    seeds.append(_pickle_seed("sklearn.pkl", pickle.dumps(classifier, protocol=4)))
    seeds.append(_pickle_seed("numpy.pkl", pickle.dumps(np.arange(12).reshape(3, 4), protocol=2)))
    torch_zip = zipfile.ZipFile(io.BytesIO(torch_checkpoint()))
    data_pkl = next(n for n in torch_zip.namelist() if n.endswith("data.pkl"))
    seeds.append(_pickle_seed("data.pkl", torch_zip.read(data_pkl)))
    buffer = io.BytesIO()
    joblib.dump({"model": classifier, "w": np.ones(8)}, buffer)
    seeds.append(_pickle_seed("model.joblib", buffer.getvalue()))
    payload = [_Call(os.system, f"touch {MARKER}"), {"epoch": 1}]
    seeds.append(_pickle_seed("payload.pkl", pickle.dumps(payload, protocol=2), benign=False))
    seeds.append(
        _pickle_seed(
            "payload0.pkl", pickle.dumps(_Call(eval, f"open({str(MARKER)!r}, 'w')"), 0), False
        )
    )
    return tuple(seeds)


@functools.cache
def torch_checkpoint() -> bytes:
    """``torch.save`` of a small state dict (the zip format)."""
    import torch

    buffer = io.BytesIO()
    torch.save(_torch_state(), buffer)
    return buffer.getvalue()


@functools.cache
def torch_legacy_checkpoint() -> bytes:
    """The pre-1.6 format: several pickles back to back, then raw storage bytes."""
    import torch

    buffer = io.BytesIO()
    torch.save(_torch_state(), buffer, _use_new_zipfile_serialization=False)
    return buffer.getvalue()


@functools.cache
def torchscript_archive() -> bytes:
    """``torch.jit.save`` of a scripted module: a zip with code and constants pickles."""
    import torch

    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # still the format in the wild
        torch.jit.save(torch.jit.script(torch.nn.Linear(3, 2)), buffer)
    return buffer.getvalue()


# --- numpy -----------------------------------------------------------------------------------


@functools.cache
def numpy_seeds() -> tuple[Seed, ...]:
    """``.npy`` files of numeric, structured and object dtypes; the header length is a u16."""
    import numpy as np

    def npy(array: Any) -> bytes:
        buffer = io.BytesIO()
        np.save(buffer, array, allow_pickle=True)
        return buffer.getvalue()

    objects = np.empty(3, dtype=object)
    objects[:] = ["a", {"b": 1}, _Call(exec, f"open({str(MARKER)!r}, 'w')")]
    structured = np.zeros(4, dtype=[("id", "<i4"), ("score", "<f8"), ("tag", "S3")])
    header = [LengthField(8, 2)]
    return (
        Seed("floats.npy", npy(np.linspace(0, 1, 24).reshape(4, 6)), Kind.NUMPY, (*header,)),
        Seed("structured.npy", npy(structured), Kind.NUMPY, (*header,)),
        Seed("fortran.npy", npy(np.asfortranarray(np.eye(3))), Kind.NUMPY, (*header,)),
        Seed("objects.npy", npy(objects), Kind.NUMPY, (*header,), benign=False),
    )


@functools.cache
def npz_seeds() -> tuple[Seed, ...]:
    """``numpy.savez`` and ``savez_compressed`` archives."""
    import numpy as np

    plain, packed = io.BytesIO(), io.BytesIO()
    np.savez(plain, weights=np.ones((3, 3)), bias=np.zeros(3))
    np.savez_compressed(packed, weights=np.arange(50.0), labels=np.array(["a", "b"]))
    return (
        Seed("arrays.npz", plain.getvalue(), Kind.ZIP, zip_length_fields(plain.getvalue())),
        Seed("packed.npz", packed.getvalue(), Kind.ZIP, zip_length_fields(packed.getvalue())),
    )


# --- archives --------------------------------------------------------------------------------


def zip_length_fields(data: bytes) -> tuple[LengthField, ...]:
    """Sizes, name lengths and offsets in local headers, the central directory and its end."""
    found: list[LengthField] = []
    start = 0
    while (at := data.find(b"PK\x03\x04", start)) >= 0:
        found += [LengthField(at + 18, 4), LengthField(at + 22, 4), LengthField(at + 26, 2)]
        start = at + 4
    start = 0
    while (at := data.find(b"PK\x01\x02", start)) >= 0:
        found += [LengthField(at + 20, 4), LengthField(at + 24, 4), LengthField(at + 42, 4)]
        found.append(LengthField(at + 28, 2))
        start = at + 4
    end = data.rfind(b"PK\x05\x06")
    if end >= 0:
        found += [LengthField(end + 10, 2), LengthField(end + 12, 4), LengthField(end + 16, 4)]
    return tuple(found)


def _zip(members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _tar(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _tar_fields(data: bytes) -> tuple[LengthField, ...]:
    return tuple(
        LengthField(at + 124, 11, "octal")
        for at in range(0, len(data) - 512, 512)
        if data[at + 257 : at + 262] == b"ustar"
    )


@functools.cache
def archive_seeds() -> tuple[Seed, ...]:
    """Zip, tar and compressed streams around pickles, the forms model files travel in."""
    import joblib

    inner = pickle_seeds()[3].data
    payload = pickle_seeds()[-2].data
    nested = _zip({"inner/data.pkl": inner, "README": b"weights"})
    seeds = [
        Seed("checkpoint.pt", torch_checkpoint(), Kind.ZIP, zip_length_fields(torch_checkpoint())),
        Seed(
            "scripted.pt", torchscript_archive(), Kind.ZIP, zip_length_fields(torchscript_archive())
        ),
        Seed(
            "legacy.pt",
            torch_legacy_checkpoint(),
            Kind.PICKLE,
            pickle_length_fields(torch_legacy_checkpoint()),
        ),
        Seed(
            "bundle.zip",
            _zip({"model/data.pkl": payload, "nested.zip": nested}, zipfile.ZIP_DEFLATED),
            Kind.ZIP,
            benign=False,
        ),
        Seed("bundle.tar", _tar({"model/data.pkl": inner, "nested.zip": nested}), Kind.TAR),
    ]
    seeds[-1] = Seed(seeds[-1].name, seeds[-1].data, Kind.TAR, _tar_fields(seeds[-1].data))
    seeds[-2] = Seed(
        seeds[-2].name, seeds[-2].data, Kind.ZIP, zip_length_fields(seeds[-2].data), benign=False
    )
    streams = {
        "model.pkl.gz": gzip.compress(inner),
        "model.pkl.bz2": bz2.compress(inner),
        "model.pkl.xz": lzma.compress(inner),
        "model.pkl.lzma": lzma.compress(inner, format=lzma.FORMAT_ALONE),
        "model.pkl.z": zlib.compress(inner),
        "bundle.tar.gz": gzip.compress(_tar({"data.pkl": payload})),
    }
    seeds += [
        Seed(name, data, Kind.COMPRESSED, benign=name != "bundle.tar.gz")
        for name, data in streams.items()
    ]
    for method in ("zlib", "gzip", "bz2", "lzma", "xz"):
        buffer = io.BytesIO()
        joblib.dump({"w": list(range(20))}, buffer, compress=(method, 3))
        seeds.append(Seed(f"compressed-{method}.joblib", buffer.getvalue(), Kind.COMPRESSED))
    return tuple(seeds)


# --- keras -----------------------------------------------------------------------------------


@functools.cache
def keras_files() -> dict[str, bytes] | None:
    """A ``.keras`` zip and a legacy ``.h5`` model with a Lambda layer, or None without keras."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    try:
        import keras
    except ImportError:
        return None
    inputs = keras.Input(shape=(4,), name="features")
    scaled = keras.layers.Lambda(lambda x: x * 2.0, output_shape=(4,), name="scale")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(2, name="score")(scaled), name="probe")
    out: dict[str, bytes] = {}
    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in ("model.keras", "model.h5"):
            model.save(Path(folder, name))
            out[name] = Path(folder, name).read_bytes()
    return out


# --- protobuf formats --------------------------------------------------------------------------


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _field(number: int, payload: bytes | str | int) -> bytes:
    if isinstance(payload, int):
        return _varint(number << 3) + _varint(payload)
    raw = payload.encode() if isinstance(payload, str) else payload
    return _varint(number << 3 | 2) + _varint(len(raw)) + raw


def _node(name: str, op: str, *inputs: str, attrs: dict[str, bytes] | None = None) -> bytes:
    body = _field(1, name) + _field(2, op) + b"".join(_field(3, i) for i in inputs)
    for key, value in (attrs or {}).items():
        body += _field(5, _field(1, key) + _field(2, value))
    return body


@functools.cache
def saved_model_pb() -> bytes:
    """A TensorFlow ``saved_model.pb`` (SavedModel > MetaGraphDef > GraphDef > NodeDef).

    TensorFlow itself is not a test dependency, so the message is encoded field by field
    following tensorflow/core/protobuf/saved_model.proto and meta_graph.proto.
    """
    string_attr = _field(2, b"/tmp/weights.bin")  # AttrValue.s
    nodes = [
        _node("x", "Placeholder", attrs={"dtype": _field(6, 1)}),
        _node("filename", "Const", attrs={"value": string_attr}),
        _node("read", "ReadFile", "filename"),
        _node("double", "AddV2", "x", "x"),
        _node("py", "PyFunc", "x", attrs={"token": _field(2, b"pyfunc_0")}),
    ]
    graph = b"".join(_field(1, n) for n in nodes) + _field(4, _field(1, 1400))  # versions
    meta_info = _field(1, "serve") + _field(4, "serve") + _field(7, "2.15.0")
    meta_graph = _field(1, meta_info) + _field(2, graph)
    return _field(1, 1) + _field(2, meta_graph)


@functools.cache
def onnx_seeds() -> tuple[Seed, ...]:
    """ONNX models made with onnx.helper: raw initializers, and one with external data."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    weight = numpy_helper.from_array(np.arange(12, dtype=np.float32).reshape(4, 3), "weight")
    bias = numpy_helper.from_array(np.ones(3, dtype=np.float32), "bias")
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "weight"], ["h"]),
            helper.make_node("Add", ["h", "bias"], ["y"], name="add"),
        ],
        "fuzz",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])],
        initializer=[weight, bias],
    )
    model = helper.make_model(
        graph, producer_name="fuzz", opset_imports=[helper.make_opsetid("", 17)]
    )
    model.metadata_props.add(key="author", value="fuzz")
    external = onnx.ModelProto()
    external.CopyFrom(model)
    tensor = external.graph.initializer[0]
    tensor.ClearField("raw_data")
    tensor.data_location = TensorProto.EXTERNAL
    for key, value in (("location", "../../etc/passwd"), ("offset", "0"), ("length", "48")):
        entry = tensor.external_data.add()
        entry.key, entry.value = key, value
    return (
        Seed("model.onnx", model.SerializeToString(), Kind.ONNX),
        Seed("external.onnx", external.SerializeToString(), Kind.ONNX, benign=False),
    )


# --- gguf, safetensors, json -----------------------------------------------------------------


@functools.cache
def gguf_seed() -> Seed:
    """A GGUF file with scalar, string and array metadata, a chat template and two tensors."""
    import gguf
    import numpy as np

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "model.gguf")
        writer = gguf.GGUFWriter(str(path), "llama")
        writer.add_name("fuzz")
        writer.add_context_length(64)
        writer.add_chat_template(
            "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
        )
        writer.add_array("tokenizer.ggml.tokens", ["<s>", "</s>", "a", "b"])
        writer.add_array("fuzz.scores", [0.5, 0.25, 0.125])
        writer.add_tensor("token_embd.weight", np.zeros((4, 8), dtype=np.float32))
        writer.add_tensor("output.weight", np.ones((8, 4), dtype=np.float16))
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
        data = path.read_bytes()
    # Header: magic, version u32, tensor count u64, metadata count u64, then the first key's
    # length (u64); the rest are found by scanning for the writer's key names.
    fields = [LengthField(4, 4), LengthField(8, 8), LengthField(16, 8), LengthField(24, 8)]
    for key in (
        b"general.name",
        b"llama.context_length",
        b"tokenizer.chat_template",
        b"tokenizer.ggml.tokens",
        b"fuzz.scores",
        b"token_embd.weight",
    ):
        at = data.find(key)
        if at >= 8:
            fields.append(LengthField(at - 8, 8))
            fields.append(LengthField(at + len(key) + 4, 8))  # a value length or array count
    return Seed("model.gguf", data, Kind.GGUF, tuple(fields))


@functools.cache
def safetensors_seed() -> Seed:
    """``safetensors.numpy.save`` of a few tensors with metadata; the header length is a u64."""
    import numpy as np
    from safetensors.numpy import save

    data = save(
        {
            "embed.weight": np.arange(24, dtype=np.float32).reshape(4, 6),
            "embed.bias": np.zeros(6, dtype=np.float16),
            "steps": np.array([3], dtype=np.int64),
        },
        metadata={"format": "np", "source": "fuzz"},
    )
    return Seed("model.safetensors", data, Kind.SAFETENSORS, (LengthField(0, 8),))


@functools.cache
def huggingface_seeds() -> tuple[Seed, ...]:
    """config.json, tokenizer_config.json (chat template) and generation_config.json."""
    documents = {
        "config.json": {
            "architectures": ["BertForSequenceClassification"],
            "model_type": "bert",
            "hidden_size": 64,
            "id2label": {"0": "negative", "1": "positive"},
            "auto_map": {"AutoModel": "modeling_fuzz.FuzzModel"},
            "torch_dtype": "float32",
        },
        "tokenizer_config.json": {
            "tokenizer_class": "PreTrainedTokenizerFast",
            "chat_template": "{% for m in messages %}{{ m['content'] }}{% endfor %}",
            "model_max_length": 512,
            "added_tokens_decoder": {"0": {"content": "<pad>", "special": True}},
        },
        "generation_config.json": {"max_new_tokens": 32, "do_sample": False},
    }
    return tuple(
        Seed(name, json.dumps(doc, indent=2).encode(), Kind.JSON, benign=name != "config.json")
        for name, doc in documents.items()
    )


def encode_length(value: int, length_field: LengthField) -> bytes:
    """``value`` written into ``length_field``, truncated to its width."""
    width = length_field.width
    if length_field.encoding == "octal":
        text = format(value % 8**width, "o").rjust(width, "0")[-width:]
        return text.encode()
    value %= 256**width
    order = "little" if length_field.encoding == "le" else "big"
    return value.to_bytes(width, order)
