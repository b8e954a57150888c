"""Persistence: SQLAlchemy models, one query module per entity, Alembic migrations."""
