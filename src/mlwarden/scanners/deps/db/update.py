"""``mlwarden db update``: fetch OSV's PyPI export, or import a local copy, and compile it.

Reaching the network is this explicit command only (DESIGN.md, offline first). The download
goes to a temporary file beside the target and the database is replaced only once the new
one is complete, so a failed download or compilation leaves the existing database untouched.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from mlwarden.scanners.deps.db.compile import CompileError, CompileSummary, compile_database
from mlwarden.scanners.deps.db.paths import default_database_path
from mlwarden.scanners.deps.db.store import DatabaseError

#: OSV's export of every PyPI advisory (PYSEC and GHSA records), one JSON file per record.
OSV_PYPI_EXPORT = "https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip"


def _is_url(text: str) -> bool:
    return text.startswith(("https://", "http://"))


def download(url: str, folder: Path, *, timeout: float = 60.0) -> Path:
    """Download ``url`` into a new temporary file in ``folder``; ``DatabaseError`` on failure."""
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=".download.", suffix=".zip", dir=folder)
    target = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            request = urllib.request.Request(url, headers={"User-Agent": "mlwarden"})
            with urllib.request.urlopen(request, timeout=timeout) as response:
                shutil.copyfileobj(response, out, length=1 << 20)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        target.unlink(missing_ok=True)
        reason = getattr(exc, "reason", None) or exc
        raise DatabaseError(
            f"cannot download {url}: {reason}. The existing database is unchanged; to work "
            "offline, import a copy with `mlwarden db update --from PATH` (an OSV all.zip or a "
            "directory of OSV records)"
        ) from None
    return target


def update_database(
    source: str | None = None, target: Path | None = None, *, timeout: float = 60.0
) -> CompileSummary:
    """Build the compiled database at ``target`` (default: the cache) from ``source``.

    ``source`` is a URL, a local ``all.zip`` or a directory of OSV records; ``None`` means
    OSV's PyPI export. ``DatabaseError`` (the old database untouched) when the source cannot
    be read or holds no PyPI records.
    """
    target = target if target is not None else default_database_path()
    if target.is_dir():
        raise DatabaseError(f"{target} is a directory; --db names the compiled database file")
    url = OSV_PYPI_EXPORT if source is None else source
    if _is_url(url):
        archive = download(url, target.parent, timeout=timeout)
        try:
            return _compile(archive, target, label=url)
        finally:
            archive.unlink(missing_ok=True)
    path = Path(url).expanduser()
    if not path.exists():
        raise DatabaseError(f"{path} does not exist")
    return _compile(path, target, label=str(path.resolve()))


def _compile(source: Path, target: Path, *, label: str) -> CompileSummary:
    try:
        return compile_database(source, target, label=label)
    except CompileError as exc:
        raise DatabaseError(f"{exc}; the existing database is unchanged") from None
