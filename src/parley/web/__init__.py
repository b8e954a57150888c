"""HTTP: routers translate requests into use cases and results into responses."""
