"""GET /health: is the database reachable, and how much work is queued."""

from __future__ import annotations

from http import HTTPStatus

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from api.schemas import Health, QueueCounts
from shared.db import Database
from shared.logging import get_logger
from shared.queue.models import Job

logger = get_logger(__name__)


class HealthController(Controller):
    path = "/health"
    include_in_schema = False

    @get(sync_to_thread=True)
    def health(self, db: NamedDependency[Database]) -> Response[Health]:
        try:
            counts = _queue_counts(db)
        except SQLAlchemyError as exc:
            logger.warning("health check failed", error=_describe(exc))
            body = Health(status="unavailable", database=f"error: {_describe(exc)}")
            return Response(body, status_code=HTTPStatus.SERVICE_UNAVAILABLE)
        return Response(Health(status="ok", database="ok", queue=counts))


def _queue_counts(db: Database) -> QueueCounts:
    """Unfinished jobs by status: one indexed query (status leads idx_jobs_status_scheduled)."""
    with db.read() as session:
        rows = session.execute(
            select(Job.status, func.count()).where(Job.status.in_(("pending", "processing"))).group_by(Job.status)
        ).all()
    counts = {status: int(count) for status, count in rows}
    return QueueCounts(pending=counts.get("pending", 0), processing=counts.get("processing", 0))


def _describe(exc: SQLAlchemyError) -> str:
    """The driver's one-line reason (`unable to open database file`), without SQL or parameters."""
    reason = exc.orig if isinstance(exc, DBAPIError) else exc
    lines = str(reason).strip().splitlines()
    return f"{type(reason).__name__}: {lines[0]}" if lines else type(reason).__name__
