"""Notice new work within tens of milliseconds without touching the write lock.

SQLite's `PRAGMA data_version` changes whenever another connection commits. Reading it is a
look at shared memory (no transaction, no lock), so polling it often costs nearly nothing; the
worker only runs a query, and only claims in a write transaction, when it changed.
"""

from __future__ import annotations

import asyncio
import sqlite3

from sqlalchemy import Engine


class DataVersionWatcher:
    """Sets `event` when the database changed; checks every `interval`, backing off to `idle_max`."""

    def __init__(self, engine: Engine, event: asyncio.Event, *, interval: float, idle_max: float) -> None:
        self._path = engine.url.database or ""
        self._event = event
        self._interval = interval
        self._idle_max = max(idle_max, interval)

    async def run(self) -> None:
        conn = await asyncio.to_thread(self._connect)
        try:
            last = await asyncio.to_thread(self._version, conn)
            delay = self._interval
            while True:
                await asyncio.sleep(delay)
                try:
                    current = await asyncio.to_thread(self._version, conn)
                except sqlite3.OperationalError:
                    current = -1  # could not tell: look for work rather than miss it
                if current != last:
                    last = current
                    self._event.set()
                    delay = self._interval
                else:
                    delay = min(delay * 1.25, self._idle_max)
        finally:
            conn.close()

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self._path, timeout=5, check_same_thread=False, isolation_level=None)

    @staticmethod
    def _version(conn: sqlite3.Connection) -> int:
        row = conn.execute("PRAGMA data_version").fetchone()
        return int(row[0])
