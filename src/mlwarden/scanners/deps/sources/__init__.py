"""Dependency sources: every file that declares or locks a project's packages.

One module per format; :func:`parse_source` picks the right one and :func:`detect_source`
tells which format a file is from its name and structure together.
:func:`installed_environment` reads what an interpreter has installed.

Format modules are imported on first use, so that detecting (done for every scanned file)
stays cheap.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from mlwarden.scanners.deps.detect import FORMATS, detect_source
from mlwarden.scanners.deps.model import (
    Dependency,
    EnvironmentProbeError,
    IssueKind,
    SourceError,
    SourceIssue,
    SourceResult,
    SourceTooLarge,
)

__all__ = [
    "FORMATS",
    "Dependency",
    "EnvironmentProbeError",
    "IssueKind",
    "SourceError",
    "SourceIssue",
    "SourceResult",
    "SourceTooLarge",
    "detect_source",
    "installed_environment",
    "parse_source",
]

#: Format -> (module, parser function).
_PARSERS = {
    "requirements": ("requirements", "parse_requirements"),
    "pyproject": ("pyproject", "parse_pyproject"),
    "poetry-lock": ("poetry_lock", "parse_poetry_lock"),
    "uv-lock": ("uv_lock", "parse_uv_lock"),
    "pipfile-lock": ("pipfile_lock", "parse_pipfile_lock"),
    "pylock": ("pylock", "parse_pylock"),
    "conda-environment": ("conda", "parse_conda_environment"),
}
#: Formats whose files can include other files (``-r``), and so take a ``root``.
_INCLUDING = frozenset({"requirements", "conda-environment"})
_DETECT_BYTES = 4096


def parse_source(
    path: Path,
    text: str | None = None,
    *,
    display: str | None = None,
    format: str | None = None,
    root: Path | None = None,
) -> SourceResult:
    """Read the dependencies of one source file.

    ``text`` is the file's content when already read (``path`` still locates includes);
    ``display`` is the path shown in results (default ``str(path)``). ``format`` skips
    detection (one of :data:`FORMATS`). When ``root`` is given, ``-r``/``-c`` includes that
    lead outside it are reported and not read.

    Raises :class:`SourceError` when the file is not a dependency file or cannot be read as
    one, and :class:`SourceTooLarge` (a ``SourceError``) when it is over the size limit.
    """
    shown = display if display is not None else str(path)
    if format is None:
        format = detect_source(str(path), _head(path, text, shown))
        if format is None:
            raise SourceError(shown, "not a dependency file of a known format")
    if format not in _PARSERS:
        raise SourceError(shown, f"unknown dependency file format {format!r}")
    module_name, function_name = _PARSERS[format]
    module = importlib.import_module(f"{__name__}.{module_name}")
    parser = getattr(module, function_name)
    if format in _INCLUDING:
        result: SourceResult = parser(path, text, display=shown, root=root)
    else:
        result = parser(path, text, display=shown)
    return result


def installed_environment(python: str) -> SourceResult:
    """The distributions installed for an interpreter (see :mod:`.installed`).

    Raises :class:`EnvironmentProbeError` when the interpreter cannot be run.
    """
    from mlwarden.scanners.deps.sources.installed import installed_environment as read

    return read(python)


def _head(path: Path, text: str | None, shown: str) -> bytes:
    if text is not None:
        return text[:_DETECT_BYTES].encode("utf-8")
    try:
        with path.open("rb") as stream:
            return stream.read(_DETECT_BYTES)
    except OSError as exc:
        raise SourceError(shown, f"cannot read: {exc.strerror or exc}") from exc
