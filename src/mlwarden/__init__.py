"""mlwarden: security for machine-learning projects.

The command line is a thin shell over these functions; notebooks and services call them too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

from mlwarden.api import scan
from mlwarden.findings import Finding, Location, Report, ScanError, Severity
from mlwarden.rules import Rule, all_rules, get_rule
from mlwarden.scanners.interface import Limits

if TYPE_CHECKING:
    from mlwarden.protect.convert import convert_to_safetensors
    from mlwarden.protect.errors import SafeLoadError, UnsafeGlobalError
    from mlwarden.protect.safe_load import safe_load

#: Names imported on first use: loading checkpoints needs more than scanning does.
_LAZY = frozenset({"SafeLoadError", "UnsafeGlobalError", "convert_to_safetensors", "safe_load"})


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from mlwarden import protect

        return getattr(protect, name)
    raise AttributeError(f"module 'mlwarden' has no attribute {name!r}")


__all__ = [
    "Finding",
    "Limits",
    "Location",
    "Report",
    "Rule",
    "SafeLoadError",
    "ScanError",
    "Severity",
    "UnsafeGlobalError",
    "__version__",
    "all_rules",
    "convert_to_safetensors",
    "get_rule",
    "safe_load",
    "scan",
]
