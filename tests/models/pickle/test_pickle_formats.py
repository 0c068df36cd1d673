"""Real artifacts made by torch, scikit-learn, joblib and NumPy: benign ones stay quiet,
payloads are found, and layouts with raw bytes inside or after the pickles are followed."""

from __future__ import annotations

import io
import os
import pickle
import zipfile
from pathlib import Path

import joblib
import numpy as np
import pytest
import torch
from sklearn.datasets import load_iris
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mlwarden.engine import scan_bytes, scan_file
from mlwarden.findings import Finding, Severity


class Payload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return os.system, (f"touch {self.marker}",)


def serious(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity >= Severity.HIGH]


def small_net() -> torch.nn.Module:
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 2, 3),
        torch.nn.BatchNorm2d(2),
        torch.nn.ReLU(),
        torch.nn.Flatten(),
        torch.nn.Linear(8, 3),
        torch.nn.LSTM(3, 3),
    )


def zip_data_pkl(obj: object) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith("/data.pkl")]
        return archive.read(name)


@pytest.mark.parametrize("what", ["state_dict", "module"])
def test_torch_zip_data_pkl_is_clean(what: str) -> None:
    net = small_net()
    data = zip_data_pkl(net.state_dict() if what == "state_dict" else net)
    assert serious(scan_bytes(data, "data.pkl")) == []


@pytest.mark.parametrize("what", ["state_dict", "module"])
def test_legacy_torch_save_is_clean(what: str, tmp_path: Path) -> None:
    net = small_net()
    path = tmp_path / "legacy.pt"
    obj = net.state_dict() if what == "state_dict" else net
    torch.save(obj, path, _use_new_zipfile_serialization=False)
    findings = scan_file(str(path), path).findings
    # The raw storage bytes after the fifth pickle are neither garbage nor truncation.
    assert findings == [] if what == "state_dict" else serious(findings) == []


def test_legacy_torch_save_with_payload(tmp_path: Path, marker: Path) -> None:
    path = tmp_path / "legacy.pt"
    obj = {"state": small_net().state_dict(), "extra": Payload(marker)}
    torch.save(obj, path, _use_new_zipfile_serialization=False)
    findings = scan_file(str(path), path).findings
    hits = [f for f in findings if f.rule == "MW100"]
    assert len(hits) == 1
    assert hits[0].evidence["format"] == "legacy-torch"
    assert hits[0].evidence["pickle_index"] == 3  # the object pickle, after magic/proto/sysinfo
    assert not [f for f in findings if f.rule in ("MW002", "MW105")]


def fitted_models() -> list[object]:
    x, y = load_iris(return_X_y=True)
    models: list[object] = [
        RandomForestClassifier(n_estimators=3, random_state=0),
        GradientBoostingClassifier(n_estimators=3, random_state=0),
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)),
    ]
    for model in models:
        model.fit(x, y)  # type: ignore[attr-defined]
    vectorizer = TfidfVectorizer().fit(["a first text", "a second one"])
    return [*models, vectorizer]


@pytest.mark.parametrize("protocol", [4, 5])
def test_sklearn_pickles_are_clean(protocol: int) -> None:
    for model in fitted_models():
        assert serious(scan_bytes(pickle.dumps(model, protocol=protocol))) == [], model


def test_joblib_dumps_of_sklearn_models_are_clean(tmp_path: Path) -> None:
    for index, model in enumerate(fitted_models()):
        path = tmp_path / f"model{index}.joblib"
        joblib.dump(model, path)
        findings = scan_file(str(path), path).findings
        assert serious(findings) == [], (model, findings)
        assert not [f for f in findings if f.rule in ("MW105", "MW002")]


def test_joblib_arrays_are_skipped(tmp_path: Path) -> None:
    # Large, odd-sized and structured arrays: the raw bytes sit inside the pickle stream.
    value = {
        "big": np.arange(300_000, dtype=np.float64),
        "odd": np.ones((7, 3), dtype=np.int16),
        "fortran": np.asfortranarray(np.ones((5, 4), dtype=np.float32)),
        "text": np.array(["ab", "cde"]),
        "record": np.zeros(3, dtype=[("a", "f4"), ("b", "i8")]),
        "objects": np.array([1, "x", None], dtype=object),
        "scalar": np.float64(2.5),
    }
    path = tmp_path / "arrays.joblib"
    joblib.dump(value, path)
    assert scan_file(str(path), path).findings == []


def test_joblib_with_payload(tmp_path: Path, marker: Path) -> None:
    path = tmp_path / "model.joblib"
    joblib.dump({"weights": np.arange(1000.0), "hook": Payload(marker)}, path)
    findings = scan_file(str(path), path).findings
    hits = [f for f in findings if f.rule == "MW100"]
    assert len(hits) == 1
    assert hits[0].evidence["format"] == "joblib"


def test_joblib_payload_inside_object_array(tmp_path: Path, marker: Path) -> None:
    path = tmp_path / "objects.joblib"
    joblib.dump({"w": np.arange(10.0), "o": np.array([Payload(marker)], dtype=object)}, path)
    hits = [f for f in scan_file(str(path), path).findings if f.rule == "MW100"]
    assert len(hits) == 1
    assert hits[0].evidence["format"] == "joblib"


@pytest.mark.parametrize("protocol", range(6))
def test_numpy_arrays_pickled_are_clean(protocol: int) -> None:
    value = [np.arange(12.0).reshape(3, 4), np.array(["a", "b"]), np.int64(3), np.dtype("f4")]
    assert scan_bytes(pickle.dumps(value, protocol=protocol)) == []


def test_pickled_tensors_embed_legacy_torch_files_that_are_analysed(marker: Path) -> None:
    # pickle.dumps(tensor) stores each storage as torch.storage._load_from_bytes(<torch file>):
    # the embedded file is analysed in place of flagging the loader itself.
    assert scan_bytes(pickle.dumps(torch.arange(10.0))) == []
    assert scan_bytes(pickle.dumps(torch.nn.Linear(300, 300))) == []

    embedded = io.BytesIO()
    torch.save({"w": torch.zeros(50_000), "x": Payload(marker)}, embedded,
               _use_new_zipfile_serialization=False)  # fmt: skip
    loader = torch.storage._load_from_bytes

    class Wrapped:
        def __reduce__(self) -> tuple[object, tuple[bytes]]:
            return loader, (embedded.getvalue(),)

    data = pickle.dumps([torch.ones(3), Wrapped()], protocol=4)
    hits = [f for f in scan_bytes(data) if f.rule == "MW100"]
    assert len(hits) == 1
    magic = (0x1950A86A20F9469CFC6C).to_bytes(10, "little")
    assert hits[0].evidence["offset"] > data.index(magic)  # inside the embedded file


def test_real_sparse_tensors_and_kd_trees_are_clean(tmp_path: Path) -> None:
    # Regression: torch's layout lookup and scikit-learn's Cython tree restorers were unknown.
    import io
    import zipfile

    import torch
    from sklearn.neighbors import KNeighborsClassifier

    sparse = torch.sparse_coo_tensor([[0, 1], [1, 0]], [1.0, 2.0], (2, 2))
    buffer = io.BytesIO()
    torch.save({"adjacency": sparse}, buffer)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as archive:
        name = next(n for n in archive.namelist() if n.endswith("data.pkl"))
        torch_pickle = archive.read(name)
    knn = KNeighborsClassifier(n_neighbors=1, algorithm="kd_tree").fit([[0.0], [1.0]], [0, 1])
    for data in (torch_pickle, pickle.dumps(knn, protocol=5)):
        findings = scan_bytes(data)
        assert not [f for f in findings if f.severity >= Severity.HIGH], findings
