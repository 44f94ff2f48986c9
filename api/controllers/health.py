"""GET /health: is the database reachable, and how much work is queued."""

from __future__ import annotations

from datetime import timedelta
from http import HTTPStatus

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from api.schemas import Health, QueueCounts
from shared.clock import utcnow
from shared.config import Settings
from shared.db import Database
from shared.logging import get_logger
from shared.queue import workers
from shared.queue.models import Job

logger = get_logger(__name__)


class HealthController(Controller):
    path = "/health"
    include_in_schema = False

    @get(sync_to_thread=True)
    def health(self, db: NamedDependency[Database], settings: NamedDependency[Settings]) -> Response[Health]:
        try:
            counts, live = _queue_counts(db, settings)
        except SQLAlchemyError as exc:
            logger.warning("health check failed", error=_describe(exc))
            body = Health(status="unavailable", database=f"error: {_describe(exc)}")
            return Response(body, status_code=HTTPStatus.SERVICE_UNAVAILABLE)
        return Response(Health(status="ok", database="ok", queue=counts, live_workers=live))


def _queue_counts(db: Database, settings: Settings) -> tuple[QueueCounts, int]:
    """Unfinished jobs by status (one indexed query: status leads idx_jobs_status_scheduled) and
    the number of workers alive now."""
    with db.read() as session:
        rows = session.execute(
            select(Job.status, func.count()).where(Job.status.in_(("pending", "processing"))).group_by(Job.status)
        ).all()
        stale_after = timedelta(seconds=settings.heartbeat_seconds * 3)
        live = len(workers.live_workers(session, utcnow(), stale_after))
    counts = {status: int(count) for status, count in rows}
    return QueueCounts(pending=counts.get("pending", 0), processing=counts.get("processing", 0)), live


def _describe(exc: SQLAlchemyError) -> str:
    """The driver's one-line reason (`unable to open database file`), without SQL or parameters."""
    reason = exc.orig if isinstance(exc, DBAPIError) else exc
    lines = str(reason).strip().splitlines()
    return f"{type(reason).__name__}: {lines[0]}" if lines else type(reason).__name__
