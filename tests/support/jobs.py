"""Job types of the tests' own, loaded by real workers with `--jobs tests.support.jobs`: a nap that
holds a concurrency key, so limits and cancellation can be watched from outside."""

from __future__ import annotations

import asyncio
import time

import msgspec

from shared.queue import JobContext, JobRegistry
from shared.queue.limits import ConcurrencyLimit

jobs: JobRegistry[None] = JobRegistry()


class Nap(msgspec.Struct, forbid_unknown_fields=True):
    key: str
    seconds: float = 0.2
    log: str | None = None  # a file to append "key start end" to (wall-clock seconds), one line per run


@jobs.job("test_nap", Nap, concurrency=ConcurrencyLimit(key=lambda nap: f"nap:{nap.key}", limit=2))
async def nap(ctx: JobContext[None], payload: Nap) -> None:
    start = time.time()
    await asyncio.sleep(payload.seconds)
    if payload.log is not None:
        with open(payload.log, "a") as out:  # one short append: whole lines, whichever process writes
            out.write(f"{payload.key} {start} {time.time()}\n")


class Mark(msgspec.Struct, forbid_unknown_fields=True):
    """Append `label` to the file at `path` when run: the file's lines are the order jobs ran in."""

    path: str
    label: str


@jobs.job("test_mark", Mark)
async def mark(ctx: JobContext[None], payload: Mark) -> None:
    with open(payload.path, "a") as out:
        out.write(payload.label + "\n")
