"""Where compiled databases live.

Everything goes under the user cache directory (``platformdirs.user_cache_dir("mlwarden")``,
``~/.cache/mlwarden`` on Linux), or under ``$MLWARDEN_CACHE_DIR`` when that is set (CI
caches, tests). ``advisories.db`` is the database ``mlwarden db update`` writes and scans use
by default; ``compiled/`` holds the databases compiled from directories and zips given with
``--db``, one per source path, rebuilt when the source changes.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

DEFAULT_NAME = "advisories.db"


def cache_dir() -> Path:
    """The directory for compiled databases (not created here)."""
    override = os.environ.get("MLWARDEN_CACHE_DIR")
    if override:
        return Path(override)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("mlwarden"))


def default_database_path() -> Path:
    """The compiled database ``mlwarden db update`` writes and scans read by default."""
    return cache_dir() / DEFAULT_NAME


def compiled_path_for(source: Path) -> Path:
    """The cached compiled database for a directory or zip of records."""
    key = hashlib.sha256(str(source.resolve()).encode()).hexdigest()[:20]
    return cache_dir() / "compiled" / f"{key}.db"


def source_fingerprint(source: Path) -> str:
    """A value that changes when a directory's record files or a zip file change.

    For a directory: the number of files, their total size and the newest modification time,
    found by walking it (a few tens of milliseconds for the whole PyPA database).
    """
    if source.is_dir():
        count = size = newest = 0
        stack = [str(source)]
        while stack:
            with os.scandir(stack.pop()) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
                    elif entry.is_file():
                        stat = entry.stat()
                        count += 1
                        size += stat.st_size
                        newest = max(newest, stat.st_mtime_ns)
        return f"dir:{count}:{size}:{newest}"
    stat = source.stat()
    return f"file:{stat.st_size}:{stat.st_mtime_ns}"
