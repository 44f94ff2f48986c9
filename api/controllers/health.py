"""GET /health: is the database reachable, and how much work is queued."""

from __future__ import annotations

from http import HTTPStatus

from litestar import Controller, Response, get
from litestar.di import NamedDependency

from api.views import Health, queue_counts
from shared.clock import utcnow
from shared.config import Settings
from shared.db import Database, Tx
from shared.logging import get_logger
from shared.queue import queries

logger = get_logger(__name__)


class HealthController(Controller):
    path = "/health"
    include_in_schema = False

    @get()
    async def health(self, db: NamedDependency[Database], settings: NamedDependency[Settings]) -> Response[Health]:
        def read(tx: Tx) -> Health:
            now = utcnow()
            counts = queries.unfinished_counts(tx, now)
            live = queries.live_workers(tx, now, settings.heartbeat_seconds)
            return Health(status="ok", database="ok", queue=queue_counts(counts), live_workers=len(live))

        try:
            return Response(await db.run_read(read))
        except db.backend.driver_errors as exc:
            reason = _describe(exc)
            logger.warning("health check failed", error=reason)
            return Response(
                Health(status="unavailable", database=f"error: {reason}"), status_code=HTTPStatus.SERVICE_UNAVAILABLE
            )


def _describe(exc: BaseException) -> str:
    """The driver's one-line reason (`unable to open database file`), without SQL or parameters."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
