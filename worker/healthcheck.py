"""`python -m worker.healthcheck`: exit 0 iff a worker on this host heartbeated recently.

In a container the hostname is the container's, so this reads that container's own liveness.
"""

from __future__ import annotations

import socket
import sys

from shared.clock import utcnow
from shared.config import load_settings
from shared.db import Database
from shared.queue import queries


def main() -> int:
    settings = load_settings()
    db = Database(settings.database_url, busy_timeout_ms=settings.busy_timeout_ms)
    try:
        with db.read() as tx:
            alive = queries.live_workers(tx, utcnow(), settings.heartbeat_seconds, hostname=socket.gethostname())
    finally:
        db.dispose()
    if not any(worker.status == "running" for worker in alive):
        print("no live worker heartbeat on this host", file=sys.stderr)  # noqa: T201
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
