"""The advisory database: OSV records compiled into a local SQLite index, queried offline.

``compile`` turns a directory or zip of records into a database, ``store`` opens and queries
one, ``update`` fetches or imports records (``mlwarden db update``), ``status`` describes a
database, and ``curated/`` holds the ML advisories shipped with mlwarden, used when no
database has been compiled.
"""

from mlwarden.scanners.deps.db.paths import cache_dir, default_database_path
from mlwarden.scanners.deps.db.status import STALE_AFTER, DatabaseInfo
from mlwarden.scanners.deps.db.store import AdvisoryDatabase, DatabaseError

__all__ = [
    "STALE_AFTER",
    "AdvisoryDatabase",
    "DatabaseError",
    "DatabaseInfo",
    "cache_dir",
    "default_database_path",
]
