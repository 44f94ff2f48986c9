"""Database engines behind one interface (see base.py). SQLite is the first; pick one by URL."""

from __future__ import annotations

from shared.queue.backends.base import Backend, DatabaseUnavailableError, WakeSource
from shared.queue.backends.sqlite import SqliteBackend

# By SQLAlchemy dialect name, for DDL (column types and defaults in models and migrations).
BACKENDS: dict[str, type[Backend]] = {SqliteBackend.name: SqliteBackend}


def backend_for(url: str, *, busy_timeout_ms: int = 5000) -> Backend:
    if url.startswith("sqlite"):
        return SqliteBackend(url, busy_timeout_ms=busy_timeout_ms)
    raise ValueError(f"unsupported DATABASE_URL scheme in {url.split(':', 1)[0]!r}: use sqlite:///path")


__all__ = ["BACKENDS", "Backend", "DatabaseUnavailableError", "SqliteBackend", "WakeSource", "backend_for"]
