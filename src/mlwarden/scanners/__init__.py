"""Scanner registry: built-in scanners and ``mlwarden.scanners`` entry-point plugins.

Built-in scanners register themselves with :func:`register` when their module is imported.
Third-party scanners are classes published in the ``mlwarden.scanners`` entry-point group;
``MLWARDEN_DISABLE_PLUGINS=1`` turns them off.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Mapping
from types import MappingProxyType

from mlwarden.scanners.interface import (
    Artifact,
    FormatError,
    LimitExceeded,
    Limits,
    ScanContext,
    Scanner,
)
from mlwarden.sniff import DATA_KINDS, DEPENDENCY_KINDS, TEXT_KINDS, Kind

__all__ = [
    "Artifact",
    "FormatError",
    "LimitExceeded",
    "Limits",
    "ScanContext",
    "Scanner",
    "register",
    "scanners_for",
]

#: Modules whose import registers the built-in scanners, with the kinds they scan. A module
#: is imported only when a file of one of its kinds is met, so that start-up stays cheap (a
#: lockfile scan never imports the model scanners). A test checks the kinds declared here
#: against those the scanners register.
BUILTIN_MODULES: Mapping[str, frozenset[Kind]] = MappingProxyType(
    {
        "mlwarden.scanners.models.pickle": frozenset({Kind.PICKLE}),
        "mlwarden.scanners.models.numpy": frozenset({Kind.NUMPY}),
        "mlwarden.scanners.models.archives": frozenset({Kind.ZIP, Kind.TAR, Kind.COMPRESSED}),
        "mlwarden.scanners.models.keras": frozenset({Kind.JSON, Kind.HDF5}),
        "mlwarden.scanners.models.tensorflow": frozenset({Kind.TF_SAVEDMODEL}),
        "mlwarden.scanners.models.onnx": frozenset({Kind.ONNX}),
        "mlwarden.scanners.models.gguf": frozenset({Kind.GGUF}),
        "mlwarden.scanners.models.safetensors": frozenset({Kind.SAFETENSORS}),
        "mlwarden.scanners.models.huggingface": frozenset({Kind.JSON}),
        "mlwarden.scanners.deps.scanner": DEPENDENCY_KINDS,
        "mlwarden.scanners.code.python": frozenset({Kind.PYTHON}),
        "mlwarden.scanners.code.notebooks": frozenset({Kind.NOTEBOOK}),
        "mlwarden.scanners.code.secrets": TEXT_KINDS | {Kind.JSON},
        "mlwarden.scanners.code.serving": TEXT_KINDS | {Kind.JSON},
        "mlwarden.scanners.data.scanner": DATA_KINDS | {Kind.TEXT},
    }
)

#: The entry-point group third-party scanners are published in.
PLUGIN_GROUP = "mlwarden.scanners"

_REGISTRY: list[type[Scanner]] = []
_imported: set[str] = set()
_plugins_loaded = False


def register(cls: type[Scanner]) -> type[Scanner]:
    """Class decorator: make a scanner available to the engine."""
    if cls not in _REGISTRY:
        _REGISTRY.append(cls)
    return cls


def _load(kind: Kind | None = None) -> None:
    """Import the built-in modules for ``kind`` (all of them for ``None``), and the plugins."""
    global _plugins_loaded
    for module, kinds in BUILTIN_MODULES.items():
        if module not in _imported and (kind is None or kind in kinds):
            importlib.import_module(module)
            _imported.add(module)
    if _plugins_loaded:
        return
    _plugins_loaded = True
    if os.environ.get("MLWARDEN_DISABLE_PLUGINS", "") not in ("", "0"):
        return
    if not _plugins_may_be_installed():
        return
    from importlib.metadata import entry_points  # costs start-up time: only when needed

    for ep in entry_points(group=PLUGIN_GROUP):
        cls = ep.load()
        if isinstance(cls, type) and issubclass(cls, Scanner):
            register(cls)


def _plugins_may_be_installed() -> bool:
    """Whether an installed distribution may publish scanners.

    A look at the ``entry_points.txt`` of each distribution on ``sys.path`` costs far less
    than loading :mod:`importlib.metadata`, which every scanning process would otherwise pay
    for. Path entries that are not directories (zipped eggs) are left to importlib.metadata.
    """
    marker = f"[{PLUGIN_GROUP}]".encode()
    for entry in sys.path:
        directory = entry or "."
        if os.path.isfile(directory):
            return True
        try:
            listing = os.scandir(directory)
        except OSError:
            continue
        with listing:
            for item in listing:
                if not item.name.endswith((".dist-info", ".egg-info")):
                    continue
                try:
                    with open(os.path.join(item.path, "entry_points.txt"), "rb") as handle:
                        if marker in handle.read():
                            return True
                except OSError:
                    continue
    return False


def scanners_for(kind: Kind) -> list[Scanner]:
    """Instances of every registered scanner that accepts ``kind``."""
    _load(kind)
    return [cls() for cls in _REGISTRY if kind in cls.kinds]


def registered() -> list[type[Scanner]]:
    """Every registered scanner class, built-in and plugin."""
    _load()
    return list(_REGISTRY)
