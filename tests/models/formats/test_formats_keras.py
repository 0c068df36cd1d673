"""Keras: .keras archives, legacy HDF5 files and model JSON, built with Keras 3 (torch backend)."""

from __future__ import annotations

import json
import os
import sys
import zipfile
from pathlib import Path
from typing import Any

import h5py
import pytest

os.environ["KERAS_BACKEND"] = "torch"
keras = pytest.importorskip("keras")

from mlwarden.engine import scan_bytes, scan_file  # noqa: E402
from mlwarden.findings import Finding, Severity  # noqa: E402


def _model(with_lambda: bool = False) -> Any:
    layers = [keras.Input((4,)), keras.layers.Dense(3, activation="relu")]
    if with_lambda:
        layers.append(keras.layers.Lambda(lambda x: x * 2))
    layers.append(keras.layers.Dense(1))
    return keras.Sequential(layers)


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("keras")
    paths = {
        "benign.keras": root / "benign.keras",
        "benign.h5": root / "benign.h5",
        "lambda.keras": root / "lambda.keras",
        "lambda.h5": root / "lambda.h5",
    }
    _model().save(paths["benign.keras"])
    _model().save(paths["benign.h5"])
    _model(with_lambda=True).save(paths["lambda.keras"])
    _model(with_lambda=True).save(paths["lambda.h5"])
    return paths


def _scan(path: Path) -> list[Finding]:
    return scan_file(str(path), path).findings


def _serious(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity >= Severity.HIGH]


def test_benign_keras_archive(models: dict[str, Path]) -> None:
    assert _serious(_scan(models["benign.keras"])) == []


def test_benign_h5(models: dict[str, Path]) -> None:
    assert _serious(_scan(models["benign.h5"])) == []


def test_lambda_in_keras_archive(models: dict[str, Path]) -> None:
    findings = [f for f in _scan(models["lambda.keras"]) if f.rule == "MW160"]
    assert len(findings) == 1
    finding = findings[0]
    assert finding.severity is Severity.CRITICAL
    assert finding.location.member == "config.json"
    assert finding.evidence["format"] == "keras"
    assert finding.evidence["path"] == "$.config.layers[2].config.function"


def test_lambda_in_h5(models: dict[str, Path]) -> None:
    findings = [f for f in _scan(models["lambda.h5"]) if f.rule == "MW160"]
    assert [f.severity for f in findings] == [Severity.CRITICAL]
    assert findings[0].evidence["format"] == "keras-h5"
    assert findings[0].evidence["path"].startswith("model_config:$.config.layers[")


def _edit_archive(source: Path, target: Path, edit: Any) -> Path:
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "config.json":
                config = json.loads(data)
                edit(config)
                data = json.dumps(config).encode()
            zout.writestr(info, data)
    return target


def _inject(layer: dict[str, Any]) -> Any:
    def edit(config: dict[str, Any]) -> None:
        config["config"]["layers"].insert(1, layer)

    return edit


def test_cve_2025_1550_module_injection(models: dict[str, Path], tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    layer = {
        "module": "keras.layers",
        "class_name": "Lambda",
        "config": {
            "name": "x",
            "function": {
                "module": "builtins",
                "class_name": "function",
                "config": "exec",
                "registered_name": "function",
            },
            "arguments": {"__source": f"open({str(marker)!r}, 'w').close()"},
        },
    }
    path = _edit_archive(models["benign.keras"], tmp_path / "evil.keras", _inject(layer))
    findings = _scan(path)
    critical = [f for f in findings if f.rule == "MW161"]
    assert len(critical) == 1
    assert critical[0].severity is Severity.CRITICAL
    assert critical[0].evidence["target"] == "builtins.exec"
    assert critical[0].evidence["path"] == "$.config.layers[1].config.function"
    assert critical[0].location.member == "config.json"
    assert "MW160" in {f.rule for f in findings}  # the Lambda calling it
    assert not marker.exists()


def test_cve_2025_8747_get_file_gadget(models: dict[str, Path], tmp_path: Path) -> None:
    layer = {
        "module": "keras.utils",
        "class_name": "function",
        "config": "get_file",
        "registered_name": "function",
    }
    path = _edit_archive(models["benign.keras"], tmp_path / "dl.keras", _inject(layer))
    (finding,) = [f for f in _scan(path) if f.rule == "MW161"]
    assert finding.evidence["target"] == "keras.utils.get_file"


def test_cve_2025_9906_safe_mode_off(models: dict[str, Path], tmp_path: Path) -> None:
    layer = {
        "module": "keras.config",
        "class_name": "function",
        "config": "enable_unsafe_deserialization",
        "registered_name": "function",
    }
    path = _edit_archive(models["benign.keras"], tmp_path / "off.keras", _inject(layer))
    assert [f.evidence["target"] for f in _scan(path) if f.rule == "MW161"] == [
        "keras.config.enable_unsafe_deserialization"
    ]


def _config_bytes(models: dict[str, Path]) -> dict[str, Any]:
    with zipfile.ZipFile(models["benign.keras"]) as z:
        config: dict[str, Any] = json.loads(z.read("config.json"))
    return config


def test_config_json_alone_is_clean(models: dict[str, Path]) -> None:
    data = json.dumps(_config_bytes(models)).encode()
    assert scan_bytes(data, "config.json") == []


def test_non_keras_module_is_high(models: dict[str, Path]) -> None:
    config = _config_bytes(models)
    config["config"]["layers"][1]["module"] = "my_company.layers"
    findings = scan_bytes(json.dumps(config).encode(), "config.json")
    assert [(f.rule, f.severity) for f in findings] == [("MW162", Severity.HIGH)]
    assert findings[0].evidence["module"] == "my_company.layers"
    assert findings[0].evidence["format"] == "keras-json"


def test_key_order_does_not_hide_a_reference(models: dict[str, Path]) -> None:
    config = _config_bytes(models)
    config["config"]["layers"][1]["module"] = "subprocess"
    reordered = {"config": config["config"], "class_name": config["class_name"]}
    data = json.dumps(reordered, indent=2).encode()
    assert [f.rule for f in scan_bytes(data, "model.json")] == ["MW161"]


@pytest.mark.parametrize(
    ("class_name", "severity"),
    [("TorchModuleWrapper", Severity.CRITICAL), ("TFSMLayer", Severity.HIGH)],
)
def test_code_loading_layers(models: dict[str, Path], class_name: str, severity: Severity) -> None:
    config = _config_bytes(models)
    config["config"]["layers"][1] = {
        "module": "keras.layers",
        "class_name": class_name,
        "config": {"name": "w", "filepath": "/tmp/other_model"},
    }
    findings = scan_bytes(json.dumps(config).encode(), "config.json")
    assert [(f.rule, f.severity) for f in findings] == [("MW163", severity)]


def test_legacy_keras2_lambda_json() -> None:
    config = {
        "class_name": "Sequential",
        "config": {
            "layers": [
                {
                    "class_name": "Lambda",
                    "config": {
                        "name": "lambda",
                        "function": ["4wEAAAAAAAAA", None, None],
                        "function_type": "lambda",
                        "module": "__main__",
                    },
                }
            ]
        },
        "keras_version": "2.12.0",
        "backend": "tensorflow",
    }
    findings = scan_bytes(json.dumps(config).encode(), "model.json")
    assert [(f.rule, f.severity) for f in findings] == [("MW160", Severity.CRITICAL)]


def test_other_json_is_ignored() -> None:
    for doc in ({"name": "x", "class_name": "y"}, [1, 2, 3], {"a": {"b": "class_name"}}):
        assert scan_bytes(json.dumps(doc).encode(), "data.json") == []


def test_h5_external_link_and_storage(tmp_path: Path) -> None:
    path = tmp_path / "weights.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("inside", data=[1.0, 2.0])
        f["leak"] = h5py.ExternalLink("/etc/passwd", "/x")
        group = f.create_group("layers")
        group.create_dataset("ext", (4,), dtype="f4", external=[("/etc/hostname", 0, 16)])
    findings = _scan(path)
    assert sorted((f.rule, f.evidence["object"]) for f in findings) == [
        ("MW164", "/layers/ext"),
        ("MW164", "/leak"),
    ]
    assert all(f.severity is Severity.HIGH for f in findings)


def test_benign_h5_scans_clean_without_h5py(
    models: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "h5py", None)
    assert _scan(models["benign.h5"]) == []


def _virtual_dataset_file(tmp_path: Path) -> Path:
    with h5py.File(tmp_path / "source.h5", "w") as source:
        source.create_dataset("data", data=[1.0, 2.0, 3.0, 4.0])
    layout = h5py.VirtualLayout(shape=(4,), dtype="f8")
    layout[:] = h5py.VirtualSource("source.h5", "data", shape=(4,))
    path = tmp_path / "virtual.h5"
    with h5py.File(path, "w", libver="latest") as f:
        f.create_virtual_dataset("weights", layout)
    return path


def test_h5_virtual_dataset_is_read_with_h5py(tmp_path: Path) -> None:
    findings = _scan(_virtual_dataset_file(tmp_path))
    assert [(f.rule, f.evidence["object"], f.evidence["files"]) for f in findings] == [
        ("MW164", "/weights", ["source.h5"])
    ]


def test_h5_virtual_dataset_without_h5py_fails_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _virtual_dataset_file(tmp_path)
    monkeypatch.setitem(sys.modules, "h5py", None)
    findings = _scan(path)
    assert [f.rule for f in findings] == ["MW002"]
    assert "virtual dataset" in findings[0].message
    assert "mlwarden[keras]" in findings[0].message


def test_truncated_h5_fails_closed(models: dict[str, Path], tmp_path: Path) -> None:
    path = tmp_path / "cut.h5"
    path.write_bytes(models["benign.h5"].read_bytes()[:1500])
    assert [f.rule for f in _scan(path)] == ["MW002"]


def test_function_from_main_is_high_not_critical(models: dict[str, Path]) -> None:
    # A custom loss defined in the training script: it only resolves where the same script
    # runs, so it needs custom code but is not a known gadget.
    config = _config_bytes(models)
    config["compile_config"] = {
        "loss": {
            "module": "__main__",
            "class_name": "function",
            "config": "my_loss",
            "registered_name": "function",
        }
    }
    findings = scan_bytes(json.dumps(config).encode(), "config.json")
    assert [(f.rule, f.severity, f.evidence["target"]) for f in findings] == [
        ("MW162", Severity.HIGH, "__main__.my_loss")
    ]
