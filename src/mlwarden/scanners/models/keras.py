"""Keras models: ``config.json`` (of ``.keras`` archives, or standalone model JSON) and legacy
HDF5 (``.h5``) files.

Configs are analysed as data by :mod:`.keras_config`. HDF5 files are read by
:mod:`.hdf5`, which reads the root attributes ``model_config`` and ``training_config`` and lists
links and datasets from the file's metadata alone. Files using an HDF5 feature that reader does
not read (virtual datasets, shared attribute messages...) are opened with h5py instead (an
optional dependency, extra ``keras``) when it is installed, and fail closed when it is not.
Neither path runs code or reads a dataset; ``keras.load_model`` is never called.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from types import ModuleType
from typing import IO, TYPE_CHECKING, Any

from mlwarden.findings import Finding
from mlwarden.scanners import register
from mlwarden.scanners.interface import Artifact, FormatError, LimitExceeded, ScanContext, Scanner
from mlwarden.scanners.models.keras_config import analyse_config, looks_like_keras_config
from mlwarden.sniff import Kind

if TYPE_CHECKING:
    from mlwarden.scanners.models.hdf5 import Unsupported

#: HDF5 root attributes that hold Keras configs as JSON.
H5_CONFIG_ATTRIBUTES = ("model_config", "training_config")

#: Most HDF5 objects listed when looking for external references.
MAX_H5_OBJECTS = 200_000

_KERAS_MARKER = b'"class_name"'

_H5_ERRORS = (OSError, KeyError, RuntimeError, ValueError, TypeError, UnicodeDecodeError)


def _config_findings(
    scanner: Scanner, artifact: Artifact, document: object, fmt: str, where: str = ""
) -> Iterator[Finding]:
    for issue in analyse_config(document):
        path = f"{where}{issue.path}"
        evidence: dict[str, object] = {"format": fmt, "path": path}
        if issue.target:
            evidence["target"] = issue.target
            evidence["module"] = issue.target.rsplit(".", 1)[0]
        yield scanner.finding(
            artifact,
            issue.rule,
            f"the model config has {issue.message} at {path}",
            severity=issue.severity,
            evidence=evidence,
            key=f"{path}\x1f{issue.target}",
        )


def _load_json(data: bytes, what: str) -> Any:
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FormatError(f"{what} is not valid JSON: {exc}") from None
    except RecursionError:
        raise FormatError(f"{what} is nested too deeply to read") from None


@register
class KerasConfigScanner(Scanner):
    """Keras model configs in JSON: Lambda layers and modules imported on load."""

    name = "keras-config"
    kinds = frozenset({Kind.JSON})

    def scan(self, artifact: Artifact, context: ScanContext) -> Iterator[Finding]:
        in_keras = artifact.container == "keras"
        if artifact.size > context.limits.max_metadata_bytes:
            if in_keras:
                raise LimitExceeded(
                    "max_metadata_bytes",
                    f"Keras config of {artifact.size} bytes is over the metadata limit",
                )
            return  # a large JSON file outside a Keras archive is data, not a model config
        # Key order is free in JSON, so the marker is looked for in the whole document.
        data = artifact.read_at_most(context.limits.max_metadata_bytes + 1)
        if not in_keras and _KERAS_MARKER not in data:
            return
        try:
            document = _load_json(data, "the Keras config")
        except FormatError:
            if in_keras:
                raise
            return  # not JSON after all: the JSON sniffer only saw a plausible start
        if not in_keras and not looks_like_keras_config(document):
            return
        yield from _config_findings(self, artifact, document, "keras" if in_keras else "keras-json")


def _import_h5py(feature: Unsupported) -> ModuleType:
    try:
        return importlib.import_module("h5py")
    except ImportError:
        raise FormatError(
            f"HDF5 file uses {feature}, which only h5py can read: install mlwarden[keras]"
        ) from None


@register
class KerasH5Scanner(Scanner):
    """Legacy Keras HDF5 files: configs in root attributes, references to other files."""

    name = "keras-h5"
    kinds = frozenset({Kind.HDF5})

    def scan(self, artifact: Artifact, context: ScanContext) -> Iterator[Finding]:
        # Imported here: the module also scans JSON configs, which never need the reader.
        from mlwarden.scanners.models.hdf5 import Unsupported

        fmt = "keras-h5" if artifact.container is None else artifact.container
        with artifact.open() as stream:
            if not stream.seekable():
                raise FormatError("HDF5 member is not seekable and cannot be inspected")
            try:
                findings = self._read(stream, artifact, context, fmt)
            except Unsupported as feature:
                h5py = _import_h5py(feature)
                stream.seek(0)
                try:
                    with h5py.File(stream, "r") as h5:
                        findings = list(self._attribute_findings(h5, artifact, context, fmt))
                        findings.extend(self._external_findings(h5py, h5, artifact, context, fmt))
                except _H5_ERRORS as exc:
                    # The HDF5 library reports damage through many exception types.
                    raise FormatError(f"damaged HDF5 file: {type(exc).__name__}: {exc}") from None
        yield from findings

    def _read(
        self, stream: IO[bytes], artifact: Artifact, context: ScanContext, fmt: str
    ) -> list[Finding]:
        """Findings from the file's metadata, read without the HDF5 library."""
        from mlwarden.scanners.models.hdf5 import H5Reader

        reader = H5Reader(
            stream,
            artifact.size,
            context.check_time,
            MAX_H5_OBJECTS,
            context.limits.max_metadata_bytes,
        )
        findings: list[Finding] = []
        for name in H5_CONFIG_ATTRIBUTES:
            data = reader.root_attribute(name)
            if data is not None:
                document = _load_json(data, f"HDF5 attribute {name}")
                findings.extend(_config_findings(self, artifact, document, fmt, where=f"{name}:"))
        for link in reader.walk():
            if link.kind == "external" and link.target is not None:
                file, path = link.target
                what = f"an external link to {file}:{path}"
                findings.append(self._external(artifact, fmt, link.path, what, [file]))
            elif link.external_files:
                files = list(link.external_files)
                what = f"data stored in {', '.join(files)}"
                findings.append(self._external(artifact, fmt, link.path, what, files))
        return findings

    def _attribute_findings(
        self, h5: Any, artifact: Artifact, context: ScanContext, fmt: str
    ) -> Iterator[Finding]:
        for name in H5_CONFIG_ATTRIBUTES:
            if name not in h5.attrs:
                continue
            raw = h5.attrs[name]
            data = raw if isinstance(raw, bytes) else str(raw).encode("utf-8")
            if len(data) > context.limits.max_metadata_bytes:
                raise LimitExceeded(
                    "max_metadata_bytes", f"HDF5 attribute {name} is over the metadata limit"
                )
            document = _load_json(data, f"HDF5 attribute {name}")
            yield from _config_findings(self, artifact, document, fmt, where=f"{name}:")

    def _external_findings(
        self, h5py: ModuleType, h5: Any, artifact: Artifact, context: ScanContext, fmt: str
    ) -> Iterator[Finding]:
        stack: list[tuple[str, Any]] = [("", h5)]
        seen: set[Any] = {h5.id}  # a link back to the root must not list it twice
        count = 0
        while stack:
            prefix, group = stack.pop()
            for name in group:
                count += 1
                if count > MAX_H5_OBJECTS:
                    raise LimitExceeded(
                        "h5_objects", f"HDF5 file has more than {MAX_H5_OBJECTS} objects"
                    )
                if count % 1024 == 0:
                    context.check_time()
                path = f"{prefix}/{name}"
                link = group.get(name, getlink=True)
                if isinstance(link, h5py.ExternalLink):
                    yield self._external(
                        artifact,
                        fmt,
                        path,
                        f"an external link to {link.filename}:{link.path}",
                        [link.filename],
                    )
                    continue
                if isinstance(link, h5py.SoftLink):
                    continue
                obj = group.get(name)
                if isinstance(obj, h5py.Group):
                    if obj.id not in seen:
                        seen.add(obj.id)
                        stack.append((path, obj))
                elif isinstance(obj, h5py.Dataset):
                    files = _dataset_files(obj)
                    if files:
                        yield self._external(
                            artifact, fmt, path, f"data stored in {', '.join(files)}", files
                        )

    def _external(
        self, artifact: Artifact, fmt: str, path: str, what: str, files: list[str]
    ) -> Finding:
        return self.finding(
            artifact,
            "MW164",
            f"HDF5 object {path} has {what}",
            evidence={"format": fmt, "object": path, "files": files},
            key=path,
        )


def _dataset_files(dataset: Any) -> list[str]:
    """Files a dataset's data lives in besides this one (external storage, virtual sources)."""
    files: list[str] = []
    plist = dataset.id.get_create_plist()
    for i in range(plist.get_external_count()):
        name = plist.get_external(i)[0]
        files.append(name.decode("utf-8", "replace") if isinstance(name, bytes) else str(name))
    if dataset.is_virtual:
        # "." is the file itself.
        files.extend(
            str(source.file_name) for source in dataset.virtual_sources() if source.file_name != "."
        )
    return files


__all__ = ["H5_CONFIG_ATTRIBUTES", "KerasConfigScanner", "KerasH5Scanner"]
