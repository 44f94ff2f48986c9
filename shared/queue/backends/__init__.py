"""Database engines behind one interface (see base.py). SQLite is the first; pick one by URL."""

from __future__ import annotations

from shared.queue.backends.base import Backend, DatabaseUnavailableError, WakeSource
from shared.queue.backends.postgres import PostgresBackend
from shared.queue.backends.sqlite import SqliteBackend

# By SQLAlchemy dialect name, for DDL (column types and defaults in models and migrations).
BACKENDS: dict[str, type[Backend]] = {SqliteBackend.name: SqliteBackend, PostgresBackend.name: PostgresBackend}


def backend_of(dialect_name: str) -> Backend:
    """The backend of a SQLAlchemy dialect, for DDL that differs by engine (migrations)."""
    return BACKENDS[dialect_name]("")


def backend_for(url: str, *, busy_timeout_ms: int = 5000) -> Backend:
    if url.startswith("sqlite"):
        return SqliteBackend(url, busy_timeout_ms=busy_timeout_ms)
    if url.startswith("postgresql"):
        return PostgresBackend(url, busy_timeout_ms=busy_timeout_ms)
    scheme = url.split(":", 1)[0]
    raise ValueError(f"unsupported DATABASE_URL scheme {scheme!r}: use sqlite:///path or postgresql+psycopg://...")


__all__ = [
    "BACKENDS",
    "Backend",
    "DatabaseUnavailableError",
    "PostgresBackend",
    "SqliteBackend",
    "WakeSource",
    "backend_for",
    "backend_of",
]
