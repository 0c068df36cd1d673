"""secrets scanner (registered on import)."""
