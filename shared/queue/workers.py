"""The worker registry: identity and liveness of worker processes, for health checks and stats."""

from __future__ import annotations

import os
import secrets
import socket
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from shared.db.sql import Executor, affected
from shared.queue.models import WorkerRecord


def new_worker_id(configured: str = "") -> str:
    """hostname:pid:random. In containers every pid is 1, so the random part keeps ids unique."""
    base = configured or f"{socket.gethostname()}:{os.getpid()}"
    return f"{base}:{secrets.token_hex(4)}"


def register(session: Executor, worker_id: str, concurrency: int, now: datetime) -> None:
    session.execute(
        insert(WorkerRecord).values(
            id=worker_id,
            hostname=socket.gethostname(),
            pid=os.getpid(),
            status="running",
            concurrency=concurrency,
            running=0,
            started_at=now,
            last_seen_at=now,
        )
    )


def beat(session: Executor, worker_id: str, running: int, status: str, now: datetime) -> None:
    session.execute(
        update(WorkerRecord)
        .where(WorkerRecord.id == worker_id)
        .values(last_seen_at=now, running=running, status=status)
    )


def prune(session: Executor, older_than: datetime) -> int:
    """Forget workers not seen for a long time (stopped or dead)."""
    return affected(session, delete(WorkerRecord).where(WorkerRecord.last_seen_at < older_than))


def live_workers(session: Session, now: datetime, stale_after: timedelta) -> list[WorkerRecord]:
    return list(
        session.scalars(
            select(WorkerRecord)
            .where(WorkerRecord.status != "stopped", WorkerRecord.last_seen_at >= now - stale_after)
            .order_by(WorkerRecord.started_at)
        )
    )
