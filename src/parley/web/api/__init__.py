"""The staff JSON API under /api/v1."""
