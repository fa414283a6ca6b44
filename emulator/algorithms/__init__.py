"""Built-in cut-based algorithms (one per module)."""
