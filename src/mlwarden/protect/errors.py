"""Why a checkpoint was not loaded or converted, in words a person can act on."""

from __future__ import annotations


class SafeLoadError(Exception):
    """A checkpoint could not be loaded safely. Nothing from it was executed."""


class UnsafeGlobalError(SafeLoadError):
    """The checkpoint names a global that is not admitted; it was neither imported nor called.

    ``global_name`` is the ``"module.name"`` that was refused and ``reason`` what the policy says
    about it. Passing ``global_name`` in ``allow=`` (``--allow`` on the command line) admits it.
    """

    def __init__(self, global_name: str, reason: str, *, hint: str = "") -> None:
        self.global_name = global_name
        self.reason = reason
        self.hint = hint
        message = (
            f"refused global {global_name!r}: {reason}. Nothing was imported or run. "
            f'If you trust this file, admit it with allow=["{global_name}"] '
            f"(command line: --allow {global_name})."
        )
        if hint:
            message = f"{message} {hint}"
        super().__init__(message)


class CheckpointFormatError(SafeLoadError):
    """The file is not a checkpoint this loader reads, or its structure is inconsistent.

    Truncated data, storages whose sizes disagree with what the pickle declares, unexpected
    persistent ids and files over a limit all end here: a file that cannot be read completely
    is refused, never half-loaded.
    """


class ConversionError(SafeLoadError):
    """The checkpoint loaded safely but cannot become a safetensors file as asked."""
