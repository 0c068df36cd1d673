"""The layout of a compiled advisory database (SQLite).

``records`` holds one row per advisory that is not withdrawn: its id, its alias group and its
body (the compact JSON form of :class:`mlwarden.scanners.deps.osv.Advisory`). ``affects``
indexes records by the canonical names of the packages they affect, ``groups`` gives each
alias group its shown id and all its ids, and ``meta`` records how the file was built.
"""

from __future__ import annotations

#: Written in ``meta``; a file with another value is not read (compile it again).
FORMAT = "mlwarden-advisories/1"

#: SQLite magic: how a compiled database is told from a zip or a directory.
SQLITE_MAGIC = b"SQLite format 3\x00"

SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE groups(grp INTEGER PRIMARY KEY, shown TEXT NOT NULL, ids TEXT NOT NULL);
CREATE TABLE records(rowid INTEGER PRIMARY KEY, id TEXT NOT NULL, grp INTEGER NOT NULL,
                     body TEXT NOT NULL);
CREATE TABLE affects(package TEXT NOT NULL, record INTEGER NOT NULL);
"""
