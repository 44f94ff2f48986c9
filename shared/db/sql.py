"""Statement helpers that differ by dialect or need a typed result, kept in one place."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Connection, CursorResult, Executable
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

# Queue and provider statements run on an ORM Session (API, tests) or, on the worker's hot path,
# on a bare Core Connection, which costs about half as much per statement.
Executor = Session | Connection


def dialect_name(executor: Executor) -> str:
    bind = executor if isinstance(executor, Connection) else executor.get_bind()
    return bind.dialect.name


def upsert(executor: Executor, table: Any) -> sqlite.Insert | postgresql.Insert:
    """An INSERT that supports ON CONFLICT on both SQLite and PostgreSQL."""
    if dialect_name(executor) == "sqlite":
        return sqlite.insert(table)
    return postgresql.insert(table)


def affected(executor: Executor, statement: Executable) -> int:
    """Run an UPDATE or DELETE and return how many rows it changed."""
    result = cast(CursorResult[Any], executor.execute(statement))
    return result.rowcount
