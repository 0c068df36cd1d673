"""mlwarden: security for machine-learning projects.

The command line is a thin shell over these functions; notebooks and services call them too.
"""

from __future__ import annotations

__version__ = "0.1.0"

from mlwarden.api import scan
from mlwarden.findings import Finding, Location, Report, ScanError, Severity
from mlwarden.protect import SafeLoadError, UnsafeGlobalError, convert_to_safetensors, safe_load
from mlwarden.rules import Rule, all_rules, get_rule
from mlwarden.scanners.interface import Limits

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
