"""serving scanner (registered on import)."""
