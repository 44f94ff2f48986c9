"""The worker registry: identity and liveness of worker processes (written by workers)."""

from __future__ import annotations

import os
import secrets
import socket
from datetime import datetime

from shared.db.tx import Tx

REGISTER = (
    "INSERT INTO workers (id, hostname, pid, status, concurrency, running, started_at, last_seen_at) "
    "VALUES (:id, :hostname, :pid, 'running', :concurrency, 0, :now, :now)"
)
BEAT = "UPDATE workers SET last_seen_at = :now, running = :running, status = :status WHERE id = :id"
PRUNE = "DELETE FROM workers WHERE last_seen_at < :cutoff"


def new_worker_id(configured: str = "") -> str:
    """hostname:pid:random. In containers every pid is 1, so the random part keeps ids unique."""
    base = configured or f"{socket.gethostname()}:{os.getpid()}"
    return f"{base}:{secrets.token_hex(4)}"


def register(tx: Tx, worker_id: str, concurrency: int, now: datetime) -> None:
    tx.execute(
        REGISTER,
        {
            "id": worker_id,
            "hostname": socket.gethostname(),
            "pid": os.getpid(),
            "concurrency": concurrency,
            "now": tx.ts(now),
        },
    )


def beat(tx: Tx, worker_id: str, running: int, status: str, now: datetime) -> None:
    tx.execute(BEAT, {"id": worker_id, "running": running, "status": status, "now": tx.ts(now)})


def prune(tx: Tx, older_than: datetime) -> int:
    """Forget workers not seen for a long time (stopped or dead)."""
    return tx.rowcount(PRUNE, {"cutoff": tx.ts(older_than)})
