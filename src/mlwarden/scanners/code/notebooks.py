"""notebooks scanner (registered on import)."""
