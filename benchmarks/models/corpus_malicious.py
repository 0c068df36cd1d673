"""Malicious model files: payload pickles in every container, and non-pickle attacks.

Nothing here runs a payload. Pickles are assembled from opcodes or written by ``pickle``
from objects whose ``__reduce__`` only *names* the callable; Keras, ONNX, GGUF and
safetensors attacks are written as bytes/JSON without loading anything.
"""

from __future__ import annotations

import io
import os
import pickle
import pickletools
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import opcodes as op
import payloads

os.environ.setdefault("KERAS_BACKEND", "torch")

Labels = dict[str, str]


def _label(labels: Labels, root: Path, path: Path, technique: str) -> None:
    labels[str(path.relative_to(root))] = technique


def pickle_files(root: Path, work: Path, labels: Labels) -> None:
    """Every payload as a plain .pkl; the classic ones also renamed to other extensions."""
    out = root / "pickle"
    out.mkdir(parents=True, exist_ok=True)
    bodies = payloads.payload_bodies(str(work))
    for name, (technique, body) in bodies.items():
        path = out / f"{name}.pkl"
        path.write_bytes(op.program(body))
        _label(labels, root, path, technique)
    for name, (technique, raw) in payloads.protocol_variants(str(work)).items():
        path = out / f"{name}.pkl"
        path.write_bytes(raw)
        _label(labels, root, path, technique)
    renamed = root / "renamed"
    renamed.mkdir(exist_ok=True)
    for name in ("os_system", "builtins_exec", "builtins_eval", "subprocess_popen"):
        technique, body = bodies[name]
        for ext in ("bin", "pt", "safetensors", "txt", "npy", "h5"):
            path = renamed / f"{name}.{ext}"
            path.write_bytes(op.program(body))
            _label(labels, root, path, f"{technique}: plain pickle named .{ext}")
    # A benign-looking model dict whose one value is the payload (more realistic than a bare call).
    technique, body = bodies["os_system"]
    path = out / "state_dict_with_payload.pkl"
    path.write_bytes(op.program(op.dict_with([("weight", op.data(b"\0" * 64)), ("meta", body)])))
    _label(labels, root, path, "os.system inside a dict of weights")
    path = out / "framed_pickle_dumps.pkl"
    path.write_bytes(
        pickle.dumps({"w": b"\0" * 128, "hook": payloads.system_call(str(work), "framed")}, 5)
    )
    _label(labels, root, path, "os.system written by pickle.dumps protocol 5 (FRAME opcodes)")
    path = out / "second_pickle_payload.pkl"
    path.write_bytes(op.program(op.dict_with([("w", op.data(b"\0" * 1024))])) + op.program(body))
    _label(labels, root, path, "os.system in the second pickle of the file")


def _benign_torch_zip() -> bytes:
    import torch

    buffer = io.BytesIO()
    torch.save({"weight": torch.ones(4, 4), "bias": torch.zeros(4)}, buffer)
    return buffer.getvalue()


def _rewrite_zip(
    source: bytes,
    target: Path,
    replace: Callable[[str, bytes], bytes] | None = None,
    extra: dict[str, bytes] | None = None,
) -> None:
    """Copy a zip member by member, optionally changing members and adding new ones."""
    with zipfile.ZipFile(io.BytesIO(source)) as src, zipfile.ZipFile(target, "w") as dst:
        for info in src.infolist():
            raw = src.read(info.filename)
            if replace is not None:
                raw = replace(info.filename, raw)
            dst.writestr(info.filename, raw, compress_type=zipfile.ZIP_STORED)
        for name, raw in (extra or {}).items():
            dst.writestr(name, raw, compress_type=zipfile.ZIP_STORED)


def inject(pickle_bytes: bytes, body: bytes) -> bytes:
    """Run ``body`` (then drop its value) before the original pickle's own opcodes."""
    assert pickle_bytes[:1] == op.PROTO
    return pickle_bytes[:2] + body + op.POP + pickle_bytes[2:]


def torch_files(root: Path, work: Path, labels: Labels) -> None:
    """Payloads in PyTorch zip checkpoints (data.pkl and other members), nested zips, legacy."""
    import torch

    out = root / "torch"
    out.mkdir(parents=True, exist_ok=True)
    bodies = payloads.payload_bodies(str(work))
    clean = _benign_torch_zip()

    def into_data_pkl(body: bytes) -> Callable[[str, bytes], bytes]:
        return lambda name, raw: inject(raw, body) if name.endswith("/data.pkl") else raw

    for name in (
        "os_system",
        "builtins_exec",
        "subprocess_popen",
        "stack_global_memo",
        "getattr_chain",
        "pkgutil_resolve_name",
        "runpy_run_code",
        "dotted_through_torch",
        "types_functiontype",
        "ctypes_cdll",
    ):
        technique, body = bodies[name]
        path = out / f"zip_{name}.pt"
        _rewrite_zip(clean, path, replace=into_data_pkl(body))
        _label(labels, root, path, f"{technique} in torch zip data.pkl")
    payload_pickle = op.program(bodies["os_system"][1])
    members = {
        "constants_pkl": "archive/constants.pkl",
        "extra_member": "archive/extra/hook.pkl",
        "upper_case_name": "archive/DATA.PKL",
        "no_extension": "archive/data/payload",
    }
    for name, member in members.items():
        path = out / f"member_{name}.pt"
        _rewrite_zip(clean, path, extra={member: payload_pickle})
        _label(labels, root, path, f"os.system pickle in extra zip member {member}")
    # A whole checkpoint written by torch.save whose state holds a payload object.
    path = out / "torch_save_payload.pt"
    torch.save({"weight": torch.ones(2), "hook": payloads.system_call(str(work), "ts")}, path)
    _label(labels, root, path, "os.system object saved by torch.save")
    # Zip in zip: the malicious checkpoint inside an ordinary zip, and a pickle in a zip.
    path = out / "zip_in_zip.zip"
    with zipfile.ZipFile(path, "w") as outer:
        outer.write(out / "zip_os_system.pt", "models/model.pt")
    _label(labels, root, path, "malicious torch zip inside a zip")
    path = out / "pickle_in_zip.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as outer:
        outer.writestr("model/weights.pkl", payload_pickle)
    _label(labels, root, path, "os.system pickle deflated inside a zip")
    path = out / "zip_in_zip_in_zip.zip"
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as middle:
        middle.write(out / "zip_os_system.pt", "model.pt")
    with zipfile.ZipFile(path, "w") as outer:
        outer.writestr("bundle.zip", inner.getvalue())
    _label(labels, root, path, "malicious torch zip two zips deep")
    path = out / "zip_deflated_data_pkl.pt"
    with zipfile.ZipFile(io.BytesIO(clean)) as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            raw = src.read(info.filename)
            if info.filename.endswith("/data.pkl"):
                raw = inject(raw, bodies["builtins_eval"][1])
            dst.writestr(info.filename, raw, compress_type=zipfile.ZIP_DEFLATED)
    _label(labels, root, path, "builtins.eval in a deflated torch zip data.pkl")
    path = out / "polyglot_pickle_then_zip.pt"
    path.write_bytes(payload_pickle + clean)
    _label(labels, root, path, "polyglot: os.system pickle first, a valid torch zip after it")
    for suffix, mode in (("tar", "w"), ("tar.gz", "w:gz")):
        path = out / f"pickle_in.{suffix}"
        with tarfile.open(path, mode) as tar:
            info = tarfile.TarInfo("model/model.pkl")
            info.size = len(payload_pickle)
            tar.addfile(info, io.BytesIO(payload_pickle))
        _label(labels, root, path, f"os.system pickle inside a .{suffix}")
    legacy_files(root, work, labels)


def legacy_files(root: Path, work: Path, labels: Labels) -> None:
    """Legacy (non-zip) torch.save files with payloads in the data or the magic pickle."""
    import torch

    out = root / "torch"
    path = out / "legacy_payload.pt"
    torch.save(
        {"weight": torch.ones(3), "hook": payloads.system_call(str(work), "legacy")},
        path,
        _use_new_zipfile_serialization=False,
    )
    _label(labels, root, path, "os.system object in legacy torch.save data pickle")
    buffer = io.BytesIO()
    torch.save({"weight": torch.ones(3)}, buffer, _use_new_zipfile_serialization=False)
    raw = buffer.getvalue()
    first_end = next(pos for opcode, _, pos in pickletools.genops(raw) if opcode.name == "STOP") + 1
    magic = raw[:first_end]
    _, body = payloads.payload_bodies(str(work))["os_system"]
    path = out / "legacy_magic_payload.pt"
    path.write_bytes(inject(magic, body) + raw[first_end:])
    _label(labels, root, path, "os.system before the magic number of a legacy torch file")
    path = out / "legacy_payload.bin"
    torch.save(
        [torch.zeros(2), payloads.PayloadCall(eval, (f"open({str(work)!r}+'/x','w')",))],
        path,
        _use_new_zipfile_serialization=False,
    )
    _label(labels, root, path, "builtins.eval object in legacy torch.save (.bin)")


def joblib_numpy_files(root: Path, work: Path, labels: Labels) -> None:
    """joblib dumps (every compressor) and numpy object arrays carrying a payload."""
    import joblib
    import numpy as np

    out = root / "joblib"
    out.mkdir(parents=True, exist_ok=True)
    payload = payloads.system_call(str(work), "joblib")
    for cname, compress in (
        ("plain", 0),
        ("zlib", ("zlib", 3)),
        ("gzip", ("gzip", 3)),
        ("bz2", ("bz2", 3)),
        ("lzma", ("lzma", 3)),
        ("xz", ("xz", 3)),
    ):
        path = out / f"payload_{cname}.joblib"
        joblib.dump({"coef": np.ones((20, 20)), "hook": payload}, path, compress=compress)
        _label(labels, root, path, f"os.system object in joblib.dump compress={cname}")
    path = out / "payload_after_array.pkl"
    joblib.dump([np.zeros((300, 300)), payload], path)
    _label(labels, root, path, "os.system after a numpy array in joblib (named .pkl)")
    numpy_dir = root / "numpy"
    numpy_dir.mkdir(parents=True, exist_ok=True)
    objects = np.empty(2, dtype=object)
    objects[0] = {"ok": 1}
    objects[1] = payload
    path = numpy_dir / "object_array.npy"
    np.save(path, objects, allow_pickle=True)
    _label(labels, root, path, "os.system in a numpy object array (.npy)")
    path = numpy_dir / "object_array.npz"
    np.savez(path, weights=np.ones(4), extra=objects)
    _label(labels, root, path, "os.system in a numpy object array inside .npz")
    path = numpy_dir / "object_array_compressed.npz"
    np.savez_compressed(path, extra=objects)
    _label(labels, root, path, "os.system in a numpy object array inside compressed .npz")


def payload_after_blob(root: Path, work: Path, labels: Labels, size: int) -> None:
    """A pickle whose payload comes after ``size`` bytes of weights."""
    out = root / "pickle"
    out.mkdir(parents=True, exist_ok=True)
    _, body = payloads.payload_bodies(str(work))["os_system"]
    path = out / f"payload_after_{size >> 20}mb_blob.pkl"
    with path.open("wb") as handle:
        op.write_blob_then(handle, size, body)
    _label(labels, root, path, f"os.system after a {size >> 20} MB BINBYTES8 blob")
