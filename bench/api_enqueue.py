"""`POST /orders` latency through a real `python -m api` while workers poll the same SQLite file.

Each order is one write transaction in the API (stock, order, items, payment record and the order's
two jobs), so this measures whether the API's writes get the write lock promptly while workers poll.
SIMULATED_LATENCY_SCALE=0 (no payment delay); stock is raised first with sqlite3. Three conditions,
each on a fresh file migrated by `alembic upgrade head`, with its own API process:

- no workers: the API alone (baseline);
- 3 shopqueue workers (`python -m worker`, defaults, SIMULATED_FAILURE_RATE=0): idle at first, then
  draining the orders' jobs as they come (confirmation email, then invoice PDF and inventory sync);
- 3 naive pollers (bench/naive_poller.py --interval 0.01): each runs
  `BEGIN IMMEDIATE; UPDATE jobs SET ... WHERE id IN (SELECT ... LIMIT 1) RETURNING id; COMMIT` every
  10 ms, and completes what it claims without running a handler: the hot polling that
  docs/queue-anchors.md section 2c warns about.

After 20 warm-up requests, N sequential requests (default 500) over one keep-alive connection are
timed on the client; prints p50/p95/p99/max/mean per condition, ratios to the baseline, and how much
of the queue each condition drained meanwhile.

With --trace-locks (needs strace), a second pass per condition attaches strace to the API and the
workers/pollers and reports, from SQLite's own lock calls, how often the API found the write lock
taken (each refusal costs it a busy-handler sleep of 1, 2, 5, 10, ... ms) and how long the workers or
pollers held the lock per write transaction. Timings under strace are slower; read the shape.

Run:  python -m pip install -e '.[test,bench]'  then  python bench/api_enqueue.py [--requests 500]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import benchlib
import httpx
from benchlib import Processes, query

CONDITIONS = ("no workers", "3 shopqueue workers", "3 naive pollers (10 ms)")


@dataclass
class Run:
    condition: str
    ms: list[float]
    failures: int
    drained: str
    api_locks: benchlib.LockStats | None = None
    helper_locks: benchlib.LockStats | None = None
    window_s: float = 0.0

    def row(self, baseline: list[float] | None) -> list[str]:
        p = benchlib.percentile
        cells = [
            self.condition,
            str(len(self.ms)),
            str(self.failures),
            *(f"{p(self.ms, q):.2f}" for q in (50, 95, 99)),
            f"{max(self.ms):.2f}",
            f"{sum(self.ms) / len(self.ms):.2f}",
        ]
        if baseline is None:
            return [*cells, "-", "-"]
        return [*cells, benchlib.ratio(p(self.ms, 99), p(baseline, 99)), benchlib.ratio(max(self.ms), max(baseline))]


def post_orders(client: httpx.Client, count: int, offset: int) -> tuple[list[float], int]:
    timings: list[float] = []
    failures = 0
    for i in range(offset, offset + count):
        body = {"userId": f"bench-{i}", "items": [{"productId": "prod-1", "quantity": 1}]}
        start = time.perf_counter()
        response = client.post("/orders", json=body)
        timings.append((time.perf_counter() - start) * 1000)
        if response.status_code != 201:
            failures += 1
    return timings, failures


def start_helpers(
    condition: str, group: Processes, db_path: Path, tmp: Path, worker_env: dict[str, str]
) -> Callable[[], str]:
    """Start the condition's workers; return a function that stops them and describes what they did."""
    done_sql = "SELECT status, COUNT(*) FROM jobs WHERE scheduled_at <= ? GROUP BY status"

    def drained() -> str:
        counts = dict(query(db_path, done_sql, (benchlib.utc_text(),)))
        total = sum(counts.values())
        return f"{counts.get('completed', 0)}/{total} due jobs completed"

    if condition == CONDITIONS[0]:
        return drained
    if condition == CONDITIONS[1]:
        benchlib.start_workers(group, db_path, tmp, 3, **{"SIMULATED_FAILURE_RATE": "0", **worker_env})
        benchlib.wait_workers_registered(db_path, 3, group)
        return drained
    pollers = [
        group.spawn(
            f"naive-{i}",
            [sys.executable, str(benchlib.BENCH_DIR / "naive_poller.py"), str(db_path), "--interval", "0.01"],
            benchlib.base_env(db_path),
            tmp,
        )
        for i in range(3)
    ]

    def stop_pollers() -> str:
        summary = drained()
        stats = []
        for poller in pollers:
            poller.stop()
            stats.append(json.loads(poller.log_tail(1)))
        attempts = sum(s["attempts"] for s in stats)
        worst = max(s["max_begin_wait_ms"] for s in stats)
        return f"{summary}; {attempts} claim attempts (BEGIN IMMEDIATE), slowest BEGIN {worst:.0f} ms"

    return stop_pollers


def run_condition(
    condition: str, *, requests: int, settle: float, keep: bool, worker_env: dict[str, str], trace: bool
) -> Run:
    slug = "-".join(condition.split()[:2])
    with benchlib.workdir(f"api-{slug}", keep) as tmp, benchlib.processes() as group:
        db_path = tmp / "shop.db"
        benchlib.migrate(db_path)
        conn = benchlib.connect(db_path)
        conn.execute("UPDATE products SET stock = 1000000")
        conn.close()
        url = benchlib.start_api(group, db_path, tmp)
        finish = start_helpers(condition, group, db_path, tmp, worker_env)
        pids = [proc.pid for proc in group.procs]  # the API first, then workers or pollers
        time.sleep(settle)
        with httpx.Client(base_url=url, timeout=60) as client:
            post_orders(client, 20, 0)
            tracer = benchlib.LockTracer(group, pids, tmp) if trace else None
            start = time.time()
            timings, failures = post_orders(client, requests, 20)
            end = time.time()
        group.check_alive()
        run = Run(condition, timings, failures, "", window_s=end - start)
        if tracer is not None:
            stats = tracer.stop(start, end)
            run.api_locks = stats[0]
            run.helper_locks = benchlib.LockStats.total(stats[1:])
        time.sleep(0.5)  # let the workers catch up with the last orders before counting
        run.drained = finish()
        return run


def print_lock_table(runs: list[Run]) -> None:
    p = benchlib.percentile
    rows = []
    for run in runs:
        api, helpers = run.api_locks, run.helper_locks
        if api is None or helpers is None:
            continue
        holds = helpers.holds_ms
        rows.append(
            [
                run.condition,
                f"{run.window_s:.1f}",
                str(api.acquired),
                str(api.busy),
                str(helpers.acquired),
                f"{p(holds, 50):.2f}" if holds else "-",
                f"{p(holds, 95):.2f}" if holds else "-",
                f"{max(holds):.1f}" if holds else "-",
                f"{100 * sum(holds) / 1000 / run.window_s:.0f}%" if holds else "-",
            ]
        )
    print("\nWrite lock under strace (slower run; counts and shape, not timings)")
    print(
        benchlib.table(
            [
                "condition",
                "window s",
                "API took lock",
                "API refused (busy)",
                "workers took lock",
                "hold p50 ms",
                "hold p95 ms",
                "hold max ms",
                "lock held by workers",
            ],
            rows,
        )
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=500, help="timed sequential requests (default 500)")
    parser.add_argument("--settle", type=float, default=2.0, help="idle seconds before the requests (default 2)")
    parser.add_argument(
        "--worker-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra setting for our workers, e.g. WORKER_CONCURRENCY=1 (repeatable; default: none)",
    )
    parser.add_argument(
        "--trace-locks", action="store_true", help="add a pass per condition under strace (write-lock counts)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp dirs (databases and logs)")
    args = parser.parse_args()
    worker_env = benchlib.parse_env(args.worker_env)
    if args.trace_locks and not benchlib.strace_available():
        parser.error("--trace-locks needs strace")

    print(f"api_enqueue: {args.requests} sequential POST /orders per condition; {benchlib.machine()}")
    if worker_env:
        print(f"  our workers run with {worker_env}")
    options = {"requests": args.requests, "settle": args.settle, "keep": args.keep, "worker_env": worker_env}
    runs: list[Run] = []
    for condition in CONDITIONS:
        runs.append(run_condition(condition, **options, trace=False))
        print(f"  done: {condition}")
    traced: list[Run] = []
    if args.trace_locks:
        for condition in CONDITIONS:
            traced.append(run_condition(condition, **options, trace=True))
            print(f"  done under strace: {condition}")
    baseline = runs[0].ms
    print()
    print("POST /orders latency, ms (client side, one keep-alive connection)")
    print(
        benchlib.table(
            ["condition", "requests", "non-201", "p50", "p95", "p99", "max", "mean", "p99 vs alone", "max vs alone"],
            [run.row(None if i == 0 else baseline) for i, run in enumerate(runs)],
        )
    )
    print()
    for run in runs:
        print(f"  {run.condition}: {run.drained}")
    ours, naive = runs[1].ms, runs[2].ms
    p = benchlib.percentile
    print(
        f"\n  ours/naive pollers: p50 {benchlib.ratio(p(ours, 50), p(naive, 50))}, "
        f"p99 {benchlib.ratio(p(ours, 99), p(naive, 99))}, max {benchlib.ratio(max(ours), max(naive))}"
        "  (below 1 = the API fares better beside our workers)"
    )
    if traced:
        print_lock_table(traced)
    return 0


if __name__ == "__main__":
    sys.exit(main())
