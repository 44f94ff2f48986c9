"""Statement helpers that differ by dialect or need a typed result, kept in one place."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, Executable
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def upsert(session: Session, table: Any) -> sqlite.Insert | postgresql.Insert:
    """An INSERT that supports ON CONFLICT on both SQLite and PostgreSQL."""
    if session.get_bind().dialect.name == "sqlite":
        return sqlite.insert(table)
    return postgresql.insert(table)


def affected(session: Session, statement: Executable) -> int:
    """Run an UPDATE or DELETE and return how many rows it changed."""
    result = cast(CursorResult[Any], session.execute(statement))
    return result.rowcount
