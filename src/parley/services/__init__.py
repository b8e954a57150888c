"""Use cases: one module per capability; each owns its transaction."""
