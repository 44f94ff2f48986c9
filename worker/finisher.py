"""Batched final writes: every job that finished since the last flush is settled in one short write
transaction (completions, retries, dead letters, hand-backs), each in its own savepoint so one
failing write cannot undo the others. The same transaction claims new jobs for the slots the
settled ones free, so under load one write transaction both finishes and refills a batch."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Connection

from shared.db import Database
from shared.logging import get_logger
from shared.queue.consumer import ClaimedJob

FinalWrite = Callable[[Connection], bool]
Refill = Callable[[Connection, int], list[ClaimedJob]]
log = get_logger("worker")


class Finisher:
    def __init__(
        self,
        db: Database,
        executor: ThreadPoolExecutor,
        *,
        room: Callable[[int], int],
        refill: Refill,
        on_claimed: Callable[[list[ClaimedJob]], None],
        max_batch: int = 200,
    ) -> None:
        """`room(k)`: how many jobs to claim when k running jobs settle; `refill` claims them and
        `on_claimed` starts them."""
        self._db = db
        self._executor = executor
        self._room = room
        self._refill = refill
        self._on_claimed = on_claimed
        self._max_batch = max_batch
        self._pending: list[tuple[FinalWrite, asyncio.Future[bool]]] = []
        self._ready = asyncio.Event()

    async def submit(self, write: FinalWrite) -> bool:
        """Queue a job's final write; resolves with its result once the batch has committed."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending.append((write, future))
        self._ready.set()
        return await future

    async def run(self) -> None:
        while True:
            await self._ready.wait()
            self._ready.clear()
            while self._pending:
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                claimed: list[ClaimedJob] = []
                room = self._room(len(batch))
                try:
                    results, claimed = await asyncio.get_running_loop().run_in_executor(
                        self._executor, self._apply, [write for write, _ in batch], room
                    )
                except Exception as exc:
                    results = [exc] * len(batch)  # the commit failed: each caller retries or gives up
                for (_, future), result in zip(batch, results, strict=True):
                    if future.done():
                        continue
                    if isinstance(result, Exception):
                        future.set_exception(result)
                    else:
                        future.set_result(result)
                if claimed:
                    self._on_claimed(claimed)

    def _apply(self, writes: list[FinalWrite], room: int) -> tuple[list[bool | Exception], list[ClaimedJob]]:
        results: list[bool | Exception] = []
        claimed: list[ClaimedJob] = []
        with self._db.write_conn() as connection:
            for write in writes:
                try:
                    with connection.begin_nested():
                        results.append(write(connection))
                except Exception as exc:  # reported to that job's caller alone
                    results.append(exc)
            if room > 0:
                try:
                    with connection.begin_nested():
                        claimed = self._refill(connection, room)
                except Exception as exc:  # the settled jobs still commit; the claim loop retries
                    log.warning("worker.refill_failed", error=str(exc))
        return results, claimed
