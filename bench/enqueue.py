"""Figures 4 and 5: enqueue rate (one at a time and batched) and claim cost at 1,000 vs 1,000,000 pending.

4. Enqueue rate, `send_email` jobs (payload {to, subject}, validated against the type's schema):
   - one at a time: `enqueue()` in its own write transaction per job, as a producer does;
   - one at a time inside one transaction (`enqueue()` M times, one commit);
   - batched: `enqueue_many()` with B jobs per call and transaction: every payload is validated first
     (nothing is written if one is refused; checked below with one bad payload), then all rows go in
     with one prepared INSERT (the driver's executemany);
   - peer: huey's `enqueue` (one commit per task; it has no batch API), as shipped and NORMAL.
5. Claim cost: `shared.queue.store.claim(tx, worker, limit, now)` timed alone inside a write
   transaction that is then rolled back (the queue is unchanged), R times, with 1,000 pending jobs and
   again after bulk-inserting up to 1,000,000 pending jobs (enqueue_many in chunks). limit = 64
   (CLAIM_BATCH's default) and 1. Flat means the 1M figure is about the 1k figure.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import benchlib
import huey_app
from benchlib import BenchDatabase, Figure

from shared.queue import EnqueueError, JobSpec, enqueue, enqueue_many


@dataclass
class Rate:
    what: str
    jobs: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.jobs / self.seconds

    def row(self) -> list[str]:
        return [self.what, f"{self.jobs:,}", f"{self.seconds:.3f}", benchlib.fmt(self.rate), f"{1e6 / self.rate:.1f}"]


def email(i: int) -> dict[str, object]:
    return {"to": f"user{i}@example.test", "subject": f"bench {i}"}


def ours_rates(bench_db: BenchDatabase, jobs: int, batch: int) -> tuple[list[Rate], str]:
    send_email = benchlib.job_types().get("send_email")
    db = bench_db.db
    results = []
    bench_db.scalar("SELECT 1")  # warm the connection pool
    start = time.perf_counter()
    for i in range(jobs):
        with db.write() as tx:
            enqueue(tx, send_email, email(i))
    results.append(Rate("ours: enqueue(), one transaction per job", jobs, time.perf_counter() - start))
    start = time.perf_counter()
    with db.write() as tx:
        for i in range(jobs):
            enqueue(tx, send_email, email(i))
    results.append(Rate("ours: enqueue() x M in one transaction", jobs, time.perf_counter() - start))
    for size in sorted({batch, jobs}):
        start = time.perf_counter()
        for offset in range(0, jobs, size):
            with db.write() as tx:
                enqueue_many(tx, [JobSpec(send_email, email(i)) for i in range(offset, min(offset + size, jobs))])
        results.append(Rate(f"ours: enqueue_many(), {size:,} per call", jobs, time.perf_counter() - start))
    # All or nothing: one invalid payload among `batch` refuses the whole call.
    before = bench_db.count("pending")
    specs = [JobSpec(send_email, email(i)) for i in range(batch)]
    specs[batch // 2] = JobSpec(send_email, {"to": "not an address", "subject": "x"})
    try:
        with db.write() as tx:
            enqueue_many(tx, specs)
        refused = "NOT refused"
    except EnqueueError as exc:
        refused = f"refused ({type(exc).__name__})"
    written = bench_db.count("pending") - before
    return results, f"one bad payload among {batch:,}: {refused}, {written} rows written"


def huey_rates(jobs: int, keep: bool) -> list[Rate]:
    results = []
    for sync in huey_app.SYNC_CHOICES:
        with benchlib.workdir(f"enqueue-huey-{sync}", keep) as tmp:
            files = huey_app.HueyFiles.under(tmp, sync)
            instance = huey_app.make_huey(str(files.queue), sync)
            deliver = instance.task()(huey_app._deliver)
            deliver("warm-up")
            start = time.perf_counter()
            for i in range(jobs):
                deliver(f"email:{i}")
            label = "as shipped" if sync == "default" else "NORMAL"
            results.append(Rate(f"huey {label}: enqueue, one commit per task", jobs, time.perf_counter() - start))
            instance.storage.close()
    return results


@dataclass
class Claims:
    pending: int
    limit: int
    seconds: list[float]
    claimed: int

    def p(self, q: float) -> float:
        return 1e6 * benchlib.percentile(self.seconds, q)

    def row(self) -> list[str]:
        return [
            f"{self.pending:,}",
            str(self.limit),
            str(len(self.seconds)),
            str(self.claimed),
            f"{self.p(50):.0f}",
            f"{self.p(95):.0f}",
            f"{1e6 * max(self.seconds):.0f}",
        ]


def probe(bench_db: BenchDatabase, pending: int, limit: int, repeats: int) -> Claims:
    times = []
    claimed = 0
    for _ in range(repeats):
        elapsed, claimed = bench_db.claim_probe("bench:claim-probe", limit, datetime.now(UTC))
        times.append(elapsed)
    return Claims(pending, limit, times, claimed)


def claim_costs(bench_db: BenchDatabase, sizes: list[int], repeats: int) -> tuple[list[Claims], list[Rate]]:
    results: list[Claims] = []
    fills: list[Rate] = []
    have = 0
    for size in sizes:
        start = time.perf_counter()
        added = bench_db.enqueue_bulk("bench_noop", ({"n": i} for i in range(have, size)), chunk=50_000)
        if added:
            fills.append(
                Rate(
                    f"ours: enqueue_many() bulk fill to {size:,} (50,000 per call)", added, time.perf_counter() - start
                )
            )
        have = size
        pending = bench_db.count("pending")
        for limit in (64, 1):
            results.append(probe(bench_db, pending, limit, repeats))
        print(f"  done: claims with {pending:,} pending", flush=True)
    return results, fills


def main() -> int:
    parser = benchlib.parser(__doc__)
    parser.add_argument("--jobs", type=int, default=20_000, help="jobs M per enqueue measurement (default 20,000)")
    parser.add_argument("--batch", type=int, default=1_000, help="jobs per enqueue_many call B (default 1,000)")
    parser.add_argument("--big", type=int, default=1_000_000, help="pending jobs in the large claim case (default 1M)")
    parser.add_argument("--repeats", type=int, default=300, help="claims timed per case R (default 300)")
    args = parser.parse_args()
    jobs = min(args.jobs, 5_000) if args.quick else args.jobs
    big = min(args.big, 200_000) if args.quick else args.big
    benchlib.header(
        "enqueue.py (figures 4, 5)",
        args,
        {
            "enqueue jobs M": f"{jobs:,} send_email per measurement (fresh database for ours)",
            "enqueue_many batch B": f"{args.batch:,}",
            "claim cases": f"1,000 and {big:,} pending bench_noop jobs, limit 64 and 1, {args.repeats} claims each",
            "huey": "SqliteStorage as shipped and NORMAL, deliver task, one enqueue per commit",
        },
    )
    with benchlib.workdir("enqueue-ours", args.keep) as tmp, benchlib.database(args.backend, tmp) as bench_db:
        rates, all_or_nothing = ours_rates(bench_db, jobs, args.batch)
    print("  done: our enqueue rates", flush=True)
    rates += huey_rates(jobs, args.keep)
    print("  done: huey's enqueue rates", flush=True)
    with benchlib.workdir("claim", args.keep) as tmp, benchlib.database(args.backend, tmp) as bench_db:
        claims, fills = claim_costs(bench_db, [1_000, big], args.repeats)

    print()
    print("Enqueue rate")
    print(benchlib.table(["how", "jobs", "seconds", "jobs/s", "us/job"], [r.row() for r in [*rates, *fills]]))
    print(f"\n  enqueue_many is all or nothing: {all_or_nothing}")
    print()
    print("Claim cost: store.claim() alone, in a write transaction rolled back afterwards, microseconds")
    print(
        benchlib.table(
            ["pending", "limit", "claims", "jobs per claim", "p50 us", "p95 us", "max us"], [c.row() for c in claims]
        )
    )

    by_what = {r.what.split(",")[0]: r for r in rates}
    single = rates[0]
    batched = next(r for r in rates if r.what.startswith(f"ours: enqueue_many(), {args.batch:,}"))
    huey_normal = by_what["huey NORMAL: enqueue"]
    huey_shipped = by_what["huey as shipped: enqueue"]
    figures = [
        Figure(
            "4. enqueue one at a time (own transaction), jobs/s vs huey NORMAL",
            benchlib.fmt(single.rate),
            benchlib.fmt(huey_normal.rate),
            benchlib.ratio(single.rate, huey_normal.rate),
            "-",
            "-",
        ),
        Figure(
            "4. enqueue one at a time (own transaction), jobs/s vs huey as shipped",
            benchlib.fmt(single.rate),
            benchlib.fmt(huey_shipped.rate),
            benchlib.ratio(single.rate, huey_shipped.rate),
            "-",
            "-",
        ),
        Figure(
            f"4. enqueue_many batched ({args.batch:,} per call), jobs/s vs one at a time",
            benchlib.fmt(batched.rate),
            benchlib.fmt(single.rate),
            benchlib.ratio(batched.rate, single.rate),
            "-",
            "-",
        ),
    ]
    small = {c.limit: c for c in claims if c.pending == claims[0].pending}
    large = {c.limit: c for c in claims if c.pending != claims[0].pending}
    for limit in (64, 1):
        if limit in large:
            a, b = large[limit], small[limit]
            figures.append(
                Figure(
                    f"5. claim cost p50, limit {limit}, us: {a.pending:,} pending vs {b.pending:,}",
                    f"{a.p(50):.0f}",
                    f"{b.p(50):.0f}",
                    benchlib.ratio(a.p(50), b.p(50)),
                    "flat (read: <= 2x)",
                    benchlib.met(a.p(50) <= 2 * b.p(50)),
                )
            )
    benchlib.print_summary(figures, args.summary_json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
