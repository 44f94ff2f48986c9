"""The write lane: one thread that commits asyncio callers' write units in batches.

Each caller's unit is a function of a `Tx`. The lane takes every unit queued since its last
commit and runs them in ONE write transaction, each in a savepoint when there are several, then
wakes the callers with one hand-off to their event loop. Under load this turns N transactions
(and N waits for SQLite's write lock) into one, and N thread hand-offs into one.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from shared.db.tx import Tx

if TYPE_CHECKING:
    from shared.db.database import Database

T = TypeVar("T")
Unit = Callable[[Tx], Any]
MAX_UNITS_PER_COMMIT = 256
_STOP = object()


class WriteLane:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="db-write", daemon=True)
        self._thread.start()

    async def submit(self, unit: Callable[[Tx], T]) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.put((unit, future, loop))
        return await future

    def close(self) -> None:
        self._queue.put(_STOP)
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        with self._db.connection() as raw:
            while True:
                first = self._queue.get()
                if first is _STOP:
                    return
                batch = [first]
                stop = False
                while len(batch) < MAX_UNITS_PER_COMMIT:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is _STOP:
                        stop = True
                        break
                    batch.append(item)
                self._deliver(batch, self._commit(raw, [unit for unit, _, _ in batch]))
                if stop:
                    return

    def _commit(self, raw: Any, units: list[Unit]) -> list[tuple[bool, Any]]:
        """All units in one transaction. Optimistically without savepoints (two statements fewer per
        unit); if one raises, that attempt is rolled back and the batch runs again with a savepoint
        per unit, so only the failing unit's writes are undone. Units are functions of the
        transaction alone, so running one again after a rollback is safe."""
        if len(units) > 1:
            try:
                with self._db.write_on(raw) as tx:
                    return [(True, unit(tx)) for unit in units]
            except Exception:  # noqa: S110 - retried below, where each unit's own error is kept
                pass
        outcomes: list[tuple[bool, Any]] = []
        try:
            with self._db.write_on(raw) as tx:
                if len(units) == 1:
                    outcomes.append((True, units[0](tx)))
                else:
                    for unit in units:
                        try:
                            with tx.savepoint():
                                outcomes.append((True, unit(tx)))
                        except Exception as exc:  # only this unit's writes are undone
                            outcomes.append((False, exc))
        except Exception as exc:  # BEGIN or COMMIT failed (or the only unit raised): nothing committed
            return [(False, exc)] * len(units)
        return outcomes

    @staticmethod
    def _deliver(batch: list[Any], outcomes: list[tuple[bool, Any]]) -> None:
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], bool, Any]]] = {}
        for (_, future, loop), (ok, value) in zip(batch, outcomes, strict=True):
            by_loop.setdefault(loop, []).append((future, ok, value))
        for loop, results in by_loop.items():
            with contextlib.suppress(RuntimeError):  # the caller's loop is closed; nobody is waiting any more
                loop.call_soon_threadsafe(_resolve, results)


def _resolve(results: list[tuple[asyncio.Future[Any], bool, Any]]) -> None:
    for future, ok, value in results:
        if future.done():
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)
