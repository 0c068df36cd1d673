"""PyTorch ZIP checkpoints and TorchScript archives: real ones stay quiet, tampered ones don't."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from archive_builders import (
    describe,
    payload_pickle,
    rewrite_zip,
    rules_at,
    scan,
    serious,
    torch_checkpoint,
)

torch = pytest.importorskip("torch")


def test_real_checkpoint_has_no_serious_finding(tmp_path: Path) -> None:
    model = torch.nn.Sequential(torch.nn.Linear(8, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    path = torch_checkpoint(tmp_path / "model.pt", {"model": model.state_dict(), "epoch": 3})
    result = scan(path)
    assert not serious(result), describe(result)


def test_extra_upper_case_pickle_member_is_scanned(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    clean = torch_checkpoint(tmp_path / "clean.pt")
    path = rewrite_zip(
        clean, tmp_path / "extra.pt", {}, {"archive/EXTRA.PKL": payload_pickle(marker)}
    )
    result = scan(path)
    assert "MW100" in rules_at(result, "archive/EXTRA.PKL"), describe(result)
    assert not marker.exists()


def test_upper_case_data_pkl_is_scanned(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    clean = torch_checkpoint(tmp_path / "clean.pt")
    path = rewrite_zip(
        clean,
        tmp_path / "upper.pt",
        {"archive/data.pkl": "archive/DATA.PKL"},
        {"archive/data.pkl": payload_pickle(marker)},
    )
    result = scan(path)
    assert "MW100" in rules_at(result, "archive/DATA.PKL"), describe(result)
    assert not marker.exists()


def test_pickle_hidden_in_a_storage_member_is_found(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    clean = torch_checkpoint(tmp_path / "clean.pt")
    path = rewrite_zip(
        clean, tmp_path / "storage.pt", {}, {"archive/data/0": payload_pickle(marker)}
    )
    result = scan(path)
    assert "MW100" in rules_at(result, "archive/data/0"), describe(result)
    assert not marker.exists()


def test_storage_that_starts_like_a_pickle_is_not_an_alarm(tmp_path: Path) -> None:
    # Tensor bytes are arbitrary: these begin with PROTO 2, like a pickle, then noise.
    noise = bytes((i * 37 + 11) % 256 for i in range(4094))
    tensor = torch.frombuffer(bytearray(b"\x80\x02" + noise), dtype=torch.uint8).clone()
    path = torch_checkpoint(tmp_path / "lookalike.pt", {"weight": tensor})
    with zipfile.ZipFile(path) as archive:
        assert archive.read("archive/data/0").startswith(b"\x80\x02")
    result = scan(path)
    assert not serious(result), describe(result)


def test_checkpoint_inside_a_zip_is_scanned(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    clean = torch_checkpoint(tmp_path / "clean.pt")
    inner = rewrite_zip(
        clean, tmp_path / "inner.pt", {}, {"archive/other.pkl": payload_pickle(marker)}
    )
    outer = tmp_path / "bundle.zip"
    with zipfile.ZipFile(outer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.write(inner, "models/inner.pt")
    result = scan(outer)
    assert "MW100" in rules_at(result, "models/inner.pt!archive/other.pkl"), describe(result)
    assert not marker.exists()


def _scripted_module() -> object:
    class Gate(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.linear = torch.nn.Linear(4, 2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if x.sum() > 0:
                return torch.relu(self.linear(x))
            return self.linear(x) * 2

    return torch.jit.script(Gate())


def _torchscript_bytes(module: object) -> bytes:
    buffer = io.BytesIO()
    torch.jit.save(module, buffer)
    return buffer.getvalue()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch.jit is deprecated upstream
def test_real_torchscript_archives_have_no_serious_finding(tmp_path: Path) -> None:
    scripted = tmp_path / "scripted.pt"
    scripted.write_bytes(_torchscript_bytes(_scripted_module()))
    traced_module = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.ReLU())
    traced = tmp_path / "traced.pt"
    traced.write_bytes(_torchscript_bytes(torch.jit.trace(traced_module, torch.zeros(1, 1, 5, 5))))
    for path in (scripted, traced):
        result = scan(path)
        assert not serious(result), describe(result)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_torchscript_code_that_imports_os_is_reported(tmp_path: Path) -> None:
    source = tmp_path / "scripted.pt"
    source.write_bytes(_torchscript_bytes(_scripted_module()))
    with zipfile.ZipFile(source) as archive:
        code = next(n for n in archive.namelist() if "/code/" in n and n.endswith(".py"))
        text = archive.read(code).decode()
    assert "class " in text
    tampered = text.replace("class ", "import os\nos.system('id')\nclass ", 1)
    path = rewrite_zip(source, tmp_path / "tampered.pt", {}, {code: tampered.encode()})
    result = scan(path)
    findings = [f for f in result.findings if f.rule == "MW131"]
    assert [f.location.member for f in findings] == [code], describe(result)
    assert findings[0].evidence["format"] == "torchscript"


@pytest.mark.parametrize("magic", [b"\x1f\x8b\x08", b"PK\x03\x04", b"BZh9", b"\x78\x9c"])
def test_storage_that_starts_like_a_container_is_not_an_alarm(tmp_path: Path, magic: bytes) -> None:
    noise = bytes((i * 53 + 7) % 256 for i in range(2048))
    tensor = torch.frombuffer(bytearray(magic + noise), dtype=torch.uint8).clone()
    path = torch_checkpoint(tmp_path / "lookalike.pt", {"weight": tensor})
    result = scan(path)
    assert not serious(result), describe(result)
