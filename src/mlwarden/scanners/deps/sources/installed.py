"""An installed Python environment: the distributions an interpreter can import.

The interpreter (the user's own, named with ``--python``) is run once, only to print its
``sys.path``; nothing it has installed is imported. The distribution metadata on those paths
(``*.dist-info/METADATA``, ``*.egg-info/PKG-INFO``, ``*.egg/EGG-INFO/PKG-INFO``) is then read
here, header fields only. As with imports, the first distribution of a name on ``sys.path``
wins and later ones are shadowed. A distribution installed from a VCS checkout or a local
directory (``direct_url.json``) is unverifiable.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

from packaging.utils import canonicalize_name

from mlwarden.scanners.deps.model import (
    Dependency,
    EnvironmentProbeError,
    SourceResult,
)
from mlwarden.scanners.deps.sources.pep508 import quote, unverifiable

FORMAT = "installed"

#: How long the interpreter may take to print its paths.
PROBE_SECONDS = 30.0
#: Bounds on what is read: metadata headers are small; environments hold at most thousands.
MAX_HEADER_BYTES = 256 * 1024
MAX_DISTRIBUTIONS = 100_000
_PROBE = "import json, sys; print(json.dumps(sys.path))"


def installed_environment(python: str) -> SourceResult:
    """The distributions installed for interpreter ``python`` (a path or a command name)."""
    result = SourceResult(FORMAT)
    seen: set[str] = set()
    for directory in interpreter_paths(python):
        for metadata, url in _distributions(directory):
            if len(seen) >= MAX_DISTRIBUTIONS:
                return result
            fields = read_metadata_header(metadata)
            name, version = fields.get("name"), fields.get("version")
            if not name or not version:
                continue
            canonical = canonicalize_name(name)
            if canonical in seen:
                continue  # shadowed by an earlier entry of sys.path
            seen.add(canonical)
            shown = str(metadata)
            if url is not None:
                result.issues.append(unverifiable(shown, None, name, url, version))
                result.dependencies.append(Dependency.create(name, source=shown, url=url))
                continue
            result.dependencies.append(
                Dependency.create(name, source=shown, version=version, specifier=f"=={version}")
            )
    return result


def interpreter_paths(python: str) -> list[Path]:
    """The directories of ``sys.path`` of an interpreter (the current directory left out)."""
    try:
        completed = subprocess.run(
            [python, "-c", _PROBE],
            capture_output=True,
            timeout=PROBE_SECONDS,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EnvironmentProbeError(f"cannot run {python}: {exc}") from exc
    if completed.returncode != 0:
        error = completed.stderr.decode("utf-8", "replace").strip().splitlines()
        raise EnvironmentProbeError(
            f"{python} exited with status {completed.returncode}"
            + (f": {quote(error[-1])}" if error else "")
        )
    try:
        entries = json.loads(completed.stdout.decode("utf-8", "replace").strip().splitlines()[-1])
    except (ValueError, IndexError) as exc:
        raise EnvironmentProbeError(f"{python} did not print its sys.path") from exc
    if not isinstance(entries, list):
        raise EnvironmentProbeError(f"{python} did not print its sys.path")
    return [Path(e) for e in entries if isinstance(e, str) and e and Path(e).is_dir()]


def _distributions(directory: Path) -> Iterator[tuple[Path, str | None]]:
    """``(metadata file, direct URL or None)`` for each distribution in one directory."""
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return
    for name in names:
        path = directory / name
        lower = name.lower()
        if lower.endswith(".dist-info"):
            yield path / "METADATA", _direct_url(path / "direct_url.json")
        elif lower.endswith(".egg-info"):
            yield (path / "PKG-INFO" if path.is_dir() else path), None
        elif lower.endswith(".egg") and path.is_dir():
            yield path / "EGG-INFO" / "PKG-INFO", None


def read_metadata_header(path: Path) -> dict[str, str]:
    """The ``Name`` and ``Version`` fields of a core metadata file (lower-cased keys)."""
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_HEADER_BYTES)
    except OSError:
        return {}
    fields: dict[str, str] = {}
    for line in data.decode("utf-8", "replace").splitlines():
        if not line.strip():
            break  # the header ends at the first blank line; the description follows
        key, sep, value = line.partition(":")
        if sep and key.strip().lower() in ("name", "version"):
            fields.setdefault(key.strip().lower(), value.strip())
    return fields


def _direct_url(path: Path) -> str | None:
    """The URL of a VCS or local-directory install (PEP 610), else ``None``."""
    try:
        with path.open("rb") as stream:
            data = json.loads(stream.read(MAX_HEADER_BYTES))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("url"), str):
        return None
    vcs = data.get("vcs_info")
    if isinstance(vcs, dict):
        commit = vcs.get("commit_id")
        return f"{vcs.get('vcs', 'vcs')}+{data['url']}" + (f"@{commit}" if commit else "")
    if isinstance(data.get("dir_info"), dict):
        return str(data["url"])
    return None
