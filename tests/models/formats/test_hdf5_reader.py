"""The HDF5 metadata reader, held to what h5py reports on the same files.

Files are written by h5py (every library version bound, old- and new-style groups, compact and
dense link and attribute storage) and by Keras; damaged copies must fail with FormatError or
Unsupported only.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

from mlwarden.engine import scan_file
from mlwarden.scanners.interface import FormatError, LimitExceeded
from mlwarden.scanners.models.hdf5 import H5Link, H5Reader, Unsupported

LIBVERS = ("earliest", "v108", "v110", "latest")

CONFIG = b'{"class_name": "Sequential", "config": {"layers": []}}'

_Row = tuple[str, str, tuple[str, str] | None, tuple[str, ...]]


def _reader(data: bytes, max_objects: int = 200_000) -> H5Reader:
    return H5Reader(io.BytesIO(data), len(data), lambda: None, max_objects)


def _walk_with_h5py(path: Path) -> tuple[list[_Row], dict[str, bytes | None]]:
    """The same walk through h5py: name order, depth first, each group entered once."""
    rows: list[_Row] = []
    with h5py.File(path, "r") as f:
        stack: list[tuple[str, Any]] = [("", f)]
        seen = {f.id}
        while stack:
            prefix, group = stack.pop()
            for name in group:
                where = f"{prefix}/{name}"
                link = group.get(name, getlink=True)
                if isinstance(link, h5py.ExternalLink):
                    rows.append((where, "external", (link.filename, link.path), ()))
                    continue
                if isinstance(link, h5py.SoftLink):
                    rows.append((where, "soft", None, ()))
                    continue
                obj = group.get(name)
                if isinstance(obj, h5py.Group):
                    rows.append((where, "group", None, ()))
                    if obj.id not in seen:
                        seen.add(obj.id)
                        stack.append((where, obj))
                elif isinstance(obj, h5py.Dataset):
                    plist = obj.id.get_create_plist()
                    files = tuple(
                        plist.get_external(i)[0].decode() for i in range(plist.get_external_count())
                    )
                    rows.append((where, "dataset", None, files))
                else:
                    rows.append((where, "other", None, ()))
        attributes: dict[str, bytes | None] = {"absent": None}
        for name, value in f.attrs.items():
            attributes[name] = value if isinstance(value, bytes) else str(value).encode()
    return rows, attributes


def _agrees_with_h5py(path: Path, attributes: tuple[str, ...] = ()) -> list[_Row]:
    links, values = _walk_with_reader_strings(path, attributes)
    expected_links, expected_values = _walk_with_h5py(path)
    assert links == expected_links
    for name in (*attributes, "absent"):
        assert values[name] == expected_values.get(name), name
    return links


def _walk_with_reader_strings(
    path: Path, attributes: tuple[str, ...]
) -> tuple[list[_Row], dict[str, bytes | None]]:
    reader = _reader(path.read_bytes())
    links = [(link.path, link.kind, link.target, link.external_files) for link in reader.walk()]
    return links, {name: reader.root_attribute(name) for name in (*attributes, "absent")}


def _populate(f: Any) -> None:
    """Every kind of link the scanner cares about, and cycles of hard links."""
    f.attrs["model_config"] = np.bytes_(CONFIG)
    f.attrs["training_config"] = '{"loss": "mse", "note": "vlen \u00e9"}'
    f.attrs["epochs"] = 3
    layers = f.create_group("layers")
    dense = layers.create_group("dense")
    dense.create_dataset("kernel", data=np.arange(12, dtype="f4").reshape(3, 4))
    dense.create_dataset("bias", data=np.zeros(4, dtype="f4"), chunks=(2,), compression="gzip")
    layers.create_dataset("ext", (4,), dtype="f4", external=[("/etc/hostname", 0, 16)])
    layers.create_dataset(
        "two", (8,), dtype="f4", external=[("part1.bin", 0, 16), ("part2.bin", 0, 16)]
    )
    f["leak"] = h5py.ExternalLink("/etc/passwd", "/x")
    f["soft"] = h5py.SoftLink("/layers/dense")
    f["dangling"] = h5py.SoftLink("/nowhere")
    f["again"] = dense  # the same group from two places
    dense["parent"] = layers  # a group linking to its parent
    dense["root"] = f  # and to the root
    f["float_type"] = np.dtype("f8")  # a committed datatype


@pytest.mark.parametrize("libver", LIBVERS)
def test_links_and_attributes_match_h5py(tmp_path: Path, libver: str) -> None:
    path = tmp_path / f"{libver}.h5"
    with h5py.File(path, "w", libver=(libver, "latest")) as f:
        _populate(f)
    rows = _agrees_with_h5py(path, ("model_config", "training_config"))
    kinds = {row[0]: row[1] for row in rows}
    assert kinds["/leak"] == "external"
    assert kinds["/soft"] == "soft"
    assert kinds["/float_type"] == "other"
    assert kinds["/again/kernel"] == "dataset"  # the group is entered where it is met first
    external = {row[0]: row[3] for row in rows if row[3]}
    assert external == {
        "/layers/ext": ("/etc/hostname",),
        "/layers/two": ("part1.bin", "part2.bin"),
    }
    reader = _reader(path.read_bytes())
    assert reader.root_attribute("model_config") == CONFIG
    with pytest.raises(Unsupported):
        reader.root_attribute("epochs")  # a number, not a string


def test_each_group_is_entered_once(tmp_path: Path) -> None:
    path = tmp_path / "cycles.h5"
    with h5py.File(path, "w") as f:
        _populate(f)
    paths = [link.path for link in _reader(path.read_bytes()).walk()]
    assert len(paths) == len(set(paths))
    # The dense group is reached as /again and /layers/dense; only one of them is entered.
    assert sum(p.endswith("/kernel") for p in paths) == 1
    assert not any("/root/" in p or "/parent/" in p for p in paths)


@pytest.mark.parametrize(("libver", "count"), [("latest", 100), ("latest", 2000), (None, 2000)])
def test_groups_with_many_links(tmp_path: Path, libver: str | None, count: int) -> None:
    # Past 8 links new-style groups move to dense storage: a fractal heap indexed by a v2
    # B-tree, two levels deep at 2,000 links; old-style groups grow a multi-level v1 B-tree.
    path = tmp_path / "many.h5"
    with h5py.File(path, "w", libver=libver and (libver, "latest")) as f:
        for i in range(count):
            f.create_group(f"g{i}")
        f["g7"]["leak"] = h5py.ExternalLink("other.h5", "/w")
    rows = _agrees_with_h5py(path)
    assert len(rows) == count + 1
    assert ("/g7/leak", "external", ("other.h5", "/w"), ()) in rows


@pytest.mark.parametrize("libver", ["earliest", "latest"])
def test_many_and_large_root_attributes(tmp_path: Path, libver: str) -> None:
    # Fifty attributes and a 100 KB config: dense attribute storage, with the config a huge
    # fractal heap object, or a long message in an old-style header.
    # Old-style headers cap a message at 64 KiB, so the fixed-length one is smaller there.
    fixed = b'{"class_name": "Model", "pad": "' + b"x" * (
        60_000 if libver == "earliest" else 100_000
    )
    variable = '{"class_name": "Model", "pad": "' + "y" * 100_000 + '"}'
    path = tmp_path / "attributes.h5"
    with h5py.File(path, "w", libver=(libver, "latest")) as f:
        for i in range(50):
            f.attrs[f"a{i:02d}"] = f"value {i}"
        f.attrs["model_config"] = np.bytes_(fixed)
        f.attrs["training_config"] = variable  # kept in the global heap
    _agrees_with_h5py(path, ("model_config", "training_config", "a00", "a49"))
    reader = _reader(path.read_bytes())
    assert reader.root_attribute("model_config") == fixed
    assert reader.root_attribute("training_config") == variable.encode()


@pytest.mark.parametrize("userblock", [512, 4096])
def test_user_block(tmp_path: Path, userblock: int) -> None:
    path = tmp_path / "userblock.h5"
    with h5py.File(path, "w", userblock_size=userblock) as f:
        _populate(f)
    with open(path, "r+b") as f:
        f.write(b"#!/bin/sh\necho user block\n")
    _agrees_with_h5py(path, ("model_config",))


class _CountingStream(io.FileIO):
    """A file that counts the bytes read from it."""

    read_bytes = 0

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self.read_bytes += len(data)
        return data


def test_dataset_bytes_are_never_read(tmp_path: Path) -> None:
    path = tmp_path / "weights.h5"
    with h5py.File(path, "w") as f:
        f.attrs["model_config"] = CONFIG
        f.create_dataset("big", data=np.ones(2_000_000, dtype="f4"))
    size = path.stat().st_size
    with _CountingStream(path) as stream:
        reader = H5Reader(stream, size, lambda: None, 1000)
        assert [link.kind for link in reader.walk()] == ["dataset"]
        assert reader.root_attribute("model_config") == CONFIG
        assert stream.read_bytes < 8192 < size


def test_too_many_links_is_a_limit(tmp_path: Path) -> None:
    path = tmp_path / "many.h5"
    with h5py.File(path, "w") as f:
        for i in range(20):
            f.create_group(f"g{i}")
    with pytest.raises(LimitExceeded):
        list(_reader(path.read_bytes(), max_objects=10).walk())


def test_time_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "many.h5"
    with h5py.File(path, "w", libver="latest") as f:
        for i in range(1500):
            f.create_group(f"g{i}")
    data = path.read_bytes()
    calls: list[int] = []
    reader = H5Reader(io.BytesIO(data), len(data), lambda: calls.append(1), 200_000)
    assert len(list(reader.walk())) == 1500
    assert calls


def _keras_models(root: Path) -> dict[str, Path]:
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    paths = {}
    for name, with_lambda in (("benign", False), ("lambda", True)):
        layers = [keras.Input((4,)), keras.layers.Dense(3, activation="relu")]
        if with_lambda:
            layers.append(keras.layers.Lambda(lambda x: x * 2))
        layers.append(keras.layers.Dense(1))
        paths[name] = root / f"{name}.h5"
        keras.Sequential(layers).save(paths[name])
    return paths


@pytest.fixture(scope="module")
def keras_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return _keras_models(tmp_path_factory.mktemp("keras-h5"))


def test_keras_models_match_h5py(keras_models: dict[str, Path]) -> None:
    for path in keras_models.values():
        rows = _agrees_with_h5py(path, ("model_config", "training_config"))
        assert any(row[0].startswith("/model_weights/") for row in rows)


def test_lambda_found_without_h5py(
    keras_models: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "h5py", None)
    findings = scan_file(str(keras_models["lambda"]), keras_models["lambda"]).findings
    (lambda_finding,) = [f for f in findings if f.rule == "MW160"]
    assert lambda_finding.evidence["format"] == "keras-h5"
    assert lambda_finding.evidence["path"].startswith("model_config:$.config.layers[")
    assert scan_file(str(keras_models["benign"]), keras_models["benign"]).findings == []


def test_external_findings_without_h5py(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "links.h5"
    with h5py.File(path, "w", libver="latest") as f:
        _populate(f)
    with_h5py = scan_file(str(path), path).findings
    monkeypatch.setitem(sys.modules, "h5py", None)
    without = scan_file(str(path), path).findings
    assert [f.to_dict() for f in without] == [f.to_dict() for f in with_h5py]
    assert sorted(f.evidence["object"] for f in without if f.rule == "MW164") == [
        "/layers/ext",
        "/layers/two",
        "/leak",
    ]


def _read_everything(data: bytes) -> None:
    reader = _reader(data, max_objects=5_000)
    for _ in reader.walk():
        pass
    for name in ("model_config", "training_config"):
        with contextlib.suppress(Unsupported):
            reader.root_attribute(name)


def _damaged_copies(data: bytes) -> list[bytes]:
    copies = [data[:end] for end in range(0, len(data), max(1, len(data) // 150))]
    copies.extend(
        data[:at] + bytes([data[at] ^ mask]) + data[at + 1 :]
        for at in range(0, len(data), max(1, len(data) // 300))
        for mask in (0x01, 0x80, 0xFF)
    )
    return copies


@pytest.mark.parametrize("libver", ["earliest", "latest"])
def test_damaged_files_fail_only_as_format_errors(tmp_path: Path, libver: str) -> None:
    path = tmp_path / "damaged.h5"
    with h5py.File(path, "w", libver=(libver, "latest")) as f:
        _populate(f)
        group = f.create_group("dense")
        for i in range(12):
            group.create_group(f"g{i}")
        for i in range(12):
            f.attrs[f"a{i}"] = f"v{i}"
    for damaged in _damaged_copies(path.read_bytes()):
        with contextlib.suppress(FormatError, Unsupported, LimitExceeded):
            _read_everything(damaged)


def test_a_continuation_back_to_its_own_header_is_a_format_error(tmp_path: Path) -> None:
    path = tmp_path / "loop.h5"
    with h5py.File(path, "w", libver="latest") as f:
        group = f.create_group("g")
        f.create_dataset("d", data=[1, 2, 3])  # the group's header can no longer grow in place
        for i in range(6):
            group.attrs[f"attribute{i}"] = "x" * 100  # so it continues in an OCHK chunk
    data = bytearray(path.read_bytes())
    chunk = data.index(b"OCHK")
    pointer = data.index(chunk.to_bytes(8, "little"))
    header = data.rindex(b"OHDR", 0, pointer)
    assert _reader(bytes(data)).root == data.index(b"OHDR") != header
    data[pointer : pointer + 8] = header.to_bytes(8, "little")
    with pytest.raises(FormatError, match="continuation"):
        _read_everything(bytes(data))


def _two_configs(tmp_path: Path) -> bytearray:
    path = tmp_path / "two.h5"
    with h5py.File(path, "w") as f:
        f.attrs["model_config"] = np.bytes_(CONFIG)
        f.attrs["model_confiX"] = np.bytes_(b'{"class_name": "Lambda"}')
    return bytearray(path.read_bytes())


def test_two_attributes_of_one_name_are_a_format_error(tmp_path: Path) -> None:
    # A loader would read one of them and a scan might read the other.
    data = _two_configs(tmp_path)
    at = data.index(b"model_confiX")
    data[at : at + 12] = b"model_config"
    with pytest.raises(FormatError, match="two attributes named model_config"):
        _reader(bytes(data)).root_attribute("model_config")


def test_a_shared_attribute_message_is_unsupported(tmp_path: Path) -> None:
    # A shared message's body is a reference: its name, maybe model_config, is elsewhere.
    data = _two_configs(tmp_path)
    flags = data.index(b"model_confiX") - 16 + 4  # the version 1 message header's flags
    assert data[flags - 4] == 0x0C  # an attribute message
    data[flags] |= 0x02
    with pytest.raises(Unsupported, match="shared"):
        _reader(bytes(data)).root_attribute("model_config")


def test_links_are_dataclasses() -> None:
    link = H5Link("/a", "external", target=("f.h5", "/x"))
    assert link.external_files == ()
    assert link.target == ("f.h5", "/x")
