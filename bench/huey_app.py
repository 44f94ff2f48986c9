"""The peer's side of the benchmarks: a huey app on its SQLite backend (not a benchmark itself).

The consumer runs as `python -m huey.bin.huey_consumer huey_app.huey -k process -w K` with `bench/` on
PYTHONPATH and its configuration in the environment, read at import (`consumer_env` builds it):

- HUEY_BENCH_QUEUE: huey's own SQLite file
- HUEY_BENCH_SINK: the separate SQLite file `deliver` writes to
- HUEY_BENCH_STATS: a directory where each process keeps its `noop` tally
- HUEY_BENCH_SYNC: `default` (huey as shipped: WAL with SQLite's default synchronous=FULL, one fsync
  per dequeue) or `normal` (synchronous=NORMAL, as shopqueue runs its file: the like-for-like run)

Tasks:

- `noop(n)`: the peer of our `bench_noop` job. It does nothing but keep a tally for the benchmark:
  first start, last end and count, written with one `pwrite` of 24 bytes to the process's own stats
  file (a few microseconds; huey has no other way to say when a task that stores no result finished).
- `deliver(key, enqueued_at)`: the peer of our `send_email` job's one provider call: one `BEGIN
  IMMEDIATE` insert into `deliveries` (key unique; a repeat bumps `repeat_calls`, as
  `provider_deliveries` does) in the sink file, recording when it started and finished, and in which
  process.

Scripts enqueue through `bind(queue_path)`, which registers the same functions on their own huey
instance (so the task names match the consumer's). It always uses synchronous=NORMAL: the client's
setting only changes how fast the benchmark fills the queue, never how the consumer dequeues.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
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
    pid INTEGER NOT NULL,
    repeat_calls INTEGER NOT NULL DEFAULT 0
)
"""
STATS = struct.Struct("<ddq")  # first start, last end (time.time()), tasks run
SYNC_CHOICES = ("default", "normal")


class NormalSyncStorage(SqliteStorage):  # type: ignore[misc]
    """huey's SqliteStorage with synchronous=NORMAL on every connection (huey offers FULL or OFF)."""

    def _create_connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection = super()._create_connection()
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn


def make_huey(queue_path: str, sync: str, *, create_tables: bool = True) -> Any:
    storage = {"normal": NormalSyncStorage, "default": SqliteStorage}.get(sync)
    if storage is None:
        raise ValueError(f"HUEY_BENCH_SYNC must be default or normal, not {sync!r}")
    return Huey("bench", storage_class=storage, filename=queue_path, create_tables=create_tables)


# ---- the tasks -----------------------------------------------------------------------------------

_SINK = os.environ.get("HUEY_BENCH_SINK", "")
_STATS_DIR = os.environ.get("HUEY_BENCH_STATS", "")
_local = threading.local()


@dataclass
class _Tally:
    fd: int
    first: float
    last: float
    count: int


_tally: _Tally | None = None
_tally_pid = 0


def _record(started: float, finished: float) -> None:
    """Keep this process's tally in its stats file (created lazily, so never shared across a fork)."""
    global _tally, _tally_pid
    if _tally is None or _tally_pid != os.getpid():
        if not _STATS_DIR:
            raise RuntimeError("HUEY_BENCH_STATS is not set")
        fd = os.open(Path(_STATS_DIR) / f"{os.getpid()}.stats", os.O_RDWR | os.O_CREAT, 0o644)
        _tally, _tally_pid = _Tally(fd, started, finished, 0), os.getpid()
    _tally.last = finished
    _tally.count += 1
    os.pwrite(_tally.fd, STATS.pack(_tally.first, _tally.last, _tally.count), 0)


def _noop(n: int = 0) -> None:
    started = time.time()
    _record(started, time.time())


def _sink() -> sqlite3.Connection:
    """One connection per thread and process (created lazily, so never inherited across a fork)."""
    if not _SINK:
        raise RuntimeError("HUEY_BENCH_SINK is not set")
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
            "INSERT INTO deliveries (key, enqueued_at, started_at, finished_at, pid) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET repeat_calls = repeat_calls + 1",
            (key, enqueued_at, started, time.time(), os.getpid()),
        )
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


# The consumer's instance. Without HUEY_BENCH_QUEUE (a script importing this module) it never touches
# a file: no tables are created and nothing is enqueued through it.
_QUEUE = os.environ.get("HUEY_BENCH_QUEUE", "")
huey = make_huey(_QUEUE or "unused.db", os.environ.get("HUEY_BENCH_SYNC", "default"), create_tables=bool(_QUEUE))
noop = huey.task()(_noop)
deliver = huey.task()(_deliver)


# ---- the benchmark's side ------------------------------------------------------------------------


@dataclass(frozen=True)
class HueyFiles:
    queue: Path
    sink: Path
    stats: Path
    sync: str

    @staticmethod
    def under(tmp: Path, sync: str) -> HueyFiles:
        stats = tmp / "huey-stats"
        stats.mkdir(exist_ok=True)
        files = HueyFiles(tmp / "huey.db", tmp / "sink.db", stats, sync)
        conn = sqlite3.connect(files.sink, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(SINK_SCHEMA)
        finally:
            conn.close()
        return files

    def env(self) -> dict[str, str]:
        env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "TMPDIR") if key in os.environ}
        env.update(
            PYTHONPATH=str(Path(__file__).resolve().parent),
            PYTHONUNBUFFERED="1",
            HUEY_BENCH_QUEUE=str(self.queue),
            HUEY_BENCH_SINK=str(self.sink),
            HUEY_BENCH_STATS=str(self.stats),
            HUEY_BENCH_SYNC=self.sync,
        )
        return env

    def consumer_args(self, workers: int) -> list[str]:
        return [sys.executable, "-m", "huey.bin.huey_consumer", "huey_app.huey", "-k", "process", "-w", str(workers)]

    def tallies(self) -> dict[int, tuple[float, float, int]]:
        """Each consumer process's noop tally: pid -> (first start, last end, count)."""
        result: dict[int, tuple[float, float, int]] = {}
        for path in self.stats.glob("*.stats"):
            data = path.read_bytes()
            if len(data) >= STATS.size:
                first, last, count = STATS.unpack(data[: STATS.size])
                result[int(path.stem)] = (first, last, count)
        return result

    def sink_rows(self) -> list[tuple[str, float | None, float, float, int, int]]:
        conn = sqlite3.connect(self.sink, timeout=10)
        try:
            return list(
                conn.execute("SELECT key, enqueued_at, started_at, finished_at, pid, repeat_calls FROM deliveries")
            )
        finally:
            conn.close()

    def sink_count(self) -> int:
        conn = sqlite3.connect(self.sink, timeout=10)
        try:
            return int(conn.execute("SELECT COUNT(*) FROM deliveries").fetchone()[0])
        finally:
            conn.close()

    def queue_left(self) -> int:
        conn = sqlite3.connect(self.queue, timeout=10)
        try:
            return int(conn.execute("SELECT COUNT(*) FROM task").fetchone()[0])
        finally:
            conn.close()


@contextlib.contextmanager
def bound(files: HueyFiles) -> Iterator[tuple[Callable[..., Any], Callable[..., Any]]]:
    """(noop, deliver) registered on a client instance of the queue file, for enqueueing."""
    instance = make_huey(str(files.queue), "normal")
    try:
        yield instance.task()(_noop), instance.task()(_deliver)
    finally:
        instance.storage.close()
