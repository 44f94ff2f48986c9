"""The database of one process: pooled driver connections, short transactions, async lanes.

`write()` is a unit of work that begins with the engine's write discipline (SQLite: BEGIN
IMMEDIATE) and commits on success; `read()` is one consistent snapshot. Keep both short: never hold
one across a sleep, a handler or a remote call. Async code uses `run_write` (one writer thread
that commits many units per transaction) and `run_read` (a few reader threads).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import TYPE_CHECKING, Any, TypeVar

from shared.db.lane import WriteLane
from shared.db.tx import Tx

if TYPE_CHECKING:
    from shared.queue.backends import Backend

T = TypeVar("T")
READER_THREADS = 4


class Database:
    def __init__(self, url: str, *, busy_timeout_ms: int = 5000, pool_size: int = 10) -> None:
        # Imported here: the backends live in the queue package, which itself builds on this module.
        from shared.queue.backends import backend_for  # noqa: PLC0415

        self.backend: Backend = backend_for(url, busy_timeout_ms=busy_timeout_ms)
        self.engine = self.backend.create_engine(pool_size=pool_size)
        # SQLite has one writer at a time, and its busy handler makes waiters sleep even after the
        # lock is free. Threads of this process therefore queue on a Python lock, which hands over
        # at once; only other processes meet the (fair, see the backend) wait for the file lock.
        self._writer_lock: AbstractContextManager[object] = (
            threading.Lock() if self.backend.serialises_writers else nullcontext()
        )
        self._lane: WriteLane | None = None
        self._readers: ThreadPoolExecutor | None = None
        self._setup = threading.Lock()

    @classmethod
    def from_url(cls, url: str, *, busy_timeout_ms: int = 5000) -> Database:
        return cls(url, busy_timeout_ms=busy_timeout_ms)

    # ---- synchronous units of work ------------------------------------------------------------

    @contextmanager
    def write(self) -> Iterator[Tx]:
        with self._writer_lock, self.connection() as raw:
            yield from self._transaction(raw, write=True)

    @contextmanager
    def read(self) -> Iterator[Tx]:
        with self.connection() as raw:
            yield from self._transaction(raw, write=False)

    @contextmanager
    def connection(self) -> Iterator[Any]:
        """A pooled driver connection with this engine's discipline applied."""
        fairy = self.engine.raw_connection()
        try:
            yield fairy.driver_connection
        finally:
            fairy.close()

    def write_on(self, raw: Any) -> AbstractContextManager[Tx]:
        """A write transaction on a connection the caller keeps (the write lane's own)."""
        return self._locked_transaction(raw)

    @contextmanager
    def _locked_transaction(self, raw: Any) -> Iterator[Tx]:
        with self._writer_lock:
            yield from self._transaction(raw, write=True)

    def _transaction(self, raw: Any, *, write: bool) -> Iterator[Tx]:
        backend = self.backend
        if write:
            backend.begin_write(raw)
        else:
            backend.begin_read(raw)
        try:
            yield Tx(raw, backend)
        except BaseException:
            backend.rollback(raw)
            raise
        if write:
            try:
                backend.commit(raw)
            except BaseException:
                backend.rollback(raw)
                raise
        else:
            backend.rollback(raw)  # nothing to keep; ends the snapshot

    # ---- asynchronous callers -----------------------------------------------------------------

    async def run_write(self, unit: Callable[[Tx], T]) -> T:
        """Run `unit(tx)` in a write transaction on the writer thread, batched with other units
        (each in its own savepoint: a unit that raises undoes only its own writes)."""
        return await self.lane.submit(unit)

    async def run_read(self, fn: Callable[[Tx], T]) -> T:
        """Run `fn(tx)` in a read transaction on a reader thread."""
        return await asyncio.get_running_loop().run_in_executor(self.readers, self._read_call, fn)

    def _read_call(self, fn: Callable[[Tx], T]) -> T:
        with self.read() as tx:
            return fn(tx)

    @property
    def lane(self) -> WriteLane:
        if self._lane is None:
            with self._setup:
                if self._lane is None:
                    self._lane = WriteLane(self)
        return self._lane

    @property
    def readers(self) -> ThreadPoolExecutor:
        if self._readers is None:
            with self._setup:
                if self._readers is None:
                    self._readers = ThreadPoolExecutor(READER_THREADS, thread_name_prefix="db-read")
        return self._readers

    def dispose(self) -> None:
        if self._lane is not None:
            self._lane.close()
            self._lane = None
        if self._readers is not None:
            self._readers.shutdown(wait=True)
            self._readers = None
        self.engine.dispose()
