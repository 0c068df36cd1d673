"""Errors of dependency scanning, in a module light enough for the command line to import."""

from __future__ import annotations


class DatabaseError(Exception):
    """A database that cannot be opened or built; the message says what to do."""
