"""Checkpoints and payloads built by code: real libraries, and pickles that must never run."""

from __future__ import annotations

import io
import os
import pickle
import subprocess
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import Any

import torch


class ShellPayload:
    """Pickles as ``os.system("touch MARKER")``: creates the marker file if it is ever run."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, (f"touch {self.marker}",))


class ExecPayload:
    """Pickles as ``exec(...)`` of Python source that writes the marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (exec, (f"open({str(self.marker)!r}, 'w').write('ran')",))


class SubprocessPayload:
    """Pickles as ``subprocess.Popen(["touch", MARKER])``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (subprocess.Popen, (["touch", str(self.marker)],))


PAYLOADS = {"os.system": ShellPayload, "exec": ExecPayload, "subprocess": SubprocessPayload}


class StorageRef:
    """Pickled by :func:`pickle_with_pids` as the persistent id it carries."""

    def __init__(self, pid: object) -> None:
        self.pid = pid


class RebuildTensor:
    """Pickles as a call to ``torch._utils._rebuild_tensor_v2`` on a chosen storage id."""

    def __init__(self, pid: object, size: tuple[int, ...], hooks: object = None) -> None:
        self.pid, self.size = pid, size
        self.hooks = OrderedDict() if hooks is None else hooks

    def __reduce__(self) -> tuple[Any, ...]:
        stride = tuple(int(s) for s in torch.empty(self.size).stride())
        return (
            torch._utils._rebuild_tensor_v2,
            (StorageRef(self.pid), 0, self.size, stride, False, self.hooks),
        )


class _PidPickler(pickle.Pickler):
    def persistent_id(self, obj: Any) -> Any:
        return obj.pid if isinstance(obj, StorageRef) else None


def pickle_with_pids(obj: object, protocol: int = 2) -> bytes:
    """Pickle ``obj``; :class:`StorageRef` objects become persistent ids."""
    out = io.BytesIO()
    _PidPickler(out, protocol=protocol).dump(obj)
    return out.getvalue()


def write_torch_zip(
    path: Path, data_pkl: bytes, records: dict[str, bytes], *, byteorder: str = "little",
    extra: dict[str, bytes] | None = None,
) -> Path:  # fmt: skip
    """A zip laid out as ``torch.save`` lays it out, with the given pickle and storages."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("archive/data.pkl", data_pkl)
        archive.writestr("archive/byteorder", byteorder)
        for key, data in records.items():
            archive.writestr(f"archive/data/{key}", data)
        archive.writestr("archive/version", "3\n")
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return path


def rewrite_zip(path: Path, target: Path, changes: dict[str, bytes | None]) -> Path:
    """Copy a zip, replacing (or with ``None`` dropping) the named members."""
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(target, "w") as out:
        for info in source.infolist():
            if info.filename in changes:
                replacement = changes[info.filename]
                if replacement is not None:
                    out.writestr(info, replacement)
                continue
            out.writestr(info, source.read(info))
        for name, data in changes.items():
            if data is not None and name not in source.namelist():
                out.writestr(name, data)
    return target


def zip_member(path: Path, suffix: str) -> str:
    """The full name of the member of a zip whose name ends with ``suffix``."""
    with zipfile.ZipFile(path) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(suffix)]
    return name
