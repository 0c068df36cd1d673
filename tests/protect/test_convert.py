"""convert_to_safetensors and ``mlwarden convert``: round trips, refusals, atomic output."""

from __future__ import annotations

import hashlib
import os
import pickle
import subprocess
import sys
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.numpy import load_file as load_numpy
from safetensors.torch import load_file
from torch import nn

from mlwarden import UnsafeGlobalError, convert_to_safetensors
from mlwarden.cli import main
from mlwarden.protect import ConversionError

from .builders import ShellPayload
from .checkpoint_models import TinyNet


def assert_tensors_equal(actual: dict[str, Any], expected: dict[str, Any]) -> None:
    assert sorted(actual) == sorted(expected)
    for key, tensor in expected.items():
        assert actual[key].dtype == tensor.dtype, key
        assert torch.equal(actual[key], tensor.detach()), key


@pytest.mark.parametrize("zipped", [True, False], ids=["zip", "legacy"])
def test_state_dict_round_trip(tmp_path: Path, state_dict: Any, zipped: bool) -> None:
    source, output = tmp_path / "model.pt", tmp_path / "model.safetensors"
    torch.save(state_dict, source, _use_new_zipfile_serialization=zipped)
    summary = convert_to_safetensors(source, output)
    assert summary.tensors == len(state_dict)
    assert summary.output_bytes == output.stat().st_size
    assert_tensors_equal(load_file(output), state_dict)
    with safe_open(str(output), "pt") as opened:
        metadata = opened.metadata()
    assert metadata["source_sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
    assert metadata["converted_by"].startswith("mlwarden ")
    assert summary.source_sha256 == metadata["source_sha256"]


def test_nested_checkpoint_is_flattened(tmp_path: Path) -> None:
    model = nn.Linear(3, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    source, output = tmp_path / "ckpt.pt", tmp_path / "ckpt.safetensors"
    torch.save(
        {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": 7}, source
    )
    summary = convert_to_safetensors(source, output)
    expected = {f"model.{k}": v for k, v in model.state_dict().items()}
    assert_tensors_equal(load_file(output), expected)
    assert "epoch" in summary.skipped


def test_shared_tensors_are_copied_apart(tmp_path: Path) -> None:
    base = torch.arange(8.0)
    source, output = tmp_path / "tied.pt", tmp_path / "tied.safetensors"
    torch.save({"embed": base, "lm_head": base, "half": base[4:]}, source)
    convert_to_safetensors(source, output)
    assert_tensors_equal(load_file(output), {"embed": base, "lm_head": base, "half": base[4:]})


def test_whole_module_of_allowlisted_layers(tmp_path: Path) -> None:
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    source, output = tmp_path / "seq.pt", tmp_path / "seq.safetensors"
    torch.save(model, source)
    convert_to_safetensors(source, output)
    assert_tensors_equal(load_file(output), dict(model.state_dict()))


def test_whole_custom_module_needs_allow(tmp_path: Path) -> None:
    model = TinyNet()
    source, output = tmp_path / "tiny.pt", tmp_path / "tiny.safetensors"
    torch.save(model, source)
    with pytest.raises(UnsafeGlobalError, match="state_dict"):
        convert_to_safetensors(source, output)
    assert not output.exists()
    convert_to_safetensors(source, output, allow=[f"{TinyNet.__module__}.TinyNet"])
    # The same entries as state_dict(): the non-persistent buffer is left out.
    assert_tensors_equal(load_file(output), dict(model.state_dict()))


def test_numpy_arrays_without_tensors(tmp_path: Path) -> None:
    source, output = tmp_path / "arrays.npz", tmp_path / "arrays.safetensors"
    arrays = {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "big": np.arange(3, dtype=">i8")}
    np.savez(source, **arrays)
    convert_to_safetensors(source, output)
    loaded = load_numpy(output)
    for key, array in arrays.items():
        np.testing.assert_array_equal(loaded[key], array)


def test_object_without_tensors_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "config.pkl"
    torch.save({"lr": 0.1, "name": "run"}, source)
    with pytest.raises(ConversionError, match="no tensors"):
        convert_to_safetensors(source, tmp_path / "out.safetensors")


# --- the command line ----------------------------------------------------------------


def run_cli(*args: str | Path) -> int:
    return main(["convert", *map(str, args)])


def test_cli_success_prints_one_line(
    tmp_path: Path, state_dict: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    source, output = tmp_path / "model.pt", tmp_path / "model.safetensors"
    torch.save(state_dict, source)
    assert run_cli(source, "--to", "safetensors", output) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert f"{len(state_dict)} tensors" in out and "bytes" in out
    assert_tensors_equal(load_file(output), state_dict)


@pytest.mark.parametrize("container", ["zip", "legacy", "pickle", "joblib"])
def test_cli_refuses_payloads(
    tmp_path: Path, marker: Path, container: str, capsys: pytest.CaptureFixture[str]
) -> None:
    source, output = tmp_path / "evil.bin", tmp_path / "evil.safetensors"
    value = {"w": torch.ones(2), "evil": ShellPayload(marker)}
    if container in ("zip", "legacy"):
        torch.save(value, source, _use_new_zipfile_serialization=container == "zip")
    elif container == "pickle":
        source.write_bytes(pickle.dumps({"evil": ShellPayload(marker)}))
    else:
        import joblib

        joblib.dump({"a": np.arange(3), "evil": ShellPayload(marker)}, source)
    assert run_cli(source, "--to", "safetensors", output) == 2
    err = capsys.readouterr().err
    assert "posix.system" in err and "--allow posix.system" in err
    assert "Traceback" not in err
    assert not output.exists()
    assert list(tmp_path.glob(".evil.safetensors.*")) == []


def test_cli_allow_admits_the_class(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source, output = tmp_path / "tiny.pt", tmp_path / "tiny.safetensors"
    torch.save(TinyNet(), source)
    assert run_cli(source, output) == 2
    assert "state_dict" in capsys.readouterr().err
    assert run_cli(source, output, "--allow", f"{TinyNet.__module__}.TinyNet") == 0
    assert output.exists()


def test_cli_never_overwrites_its_input(tmp_path: Path, state_dict: Any) -> None:
    source = tmp_path / "model.pt"
    torch.save(state_dict, source)
    original = source.read_bytes()
    link, hard = tmp_path / "link.safetensors", tmp_path / "hard.safetensors"
    link.symlink_to(source)
    os.link(source, hard)
    for output in (source, tmp_path / "." / "model.pt", link, hard):
        assert run_cli(source, output) == 2
        assert source.read_bytes() == original


@pytest.mark.parametrize("case", ["missing", "directory", "noise", "truncated"])
def test_cli_unreadable_input(
    tmp_path: Path, state_dict: Any, case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "input.pt"
    if case == "directory":
        source.mkdir()
    elif case == "noise":
        source.write_bytes(os.urandom(256))
    elif case == "truncated":
        torch.save(state_dict, source)
        source.write_bytes(source.read_bytes()[:200])
    output = tmp_path / "out.safetensors"
    assert run_cli(source, output) == 2
    err = capsys.readouterr().err
    assert err.startswith("mlwarden: error:") and "Traceback" not in err
    assert not output.exists()


def test_failed_write_leaves_no_partial_output(
    tmp_path: Path, state_dict: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, output = tmp_path / "model.pt", tmp_path / "model.safetensors"
    torch.save(state_dict, source)
    output.write_bytes(b"previous version")

    def half_written(tensors: Any, filename: str, metadata: Any = None) -> None:
        Path(filename).write_bytes(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr("safetensors.torch.save_file", half_written)
    with pytest.raises(ConversionError, match="disk full"):
        convert_to_safetensors(source, output)
    assert output.read_bytes() == b"previous version"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pt", "model.safetensors"]


def test_cli_in_a_real_process(tmp_path: Path, marker: Path) -> None:
    source, output = tmp_path / "evil.pkl", tmp_path / "out.safetensors"
    source.write_bytes(pickle.dumps(ShellPayload(marker)))
    result = subprocess.run(
        [sys.executable, "-m", "mlwarden.cli", "convert", str(source), str(output)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "posix.system" in result.stderr and "Traceback" not in result.stderr
    assert not output.exists()


def test_summary_fields(tmp_path: Path) -> None:
    source, output = tmp_path / "m.pt", tmp_path / "m.safetensors"
    torch.save(OrderedDict(w=torch.zeros(2, 2)), source)
    summary = convert_to_safetensors(source, output)
    assert (summary.tensors, summary.tensor_bytes) == (1, 16)
    assert summary.output == str(output)
