"""The database lives as long as the app: built at start-up, its connections closed at shutdown."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar

from shared.config import Settings
from shared.db import Database


@asynccontextmanager
async def database_lifespan(app: Litestar) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    # No connection is opened here: the app must start even when the database is unreachable,
    # so that /health can report it.
    database = Database.from_url(settings.database_url, busy_timeout_ms=settings.busy_timeout_ms)
    app.state.db = database
    try:
        yield
    finally:
        database.dispose()
