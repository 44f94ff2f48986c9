"""`python -m worker.healthcheck`: exit 0 iff a worker on this host heartbeated recently.

In a container the hostname is the container's, so this reads that container's own liveness.
"""

from __future__ import annotations

import socket
import sys
from datetime import timedelta

from sqlalchemy import select

from shared.clock import utcnow
from shared.config import load_settings
from shared.db import Database
from shared.queue.models import WorkerRecord


def main() -> int:
    settings = load_settings()
    db = Database.from_url(settings.database_url, busy_timeout_ms=settings.busy_timeout_ms)
    fresh_since = utcnow() - timedelta(seconds=settings.heartbeat_seconds * 3)
    try:
        with db.read() as session:
            alive = session.execute(
                select(WorkerRecord.id).where(
                    WorkerRecord.hostname == socket.gethostname(),
                    WorkerRecord.status == "running",
                    WorkerRecord.last_seen_at >= fresh_since,
                )
            ).first()
    finally:
        db.dispose()
    if alive is None:
        print("no live worker heartbeat on this host", file=sys.stderr)  # noqa: T201
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
