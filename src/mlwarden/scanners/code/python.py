"""python scanner (registered on import)."""
