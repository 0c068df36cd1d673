"""``mlwarden convert``: a pickle checkpoint to safetensors."""

from __future__ import annotations

import argparse

from mlwarden.cli import EXIT_OK, UsageError
from mlwarden.protect.convert import convert_to_safetensors
from mlwarden.protect.errors import SafeLoadError


def run_convert(args: argparse.Namespace) -> int:
    """Convert ``args.checkpoint`` to ``args.output``; every refusal is a usage error (exit 2)."""
    if args.to != "safetensors":
        raise UsageError(f"cannot convert to {args.to}; the only target is safetensors")
    if not args.checkpoint.exists():
        raise UsageError(f"no such file: {args.checkpoint}")
    try:
        summary = convert_to_safetensors(args.checkpoint, args.output, allow=args.allow)
    except (SafeLoadError, ValueError, OSError) as exc:
        raise UsageError(str(exc)) from None
    except Exception as exc:
        # A library failing on odd input is still a refused conversion, never a traceback.
        raise UsageError(f"cannot convert {args.checkpoint}: {type(exc).__name__}: {exc}") from None
    left_out = f"; {len(summary.skipped)} non-tensor values left out" if summary.skipped else ""
    print(
        f"converted {summary.source} -> {summary.output}: {summary.tensors} tensors, "
        f"{summary.tensor_bytes} bytes of tensor data, {summary.output_bytes} bytes written"
        f"{left_out}"
    )
    return EXIT_OK
