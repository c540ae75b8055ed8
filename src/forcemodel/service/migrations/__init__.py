"""Alembic migration environment of the service's database."""
