"""safe_load on PyTorch checkpoints: equal to torch.load(weights_only=True), never running code."""

from __future__ import annotations

import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from mlwarden import SafeLoadError, UnsafeGlobalError, safe_load
from mlwarden.protect import CheckpointFormatError

from .builders import (
    PAYLOADS,
    RebuildTensor,
    ShellPayload,
    StorageRef,
    pickle_with_pids,
    rewrite_zip,
    write_torch_zip,
    zip_member,
)
from .checkpoint_models import TinyNet

FLOAT_STORAGE = torch.FloatStorage  # pickles as the global torch.FloatStorage


def assert_same(actual: Any, expected: Any) -> None:
    """Equal structure; tensors equal bit for bit, with the same type, dtype and grad flag."""
    assert type(actual) is type(expected)
    if isinstance(expected, torch.Tensor):
        assert actual.dtype == expected.dtype and actual.shape == expected.shape
        assert actual.requires_grad == expected.requires_grad
        if expected.dtype.is_floating_point and expected.element_size() == 1:
            actual, expected = actual.view(torch.uint8), expected.view(torch.uint8)
        assert torch.equal(actual, expected)
    elif isinstance(expected, dict):
        assert list(actual) == list(expected)
        for key in expected:
            assert_same(actual[key], expected[key])
    elif isinstance(expected, list | tuple):
        assert len(actual) == len(expected)
        for a, e in zip(actual, expected, strict=True):
            assert_same(a, e)
    else:
        assert actual == expected


@pytest.mark.parametrize("zipped", [True, False], ids=["zip", "legacy"])
def test_state_dict_equals_torch_load(tmp_path: Path, state_dict: Any, zipped: bool) -> None:
    path = tmp_path / "model.pt"
    torch.save(state_dict, path, _use_new_zipfile_serialization=zipped)
    loaded = safe_load(path)
    assert_same(loaded, state_dict)
    assert_same(loaded, torch.load(path, weights_only=True))
    # A view keeps sharing its storage with the tensor it views, as with torch.load.
    assert loaded["row"].untyped_storage().data_ptr() == (
        loaded["layer.weight"].untyped_storage().data_ptr()
    )


def test_new_dtypes_and_parameters(tmp_path: Path) -> None:
    # float8 and uint16 are saved as untyped storages plus a dtype (_rebuild_tensor_v3).
    checkpoint = {
        "f8": torch.linspace(-2, 2, 6).to(torch.float8_e4m3fn),
        "u16": torch.arange(5).to(torch.uint16),
        "param": nn.Parameter(torch.ones(3)),
        "frozen": nn.Parameter(torch.zeros(2), requires_grad=False),
        "nested": {"list": [torch.tensor(1.5), 3, "text"], "none": None},
    }
    path = tmp_path / "new.pt"
    torch.save(checkpoint, path)
    loaded = safe_load(path)
    assert_same(loaded, checkpoint)
    assert_same(loaded, torch.load(path, weights_only=True))


def test_whole_torch_module_of_allowlisted_layers(tmp_path: Path) -> None:
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.BatchNorm1d(4))
    path = tmp_path / "seq.pt"
    torch.save(model, path)
    loaded = safe_load(path)
    assert isinstance(loaded, nn.Sequential)
    assert_same(loaded.state_dict(), model.state_dict())


def test_whole_custom_module_is_refused_then_admitted(tmp_path: Path) -> None:
    path = tmp_path / "tiny.pt"
    torch.save(TinyNet(), path)
    qualified = f"{TinyNet.__module__}.TinyNet"
    with pytest.raises(UnsafeGlobalError) as refused:
        safe_load(path)
    assert refused.value.global_name == qualified
    assert f"--allow {qualified}" in str(refused.value)
    loaded = safe_load(path, allow=[qualified])
    assert isinstance(loaded, TinyNet)


def test_big_endian_storages_are_swapped(tmp_path: Path, state_dict: Any) -> None:
    path = tmp_path / "little.pt"
    torch.save(state_dict, path)
    # torch.save numbers storages "0", "1", ... in the order tensors first name them.
    element_sizes: dict[int, int] = {}
    for tensor in state_dict.values():
        element_sizes.setdefault(tensor.untyped_storage().data_ptr(), tensor.element_size())
    prefix = zip_member(path, "/data.pkl")[: -len("data.pkl")]
    swapped: dict[str, bytes | None] = {f"{prefix}byteorder": b"big"}
    with zipfile.ZipFile(path) as archive:
        for key, size in enumerate(element_sizes.values()):
            data = archive.read(f"{prefix}data/{key}")
            swapped[f"{prefix}data/{key}"] = b"".join(
                data[i : i + size][::-1] for i in range(0, len(data), size)
            )
    big = rewrite_zip(path, tmp_path / "big.pt", swapped)
    assert_same(safe_load(big), state_dict)
    assert_same(safe_load(big), torch.load(big, weights_only=True))


def test_map_location_none_uses_recorded_device(tmp_path: Path, state_dict: Any) -> None:
    path = tmp_path / "model.pt"
    torch.save(state_dict, path)
    loaded = safe_load(path, map_location=None)
    assert all(t.device.type == "cpu" for t in loaded.values())


@pytest.mark.parametrize("zipped", [True, False], ids=["zip", "legacy"])
@pytest.mark.parametrize("payload", sorted(PAYLOADS))
def test_payload_in_torch_checkpoint_is_refused(
    tmp_path: Path, marker: Path, zipped: bool, payload: str
) -> None:
    path = tmp_path / "evil.pt"
    torch.save(
        {"weight": torch.ones(2), "evil": PAYLOADS[payload](marker)},
        path,
        _use_new_zipfile_serialization=zipped,
    )
    with pytest.raises(UnsafeGlobalError) as refused:
        safe_load(path)
    assert refused.value.global_name in {"posix.system", "builtins.exec", "subprocess.Popen"}
    assert not marker.exists()


def test_payload_in_data_pkl_of_real_checkpoint(
    tmp_path: Path, marker: Path, state_dict: Any
) -> None:
    path = tmp_path / "model.pt"
    torch.save(state_dict, path)
    member = zip_member(path, "/data.pkl")
    evil = rewrite_zip(path, tmp_path / "evil.pt", {member: pickle_with_pids(ShellPayload(marker))})
    with pytest.raises(UnsafeGlobalError, match=r"posix\.system"):
        safe_load(evil)


@pytest.mark.parametrize(
    ("pid", "message"),
    [
        (("storage", FLOAT_STORAGE, "0", "cpu"), "unexpected persistent id"),
        (("module", FLOAT_STORAGE, "0", "cpu", 4), "unexpected persistent id"),
        (["storage", FLOAT_STORAGE, "0", "cpu", 4], "unexpected persistent id"),
        (("storage", "FloatStorage", "0", "cpu", 4), "storage type"),
        (("storage", OrderedDict, "0", "cpu", 4), "storage type"),
        (("storage", FLOAT_STORAGE, "../../etc/passwd", "cpu", 4), "storage key"),
        (("storage", FLOAT_STORAGE, "0", "cpu; rm -rf", 4), "storage location"),
        (("storage", FLOAT_STORAGE, "0", "cpu", -1), "storage size"),
        (("storage", FLOAT_STORAGE, "0", "cpu", True), "storage size"),
        (("storage", FLOAT_STORAGE, "0", "cpu", 5), "the pickle declares"),
        (("storage", FLOAT_STORAGE, "9", "cpu", 4), "is missing"),
    ],
)
def test_persistent_id_tricks_are_refused(tmp_path: Path, pid: object, message: str) -> None:
    data_pkl = pickle_with_pids({"w": RebuildTensor(pid, (4,))})
    path = write_torch_zip(tmp_path / "forged.pt", data_pkl, {"0": bytes(16)})
    with pytest.raises(CheckpointFormatError, match=message):
        safe_load(path)


def test_key_reused_with_another_dtype_is_refused(tmp_path: Path) -> None:
    first = ("storage", FLOAT_STORAGE, "0", "cpu", 4)
    second = ("storage", torch.IntStorage, "0", "cpu", 4)
    data_pkl = pickle_with_pids([RebuildTensor(first, (4,)), RebuildTensor(second, (4,))])
    path = write_torch_zip(tmp_path / "forged.pt", data_pkl, {"0": bytes(16)})
    with pytest.raises(CheckpointFormatError, match="declared twice"):
        safe_load(path)


def test_tensor_larger_than_its_storage_is_refused(tmp_path: Path) -> None:
    data_pkl = pickle_with_pids(RebuildTensor(("storage", FLOAT_STORAGE, "0", "cpu", 4), (64,)))
    path = write_torch_zip(tmp_path / "forged.pt", data_pkl, {"0": bytes(16)})
    with pytest.raises(CheckpointFormatError, match=r"resize|out of bounds"):
        safe_load(path)


def test_backward_hooks_are_refused(tmp_path: Path) -> None:
    hooks = OrderedDict([(0, set)])  # builtins.set is allowlisted; hooks never are
    pid = ("storage", FLOAT_STORAGE, "0", "cpu", 4)
    path = write_torch_zip(
        tmp_path / "hooks.pt", pickle_with_pids(RebuildTensor(pid, (4,), hooks)), {"0": bytes(16)}
    )
    with pytest.raises(CheckpointFormatError, match="backward hooks"):
        safe_load(path)


class _ForeignStorageTensor:
    """Pickles as _rebuild_tensor_v2 over a bytearray instead of a checkpoint storage."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            torch._utils._rebuild_tensor_v2,
            (bytearray(16), 0, (4,), (1,), False, OrderedDict()),
        )


def test_tensor_rebuilt_from_a_foreign_storage_is_refused(tmp_path: Path) -> None:
    path = write_torch_zip(tmp_path / "foreign.pt", pickle_with_pids(_ForeignStorageTensor()), {})
    with pytest.raises(CheckpointFormatError, match="not one of the checkpoint's own"):
        safe_load(path)


def test_persistent_id_in_a_plain_pickle_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "plain.pkl"
    path.write_bytes(pickle_with_pids([StorageRef(("storage", FLOAT_STORAGE, "0", "cpu", 4))]))
    with pytest.raises(CheckpointFormatError, match="persistent id"):
        safe_load(path)


def test_storage_type_cannot_be_called(tmp_path: Path) -> None:
    # torch.FloatStorage(10**12) would try to allocate 4 TB; here it is an inert marker.
    path = write_torch_zip(
        tmp_path / "alloc.pt", b"\x80\x02ctorch\nFloatStorage\nJ\x00\x00\x00\x40\x85R.", {}
    )
    with pytest.raises(CheckpointFormatError, match="not callable"):
        safe_load(path)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_torchscript_archive_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "scripted.pt"
    torch.jit.save(torch.jit.script(nn.Linear(2, 2)), path)
    with pytest.raises(CheckpointFormatError, match="TorchScript"):
        safe_load(path)


@pytest.mark.parametrize("zipped", [True, False], ids=["zip", "legacy"])
def test_truncated_checkpoint_is_refused(tmp_path: Path, state_dict: Any, zipped: bool) -> None:
    path = tmp_path / "model.pt"
    torch.save(state_dict, path, _use_new_zipfile_serialization=zipped)
    path.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(CheckpointFormatError):
        safe_load(path)


def test_legacy_storage_count_mismatch_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "legacy.pt"
    values = {"w": torch.arange(4, dtype=torch.int32)}
    torch.save(values, path, _use_new_zipfile_serialization=False)
    data = bytearray(path.read_bytes())
    count_at = len(data) - 16 - 8  # 8-byte element count before 4 int32 values
    assert int.from_bytes(data[count_at : count_at + 8], "little") == 4
    data[count_at : count_at + 8] = (3).to_bytes(8, "little")
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointFormatError, match="holds 3 elements"):
        safe_load(path)


def test_trailing_data_after_legacy_checkpoint_is_refused(tmp_path: Path, state_dict: Any) -> None:
    path = tmp_path / "legacy.pt"
    torch.save(state_dict, path, _use_new_zipfile_serialization=False)
    path.write_bytes(path.read_bytes() + b"\x80\x02cposix\nsystem\n.")
    with pytest.raises(CheckpointFormatError, match="follows"):
        safe_load(path)


@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_duplicate_zip_members_are_refused(tmp_path: Path) -> None:
    pid = ("storage", FLOAT_STORAGE, "0", "cpu", 4)
    path = write_torch_zip(
        tmp_path / "dup.pt",
        pickle_with_pids(RebuildTensor(pid, (4,))),
        {"0": bytes(16)},
        extra={"archive/data/0": bytes(16)},
    )
    with pytest.raises(CheckpointFormatError, match="twice"):
        safe_load(path)


def test_errors_are_safe_load_errors(tmp_path: Path) -> None:
    path = tmp_path / "noise.bin"
    path.write_bytes(b"\x00\x01\x02 not a checkpoint")
    with pytest.raises(SafeLoadError, match="not a pickle-based checkpoint"):
        safe_load(path)
    with pytest.raises(SafeLoadError, match="cannot read"):
        safe_load(tmp_path / "missing.pt")


def test_map_location_accepts_a_device_and_rejects_nonsense(tmp_path: Path) -> None:
    path = tmp_path / "model.pt"
    torch.save({"w": torch.ones(2)}, path)
    assert safe_load(path, map_location=torch.device("cpu"))["w"].device.type == "cpu"
    with pytest.raises(ValueError, match="map_location"):
        safe_load(path, map_location="nowhere")
    with pytest.raises(TypeError, match="map_location"):
        safe_load(path, map_location={"cuda:0": "cpu"})
