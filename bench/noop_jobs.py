"""The benchmarks' own job type, loaded with `python -m worker --jobs bench.noop_jobs`: a handler that
does nothing, so a drain measures the queue alone (claim, run, settle)."""

from __future__ import annotations

import msgspec

from shared.queue import JobContext, JobRegistry

jobs: JobRegistry[None] = JobRegistry()


class Noop(msgspec.Struct, forbid_unknown_fields=True):
    n: int = 0


@jobs.job("bench_noop", Noop)
async def bench_noop(ctx: JobContext[None], payload: Noop) -> None:
    return None
