"""Scanner registry: built-in scanners and ``mlwarden.scanners`` entry-point plugins.

Built-in scanners register themselves with :func:`register` when their module is imported.
Third-party scanners are classes published in the ``mlwarden.scanners`` entry-point group;
``MLWARDEN_DISABLE_PLUGINS=1`` turns them off.
"""

from __future__ import annotations

import importlib
import os
from importlib.metadata import entry_points

from mlwarden.scanners.interface import (
    Artifact,
    FormatError,
    LimitExceeded,
    Limits,
    ScanContext,
    Scanner,
)
from mlwarden.sniff import Kind

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

#: Modules whose import registers the built-in scanners.
BUILTIN_MODULES: tuple[str, ...] = (
    "mlwarden.scanners.models.pickle",
    "mlwarden.scanners.models.numpy",
    "mlwarden.scanners.models.archives",
    "mlwarden.scanners.models.keras",
    "mlwarden.scanners.models.tensorflow",
    "mlwarden.scanners.models.onnx",
    "mlwarden.scanners.models.gguf",
    "mlwarden.scanners.models.safetensors",
    "mlwarden.scanners.models.huggingface",
    "mlwarden.scanners.deps.scanner",
    "mlwarden.scanners.code.python",
    "mlwarden.scanners.code.notebooks",
    "mlwarden.scanners.code.secrets",
    "mlwarden.scanners.code.serving",
)

_REGISTRY: list[type[Scanner]] = []
_loaded = False


def register(cls: type[Scanner]) -> type[Scanner]:
    """Class decorator: make a scanner available to the engine."""
    if cls not in _REGISTRY:
        _REGISTRY.append(cls)
    return cls


def _load() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for module in BUILTIN_MODULES:
        importlib.import_module(module)
    if os.environ.get("MLWARDEN_DISABLE_PLUGINS", "") not in ("", "0"):
        return
    for ep in entry_points(group="mlwarden.scanners"):
        cls = ep.load()
        if isinstance(cls, type) and issubclass(cls, Scanner):
            register(cls)


def scanners_for(kind: Kind) -> list[Scanner]:
    """Instances of every registered scanner that accepts ``kind``."""
    _load()
    return [cls() for cls in _REGISTRY if kind in cls.kinds]


def registered() -> list[type[Scanner]]:
    """Every registered scanner class, built-in and plugin."""
    _load()
    return list(_REGISTRY)
