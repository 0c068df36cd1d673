"""The dataset scanner (registered on import)."""
