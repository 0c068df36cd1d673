"""Convert a pickle-based checkpoint to safetensors, a format that holds tensors and no code.

The checkpoint is opened with :func:`~mlwarden.protect.safe_load.safe_load`; its tensors and
arrays are collected from a state_dict (nested dicts flattened with ``"."``) or from an
``nn.Module`` whose classes were admitted, and written atomically next to the output.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlwarden.atomic import atomic_output
from mlwarden.protect.errors import ConversionError, SafeLoadError, UnsafeGlobalError
from mlwarden.protect.safe_load import safe_load

__all__ = ["ConversionSummary", "convert_to_safetensors"]

_MAX_DEPTH = 64

_WHOLE_MODEL_HINT = (
    "If this checkpoint is a whole model object (torch.save(model)), save its state_dict "
    "instead (torch.save(model.state_dict(), path)): only tensors are converted."
)


@dataclass(frozen=True, slots=True)
class ConversionSummary:
    """What :func:`convert_to_safetensors` wrote.

    ``tensor_bytes`` counts tensor data; ``output_bytes`` is the size of the file written.
    ``skipped`` names values that are not tensors (numbers, strings), which safetensors cannot
    hold and which were left out.
    """

    source: str
    output: str
    source_sha256: str
    tensors: int
    tensor_bytes: int
    output_bytes: int
    skipped: tuple[str, ...] = ()


def convert_to_safetensors(
    checkpoint: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    allow: Iterable[str] = (),
) -> ConversionSummary:
    """Write the tensors of ``checkpoint`` to the safetensors file ``output``.

    The checkpoint is read with :func:`safe_load` (``allow`` admits more globals). Tensors
    sharing memory are copied apart, as safetensors requires. The output is written to a
    temporary file and renamed into place, so a failure leaves no partial file; it is never
    the checkpoint itself. The metadata records the sha256 of the checkpoint and that mlwarden
    converted it. Raises :class:`UnsafeGlobalError`, :class:`CheckpointFormatError` or
    :class:`ConversionError` (all :class:`SafeLoadError`).
    """
    source, target = Path(checkpoint), Path(output)
    _refuse_same_file(source, target)
    digest = _sha256(source)
    try:
        loaded = safe_load(source, allow=allow)
    except UnsafeGlobalError as exc:
        raise UnsafeGlobalError(exc.global_name, exc.reason, hint=_WHOLE_MODEL_HINT) from None
    collected: dict[str, Any] = {}
    skipped: list[str] = []
    _collect(loaded, "", collected, skipped, 0)
    if not collected:
        raise ConversionError(
            f"{source} holds a {type(loaded).__name__} with no tensors or arrays; only tensors, "
            "arrays and (nested) dicts of them can become safetensors"
        )
    metadata = {
        "source_sha256": digest,
        "source_name": source.name,
        "converted_by": f"mlwarden {_version()}",
    }
    tensor_bytes = _write(collected, target, metadata)
    return ConversionSummary(
        source=str(source),
        output=str(target),
        source_sha256=digest,
        tensors=len(collected),
        tensor_bytes=tensor_bytes,
        output_bytes=target.stat().st_size,
        skipped=tuple(skipped),
    )


def _version() -> str:
    from mlwarden import __version__

    return __version__


def _refuse_same_file(source: Path, target: Path) -> None:
    if target.is_dir():
        raise ConversionError(f"output {target} is a directory")
    same = source.resolve() == target.resolve()
    if not same and source.exists() and target.exists():
        same = os.path.samefile(source, target)
    if same:
        raise ConversionError(f"output {target} is the checkpoint itself; it is never overwritten")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(1024 * 1024):
                digest.update(chunk)
    except OSError as exc:
        raise SafeLoadError(f"cannot read {path}: {exc.strerror or exc}") from None
    return digest.hexdigest()


def _is_tensor(value: object) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, torch.Tensor)


def _is_module(value: object) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, torch.nn.Module)


def _is_array(value: object) -> bool:
    numpy = sys.modules.get("numpy")
    return numpy is not None and isinstance(value, numpy.ndarray)


def _module_state(module: Any) -> dict[str, Any]:
    # The entries state_dict() would give, read from the module's own dicts: no hook runs.
    skip: set[str] = getattr(module, "_non_persistent_buffers_set", set())
    parameters = getattr(module, "_parameters", {})
    buffers = getattr(module, "_buffers", {})
    children = getattr(module, "_modules", {})
    return {
        **{name: value for name, value in parameters.items() if value is not None},
        **{n: v for n, v in buffers.items() if v is not None and n not in skip},
        **{name: child for name, child in children.items() if child is not None},
    }


def _collect(value: object, key: str, out: dict[str, Any], skipped: list[str], depth: int) -> None:
    if depth > _MAX_DEPTH:
        raise ConversionError(f"{key}: nested more than {_MAX_DEPTH} levels")
    if _is_tensor(value) or _is_array(value):
        name = key or "tensor"
        if name in out:
            raise ConversionError(f"two tensors would both be named {name!r}")
        out[name] = value
        return
    if _is_module(value):
        value = _module_state(value)
    if isinstance(value, Mapping):
        for sub, item in value.items():
            if not isinstance(sub, str | int) or isinstance(sub, bool):
                skipped.append(f"{key}[{sub!r}]")
                continue
            _collect(item, f"{key}.{sub}" if key else str(sub), out, skipped, depth + 1)
        return
    if isinstance(value, list | tuple) and any(
        _is_tensor(v) or _is_array(v) or isinstance(v, Mapping) for v in value
    ):
        for index, item in enumerate(value):
            _collect(item, f"{key}.{index}" if key else str(index), out, skipped, depth + 1)
        return
    skipped.append(key or "<root>")


def _prepare_array(name: str, array: Any) -> Any:
    import numpy as np

    if array.dtype.hasobject or array.dtype.kind not in "biufc":
        raise ConversionError(f"{name}: arrays of {array.dtype} cannot become safetensors")
    if not array.dtype.isnative:
        array = array.astype(array.dtype.newbyteorder("="))
    return np.ascontiguousarray(array)


def _prepare_tensors(collected: dict[str, Any]) -> dict[str, Any]:
    import torch

    tensors: dict[str, Any] = {}
    seen_storages: set[tuple[str, int]] = set()
    for name, value in collected.items():
        if _is_array(value):
            value = torch.from_numpy(_prepare_array(name, value))
        if value.layout != torch.strided or value.is_quantized:
            raise ConversionError(f"{name}: sparse or quantised tensors cannot become safetensors")
        tensor = value.detach().to("cpu").contiguous()
        storage = tensor.untyped_storage()
        if storage.nbytes():
            where = (str(tensor.device), storage.data_ptr())
            if where in seen_storages:
                # safetensors refuses tensors that share memory: each gets its own copy.
                tensor = tensor.clone()
            seen_storages.add(where)
        tensors[name] = tensor
    return tensors


def _write(collected: dict[str, Any], target: Path, metadata: dict[str, str]) -> int:
    """Write atomically; return the bytes of tensor data."""
    if any(_is_tensor(v) for v in collected.values()):
        from safetensors.torch import save_file as save_torch

        tensors = _prepare_tensors(collected)
        size = sum(int(t.numel() * t.element_size()) for t in tensors.values())

        def save(path: str) -> None:
            save_torch(tensors, path, metadata={**metadata, "format": "pt"})

    else:
        from safetensors.numpy import save_file as save_numpy

        arrays = {name: _prepare_array(name, a) for name, a in collected.items()}
        size = sum(int(a.nbytes) for a in arrays.values())

        def save(path: str) -> None:
            save_numpy(arrays, path, metadata={**metadata, "format": "np"})

    parent = target.resolve().parent
    if not parent.is_dir():
        raise ConversionError(f"cannot write {target}: {parent} is not a directory")
    try:
        with atomic_output(target) as temporary:
            save(str(temporary))
    except SafeLoadError:
        raise
    except OSError as exc:
        raise ConversionError(f"cannot write {target}: {exc.strerror or exc}") from None
    except Exception as exc:
        raise ConversionError(f"cannot write {target}: {exc}") from None
    return size
