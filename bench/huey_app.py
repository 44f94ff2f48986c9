"""The peer's side of the benchmarks: a huey app on its SQLite backend (not a benchmark itself).

The consumer runs as `python -m huey.bin.huey_consumer huey_app.huey` with `bench/` on PYTHONPATH and
its configuration in the environment, read at import:

- HUEY_BENCH_QUEUE: huey's own SQLite file (required in the consumer)
- HUEY_BENCH_SINK: the separate SQLite file the task writes to (required in the consumer)
- HUEY_BENCH_SYNC: `default` (huey as shipped: WAL, SQLite's default synchronous=FULL) or `normal`
  (synchronous=NORMAL, as shopqueue runs its file)

The benchmark scripts enqueue through `bind(queue_path, sync)`, which registers the same function on
their own huey instance, so the task name (`huey_app._deliver`) matches the consumer's.

The task `deliver(key, enqueued_at)` is the peer's equivalent of our `send_email` job's one simulated
provider call: one `BEGIN IMMEDIATE` insert into `deliveries` (key unique; a repeat bumps
`repeat_calls`, as `provider_deliveries` does) in the sink file, recording when it started and finished.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from huey import Huey  # type: ignore[import-untyped,import-not-found,unused-ignore]
from huey.storage import SqliteStorage  # type: ignore[import-untyped,import-not-found,unused-ignore]

SINK_SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    key TEXT PRIMARY KEY,
    enqueued_at REAL,
    started_at REAL NOT NULL,
    finished_at REAL NOT NULL,
    repeat_calls INTEGER NOT NULL DEFAULT 0
)
"""


class NormalSyncStorage(SqliteStorage):  # type: ignore[misc]
    """huey's SqliteStorage with synchronous=NORMAL on every connection (huey only offers FULL or OFF)."""

    def _create_connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection = super()._create_connection()
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn


def make_huey(queue_path: str, sync: str, *, create_tables: bool = True) -> Any:
    storage = {"normal": NormalSyncStorage, "default": SqliteStorage}.get(sync)
    if storage is None:
        raise ValueError(f"HUEY_BENCH_SYNC must be default or normal, not {sync!r}")
    return Huey("bench", storage_class=storage, filename=queue_path, create_tables=create_tables)


def bind(queue_path: str, sync: str) -> tuple[Any, Callable[..., Any]]:
    """A huey instance on `queue_path` (tables created) and the `deliver` task registered on it."""
    instance = make_huey(queue_path, sync)
    return instance, instance.task()(_deliver)


def init_sink(path: Path) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(SINK_SCHEMA)
    finally:
        conn.close()


_SINK = os.environ.get("HUEY_BENCH_SINK", "")
_local = threading.local()


def _sink() -> sqlite3.Connection:
    if not _SINK:
        raise RuntimeError("HUEY_BENCH_SINK is not set")
    """One connection per thread and process (created lazily, so never inherited across a fork)."""
    conn: sqlite3.Connection | None = getattr(_local, "conn", None)
    if conn is None or getattr(_local, "pid", None) != os.getpid():
        conn = sqlite3.connect(_SINK, timeout=5, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout=5000")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        _local.conn = conn
        _local.pid = os.getpid()
    return conn


def _deliver(key: str, enqueued_at: float | None = None) -> None:
    started = time.time()
    conn = _sink()
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(
            "INSERT INTO deliveries (key, enqueued_at, started_at, finished_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET repeat_calls = repeat_calls + 1",
            (key, enqueued_at, started, time.time()),
        )
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


# The consumer's instance. Without HUEY_BENCH_QUEUE (a script importing this module) it never touches
# a file: no tables are created and nothing is enqueued through it.
_QUEUE = os.environ.get("HUEY_BENCH_QUEUE", "")
huey = make_huey(_QUEUE or "unused.db", os.environ.get("HUEY_BENCH_SYNC", "default"), create_tables=bool(_QUEUE))
deliver = huey.task()(_deliver)
