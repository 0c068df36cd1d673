"""Actions that change or vouch for artifacts: loading them safely, converting them."""

from __future__ import annotations

from mlwarden.protect.convert import ConversionSummary, convert_to_safetensors
from mlwarden.protect.errors import (
    CheckpointFormatError,
    ConversionError,
    SafeLoadError,
    UnsafeGlobalError,
)
from mlwarden.protect.safe_load import safe_load

__all__ = [
    "CheckpointFormatError",
    "ConversionError",
    "ConversionSummary",
    "SafeLoadError",
    "UnsafeGlobalError",
    "convert_to_safetensors",
    "safe_load",
]
