"""Resources live as long as the app: built at start-up, closed at shutdown."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar

from shared.clock import utcnow
from shared.config import Settings
from shared.db import Database
from shared.services.providers import Providers
from shared.services.simulation import Simulator


@asynccontextmanager
async def database_lifespan(app: Litestar) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    # No connection is opened here: the app must start even when the database is unreachable,
    # so that /health can report it.
    database = Database(settings.database_url, busy_timeout_ms=settings.busy_timeout_ms)
    providers_db = Database(settings.resolved_providers_url(), busy_timeout_ms=settings.busy_timeout_ms)
    app.state.db = database
    app.state.providers = Providers(providers_db, Simulator(settings), utcnow)
    try:
        yield
    finally:
        database.dispose()
        providers_db.dispose()
