"""Benign model files, each written by the library that owns the format."""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")

#: path (relative to the corpus root) -> technique / description
Labels = dict[str, str]


def torch_files(root: Path, labels: Labels) -> None:
    """State dicts and checkpoints from real modules, zip and legacy serialisation."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    modules: dict[str, Callable[[], nn.Module]] = {
        "linear": lambda: nn.Linear(16, 4),
        "mlp": lambda: nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 10)),
        "conv": lambda: nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.Conv2d(8, 4, 3)),
        "lstm": lambda: nn.LSTM(8, 16, num_layers=2),
        "gru": lambda: nn.GRU(8, 8),
        "embedding": lambda: nn.Embedding(100, 16),
        "transformer": lambda: nn.TransformerEncoder(
            nn.TransformerEncoderLayer(32, 4, 64, batch_first=True), 2
        ),
        "layernorm": lambda: nn.LayerNorm(32),
        "multihead": lambda: nn.MultiheadAttention(16, 2),
        "convtranspose": lambda: nn.ConvTranspose2d(4, 2, 3),
    }
    out = root / "torch"
    out.mkdir(parents=True, exist_ok=True)
    for name, make in modules.items():
        module = make()
        state = module.state_dict()
        for ext in ("pt", "pth", "bin"):
            path = out / f"{name}_state.{ext}"
            torch.save(state, path)
            labels[str(path.relative_to(root))] = f"torch.save state_dict ({ext})"
        path = out / f"{name}_legacy.pt"
        torch.save(state, path, _use_new_zipfile_serialization=False)
        labels[str(path.relative_to(root))] = "torch.save legacy (non-zip) state_dict"
        optimizer = torch.optim.Adam(module.parameters())
        checkpoint = {
            "epoch": 3,
            "model": state,
            "optimizer": optimizer.state_dict(),
            "metrics": {"loss": 0.25, "acc": [0.5, 0.75]},
            "name": name,
        }
        path = out / f"{name}_checkpoint.ckpt"
        torch.save(checkpoint, path)
        labels[str(path.relative_to(root))] = "torch.save training checkpoint with optimizer"
    dtypes = {
        "float16": torch.float16,
        "bfloat16": torch.bfloat16,
        "int8": torch.int8,
        "bool": torch.bool,
        "int64": torch.int64,
        "complex64": torch.complex64,
    }
    for name, dtype in dtypes.items():
        path = out / f"tensors_{name}.pt"
        torch.save({"a": torch.zeros(4, 4, dtype=dtype), "b": torch.ones(3, dtype=dtype)}, path)
        labels[str(path.relative_to(root))] = f"torch.save tensors {name}"
    shared = torch.arange(20.0)
    path = out / "shared_views.pt"
    torch.save({"whole": shared, "view": shared[5:10], "list": [shared, 1, "x"]}, path)
    labels[str(path.relative_to(root))] = "torch.save views sharing one storage"
    _torch_special(root, out, labels)


def _torch_special(root: Path, out: Path, labels: Labels) -> None:
    """Checkpoints whose pickles use less common but legitimate torch and numpy globals."""
    import numpy as np
    import torch
    from torch import nn

    special = {
        "parameters": {"w": nn.Parameter(torch.ones(3, 3)), "b": nn.Parameter(torch.zeros(3))},
        "quantized": {"q": torch.quantize_per_tensor(torch.ones(4), 0.1, 0, torch.quint8)},
        "sparse": {"s": torch.eye(4).to_sparse()},
        "with_numpy": {"weights": torch.ones(2), "np": np.arange(4.0), "seed": np.int64(7)},
        "sizes_and_dtypes": {"size": torch.Size([3, 4]), "dtype": torch.float16, "n": 3.5},
    }
    for name, obj in special.items():
        path = out / f"special_{name}.pt"
        torch.save(obj, path)
        labels[str(path.relative_to(root))] = f"torch.save with {name}"


def sklearn_files(root: Path, labels: Labels) -> None:
    """Fitted scikit-learn estimators through pickle and joblib (every compressor)."""
    import joblib
    import numpy as np
    from sklearn.cluster import KMeans
    from sklearn.compose import ColumnTransformer
    from sklearn.datasets import load_iris
    from sklearn.decomposition import PCA
    from sklearn.ensemble import (
        GradientBoostingClassifier,
        HistGradientBoostingClassifier,
        IsolationForest,
        RandomForestClassifier,
    )
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
    from sklearn.svm import SVC
    from sklearn.tree import DecisionTreeClassifier

    x, y = load_iris(return_X_y=True)
    estimators = {
        "logreg": LogisticRegression(max_iter=300),
        "forest": RandomForestClassifier(n_estimators=5, random_state=0),
        "tree": DecisionTreeClassifier(random_state=0),
        "gboost": GradientBoostingClassifier(n_estimators=5, random_state=0),
        "svc_pipeline": make_pipeline(StandardScaler(), SVC()),
        "kmeans": KMeans(n_clusters=3, n_init=2, random_state=0),
        "pca": PCA(n_components=2),
        "knn": KNeighborsClassifier(),
        "mlp": MLPClassifier(hidden_layer_sizes=(8,), max_iter=50, random_state=0),
        "ridge": Ridge(),
        "hist_gboost": HistGradientBoostingClassifier(max_iter=5),
        "isolation_forest": IsolationForest(n_estimators=5, random_state=0),
        "log_transform": make_pipeline(FunctionTransformer(np.log1p), LogisticRegression()),
        "column_transformer": make_pipeline(
            ColumnTransformer([("scale", StandardScaler(), [0, 1]), ("keep", "passthrough", [2])]),
            OneHotEncoder(handle_unknown="ignore"),
        ),
    }
    out = root / "sklearn"
    out.mkdir(parents=True, exist_ok=True)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for est in estimators.values():
            est.fit(np.abs(x), y)
    for name, est in estimators.items():
        path = out / f"{name}.pkl"
        path.write_bytes(pickle.dumps(est, protocol=pickle.HIGHEST_PROTOCOL))
        labels[str(path.relative_to(root))] = "scikit-learn pickle.dumps"
    compressions: list[tuple[str, object]] = [
        ("plain", 0),
        ("zlib", ("zlib", 3)),
        ("gzip", ("gzip", 3)),
        ("bz2", ("bz2", 3)),
        ("lzma", ("lzma", 3)),
        ("xz", ("xz", 3)),
    ]
    for name in ("logreg", "forest", "svc_pipeline", "kmeans", "hist_gboost", "log_transform"):
        for cname, compress in compressions:
            path = out / f"{name}_{cname}.joblib"
            joblib.dump(estimators[name], path, compress=compress)
            labels[str(path.relative_to(root))] = f"scikit-learn joblib.dump compress={cname}"
    path = out / "arrays.joblib"
    joblib.dump({"x": x, "y": y, "w": np.ones((50, 50))}, path)
    labels[str(path.relative_to(root))] = "joblib.dump of numpy arrays"


def numpy_files(root: Path, labels: Labels) -> None:
    """.npy and .npz of plain, structured and Fortran-ordered arrays."""
    import numpy as np

    out = root / "numpy"
    out.mkdir(parents=True, exist_ok=True)
    arrays = {
        "float32": np.arange(100, dtype=np.float32).reshape(10, 10),
        "int64": np.arange(50, dtype=np.int64),
        "bool": np.array([True, False] * 8),
        "fortran": np.asfortranarray(np.ones((6, 4))),
        "structured": np.zeros(5, dtype=[("a", "<i4"), ("b", "<f8", (2,))]),
        "unicode": np.array(["alpha", "beta"]),
        "big_endian": np.arange(10, dtype=">f4"),
        "scalar": np.array(3.5),
    }
    for name, arr in arrays.items():
        path = out / f"{name}.npy"
        np.save(path, arr)
        labels[str(path.relative_to(root))] = f"numpy.save {name}"
    path = out / "bundle.npz"
    np.savez(path, **{k: v for k, v in arrays.items() if k != "structured"})
    labels[str(path.relative_to(root))] = "numpy.savez"
    path = out / "bundle_compressed.npz"
    np.savez_compressed(path, a=arrays["float32"], b=arrays["int64"])
    labels[str(path.relative_to(root))] = "numpy.savez_compressed"


def safetensors_files(root: Path, labels: Labels) -> None:
    """safetensors written from torch and from numpy, with and without metadata."""
    import numpy as np
    import torch
    from safetensors.numpy import save_file as save_numpy
    from safetensors.torch import save_file as save_torch

    out = root / "safetensors"
    out.mkdir(parents=True, exist_ok=True)
    for i, dtype in enumerate((torch.float32, torch.float16, torch.bfloat16, torch.int8)):
        path = out / f"torch_{i}.safetensors"
        tensors = {"w": torch.zeros(8, 8, dtype=dtype), "b": torch.ones(8, dtype=dtype)}
        save_torch(tensors, str(path), metadata={"format": "pt"})
        labels[str(path.relative_to(root))] = f"safetensors.torch {dtype}"
    path = out / "numpy.safetensors"
    save_numpy({"x": np.arange(12, dtype=np.float64).reshape(3, 4)}, str(path))
    labels[str(path.relative_to(root))] = "safetensors.numpy"
    path = out / "empty_tensor.safetensors"
    save_numpy({"x": np.zeros((0, 4), dtype=np.float32), "y": np.ones(2)}, str(path))
    labels[str(path.relative_to(root))] = "safetensors with an empty tensor"


def keras_files(root: Path, labels: Labels) -> None:
    """Keras 3 .keras and legacy .h5 files of small models."""
    import keras

    out = root / "keras"
    out.mkdir(parents=True, exist_ok=True)

    def dense() -> keras.Model:
        return keras.Sequential(
            [keras.Input((8,)), keras.layers.Dense(4, activation="relu"), keras.layers.Dense(2)]
        )

    def conv() -> keras.Model:
        return keras.Sequential(
            [
                keras.Input((16, 16, 3)),
                keras.layers.Conv2D(4, 3, activation="relu"),
                keras.layers.MaxPooling2D(),
                keras.layers.Flatten(),
                keras.layers.Dense(3, activation="softmax"),
            ]
        )

    def functional() -> keras.Model:
        inputs = keras.Input((10,))
        hidden = keras.layers.Dense(6, activation="tanh")(inputs)
        hidden = keras.layers.Dropout(0.1)(hidden)
        hidden = keras.layers.BatchNormalization()(hidden)
        return keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(hidden))

    def embedding() -> keras.Model:
        return keras.Sequential(
            [
                keras.Input((5,)),
                keras.layers.Embedding(50, 4),
                keras.layers.GlobalAveragePooling1D(),
                keras.layers.Dense(2),
            ]
        )

    for name, make in {
        "dense": dense,
        "conv": conv,
        "functional": functional,
        "embedding": embedding,
    }.items():
        model = make()
        model.compile(optimizer="adam", loss="mse")
        path = out / f"{name}.keras"
        model.save(path)
        labels[str(path.relative_to(root))] = "keras 3 .keras"
        path = out / f"{name}.h5"
        model.save(path)
        labels[str(path.relative_to(root))] = "keras legacy HDF5 .h5"
        path = out / f"{name}.weights.h5"
        model.save_weights(path)
        labels[str(path.relative_to(root))] = "keras weights-only .weights.h5"


def onnx_files(root: Path, labels: Labels) -> None:
    """ONNX graphs built with onnx.helper, one with (benign) external data."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    out = root / "onnx"
    out.mkdir(parents=True, exist_ok=True)

    def graph_model(n_layers: int) -> onnx.ModelProto:
        nodes, inits = [], []
        prev = "x"
        for i in range(n_layers):
            w = numpy_helper.from_array(np.full((8, 8), 0.01 * i, dtype=np.float32), f"w{i}")
            inits.append(w)
            nodes.append(helper.make_node("MatMul", [prev, f"w{i}"], [f"h{i}"]))
            nodes.append(helper.make_node("Relu", [f"h{i}"], [f"r{i}"]))
            prev = f"r{i}"
        graph = helper.make_graph(
            nodes,
            f"mlp{n_layers}",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8])],
            [helper.make_tensor_value_info(prev, TensorProto.FLOAT, [1, 8])],
            inits,
        )
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])

    for n in (1, 2, 4, 8):
        path = out / f"mlp{n}.onnx"
        onnx.save(graph_model(n), path)
        labels[str(path.relative_to(root))] = "onnx.helper graph"
    ext_dir = out / "external"
    ext_dir.mkdir(exist_ok=True)
    path = ext_dir / "with_external.onnx"
    onnx.save(
        graph_model(3),
        path,
        save_as_external_data=True,
        location="weights.bin",
        size_threshold=0,
    )
    labels[str(path.relative_to(root))] = "onnx with external data beside it"
    labels[str((ext_dir / "weights.bin").relative_to(root))] = "onnx external data blob"


def gguf_files(root: Path, labels: Labels) -> None:
    """GGUF files from the gguf writer, one with an ordinary chat template."""
    import gguf
    import numpy as np

    out = root / "gguf"
    out.mkdir(parents=True, exist_ok=True)
    template = (
        "{% for message in messages %}<|{{ message['role'] }}|>\n"
        "{{ message['content'] }}</s>\n{% endfor %}"
        "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
    )
    for name, chat in (("tiny", None), ("tiny_chat", template), ("tiny_f16", None)):
        path = out / f"{name}.gguf"
        writer = gguf.GGUFWriter(str(path), "llama")
        writer.add_block_count(1)
        writer.add_context_length(128)
        writer.add_embedding_length(8)
        writer.add_head_count(2)
        writer.add_string("general.name", name)
        if chat is not None:
            writer.add_chat_template(chat)
        dtype = np.float16 if name.endswith("f16") else np.float32
        writer.add_tensor("token_embd.weight", np.ones((16, 8), dtype=dtype))
        writer.add_tensor("output.weight", np.zeros((16, 8), dtype=dtype))
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
        labels[str(path.relative_to(root))] = "gguf.GGUFWriter" + (" chat template" if chat else "")


BUILDERS: list[Callable[[Path, Labels], None]] = [
    torch_files,
    sklearn_files,
    numpy_files,
    safetensors_files,
    keras_files,
    onnx_files,
    gguf_files,
]
