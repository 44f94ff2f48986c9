"""Figures 3 and 8: the full order pipeline, from `POST /orders` to every immediate step done.

An order's immediate steps: `send_order_confirmation`, whose completion enqueues `generate_invoice`
(renders the PDF) and `sync_inventory`; the `send_followup_email` due 24 h later is left out. Every
run: a fresh database migrated by `alembic upgrade head`, stock raised, one `python -m api` and 3
`python -m worker` (defaults), SIMULATED_LATENCY_SCALE=0 and SIMULATED_FAILURE_RATE=0.

3. Pipeline throughput: `hey -n M -c 16` posts M orders as fast as the API takes them while the 3
   workers run; orders/s = M / (first order created -> last immediate step completed), from the
   database. Peer, in the same run: the same M orders posted to an API with no workers (how fast
   the API alone accepts them): the pipeline's ratio to it says how much of the API's rate the whole
   pipeline sustains.
8. Sustained capacity: a steady 50 orders/s (`hey -z 60s -c 10 -q 5`) with 3 workers. Lag of an order =
   its `created_at` -> the `completed_at` of its last immediate step (p50/p99/max). The backlog (the
   immediate steps pending or running) is sampled every second; it "grows" when its least-squares
   slope is above 1 job/s and its mean over the last third of the run exceeds the first third's by
   more than 30 jobs (at 150 jobs/s arriving, a few in flight at any moment are normal). Peer: the offered rate;
   the ratio is orders fully done during the load per second / 50.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import benchlib
from benchlib import BenchDatabase, Figure, Load, Processes

WORKERS = 3
BURST_CLIENTS = 16
STEADY_CLIENTS, STEADY_PER_CLIENT = 10, 5.0
# Jobs in flight at any moment are noise (150 arrive per second); growth must exceed this as well as
# a slope of 1 job/s.
GROWTH_MARGIN = 30


@dataclass
class Burst:
    orders: int
    post: Load
    api_alone: Load
    seconds: float  # first order created -> last step completed
    done: int  # orders whose 3 immediate steps completed
    locked: int

    @property
    def rate(self) -> float:
        return self.done / self.seconds if self.seconds > 0 else float("nan")


@dataclass
class Steady:
    load: Load
    lags_ms: list[float]
    done_in_window: int
    window_s: float
    backlog: list[tuple[float, int]] = field(default_factory=list)
    orders: int = 0
    unfinished: int = 0
    locked: int = 0

    def p(self, q: float) -> float:
        return benchlib.percentile(self.lags_ms, q)

    def grows(self) -> tuple[bool, float, float, float]:
        """(grows, first third's mean, last third's mean, least-squares slope in jobs/s)."""
        values = [v for _, v in self.backlog]
        if len(values) < 3:
            return False, float("nan"), float("nan"), float("nan")
        third = len(values) // 3
        first = sum(values[:third]) / third
        last = sum(values[-third:]) / third
        times = [t for t, _ in self.backlog]
        mean_t, mean_v = sum(times) / len(times), sum(values) / len(values)
        spread = sum((t - mean_t) ** 2 for t in times)
        slope = sum((t - mean_t) * (v - mean_v) for t, v in self.backlog) / spread if spread else 0.0
        return slope > 1.0 and last > first + GROWTH_MARGIN, first, last, slope


def _orders_done(bench_db: BenchDatabase) -> tuple[int, datetime | None, datetime | None, list[float]]:
    rows = bench_db.pipeline_rows()
    full = [(created, last) for _, created, last, steps in rows if steps == len(benchlib.IMMEDIATE_STEPS)]
    lags = [(last - created).total_seconds() * 1000 for created, last in full if last is not None]
    first = min((created for _, created, _, _ in rows), default=None)
    last_done = max((last for _, last in full if last is not None), default=None)
    return len(full), first, last_done, lags


def burst(
    bench_db: BenchDatabase, group: Processes, tmp: Path, *, orders: int, api_alone: Load, timeout: float
) -> Burst:
    _, url = benchlib.start_api(group, bench_db)
    benchlib.start_workers(group, bench_db, WORKERS)
    benchlib.wait_workers_ready(bench_db, WORKERS, group)
    post = benchlib.run_hey(
        url + "/orders", duration=0, count=orders, clients=BURST_CLIENTS, rate_per_client=None, tmp=tmp
    )
    benchlib.wait_until(
        lambda: bench_db.count("completed", benchlib.IMMEDIATE_STEPS) >= 3 * post.ok,
        timeout,
        "every immediate step",
        interval=0.1,
        group=group,
    )
    done, first, last, _ = _orders_done(bench_db)
    seconds = (last - first).total_seconds() if first and last else float("nan")
    group.stop()
    return Burst(orders, post, api_alone, seconds, done, group.count_in_logs(benchlib.LOCKED))


def api_alone(bench_db: BenchDatabase, group: Processes, tmp: Path, orders: int) -> Load:
    _, url = benchlib.start_api(group, bench_db)
    return benchlib.run_hey(
        url + "/orders", duration=0, count=orders, clients=BURST_CLIENTS, rate_per_client=None, tmp=tmp
    )


def steady(bench_db: BenchDatabase, group: Processes, tmp: Path, seconds: float, timeout: float) -> Steady:
    _, url = benchlib.start_api(group, bench_db)
    benchlib.start_workers(group, bench_db, WORKERS)
    benchlib.wait_workers_ready(bench_db, WORKERS, group)
    samples: list[tuple[float, int]] = []
    stop = threading.Event()
    began = time.monotonic()

    def sample() -> None:
        while not stop.wait(1.0):
            counts = bench_db.status_counts(benchlib.IMMEDIATE_STEPS)
            samples.append((time.monotonic() - began, counts.get("pending", 0) + counts.get("processing", 0)))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    load = benchlib.run_hey(
        url + "/orders", duration=seconds, clients=STEADY_CLIENTS, rate_per_client=STEADY_PER_CLIENT, tmp=tmp
    )
    window = time.monotonic() - began
    stop.set()
    sampler.join()
    done_in_window, _, _, _ = _orders_done(bench_db)
    benchlib.wait_until(
        lambda: bench_db.count("completed", benchlib.IMMEDIATE_STEPS) >= 3 * load.ok,
        timeout,
        "every immediate step",
        interval=0.2,
        group=group,
    )
    _, _, _, lags = _orders_done(bench_db)
    orders = bench_db.orders_count()
    group.stop()
    return Steady(
        load,
        lags,
        done_in_window,
        window,
        samples,
        orders,
        orders - len(lags),
        group.count_in_logs(benchlib.LOCKED),
    )


def main() -> int:
    parser = benchlib.parser(__doc__)
    parser.add_argument("--orders", type=int, default=3_000, help="orders M in the throughput run (default 3,000)")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the steady 50 orders/s run (default 60)")
    parser.add_argument("--timeout", type=float, default=300, help="give up waiting for steps after this (default 300)")
    args = parser.parse_args()
    orders = min(args.orders, 1_000) if args.quick else args.orders
    orders -= orders % BURST_CLIENTS  # hey -n sends n // c requests per client
    seconds = min(args.seconds, 20.0) if args.quick else args.seconds
    benchlib.header(
        "pipeline.py (figures 3, 8)",
        args,
        {
            "API and workers": f"python -m api + {WORKERS} x python -m worker {' '.join(benchlib.WORKER_ARGS)}; "
            "defaults, SIMULATED_LATENCY_SCALE=0, SIMULATED_FAILURE_RATE=0",
            "throughput run": f"hey -n {orders:,} -c {BURST_CLIENTS} (as fast as the API takes them); peer: the "
            "same against the API with no workers",
            "steady run": f"hey -z {seconds:g}s -c {STEADY_CLIENTS} -q {STEADY_PER_CLIENT:g} (50 orders/s)",
            "immediate steps": ", ".join(benchlib.IMMEDIATE_STEPS),
        },
    )
    with (
        benchlib.workdir("pipeline-api-alone", args.keep) as tmp,
        benchlib.database(args.backend, tmp) as bench_db,
        benchlib.processes(tmp) as group,
    ):
        bench_db.raise_stock()
        alone = api_alone(bench_db, group, tmp, orders)
    print("  done: API alone", flush=True)
    with (
        benchlib.workdir("pipeline-burst", args.keep) as tmp,
        benchlib.database(args.backend, tmp) as bench_db,
        benchlib.processes(tmp) as group,
    ):
        bench_db.raise_stock()
        result = burst(bench_db, group, tmp, orders=orders, api_alone=alone, timeout=args.timeout)
    print("  done: pipeline throughput", flush=True)
    with (
        benchlib.workdir("pipeline-steady", args.keep) as tmp,
        benchlib.database(args.backend, tmp) as bench_db,
        benchlib.processes(tmp) as group,
    ):
        bench_db.raise_stock()
        held = steady(bench_db, group, tmp, seconds, args.timeout)
    print("  done: steady 50 orders/s", flush=True)

    print()
    print("3. Pipeline throughput (POST /orders -> confirmation, invoice and inventory steps completed)")
    print(
        benchlib.table(
            ["run", "orders", "POST orders/s", "POST p50 ms", "POST p99 ms", "non-2xx+errors", "orders fully done/s"],
            [
                [
                    f"API + {WORKERS} workers",
                    f"{result.done:,} of {result.post.ok:,}",
                    benchlib.fmt(result.post.rate),
                    benchlib.fmt(result.post.p50_ms, 1),
                    benchlib.fmt(result.post.p99_ms, 1),
                    str(result.post.failures()),
                    f"{result.rate:,.0f} ({result.seconds:.1f} s)",
                ],
                [
                    "API alone (peer)",
                    f"{alone.ok:,}",
                    benchlib.fmt(alone.rate),
                    benchlib.fmt(alone.p50_ms, 1),
                    benchlib.fmt(alone.p99_ms, 1),
                    str(alone.failures()),
                    "-",
                ],
            ],
        )
    )
    grows, first, last, slope = held.grows()
    print()
    print(f"8. Steady 50 orders/s for {seconds:g} s with {WORKERS} workers")
    print(
        benchlib.table(
            ["orders", "offered/s", "POST p50 ms", "POST p99 ms", "non-2xx+errors", "done in window/s", "lag p50 ms",
             "lag p99 ms", "lag max ms", "backlog first/last third", "slope jobs/s", "grows"],
            [[
                f"{held.orders:,}", benchlib.fmt(held.load.rate, 1), benchlib.fmt(held.load.p50_ms, 1),
                benchlib.fmt(held.load.p99_ms, 1), str(held.load.failures()),
                f"{held.done_in_window / held.window_s:.1f}", f"{held.p(50):.0f}", f"{held.p(99):.0f}",
                f"{max(held.lags_ms, default=float('nan')):.0f}", f"{first:.1f} / {last:.1f}", f"{slope:+.2f}",
                "yes" if grows else "no",
            ]],
        )
    )  # fmt: skip
    print("  backlog samples (s: jobs pending or running): " + ", ".join(f"{t:.0f}:{n}" for t, n in held.backlog[::5]))
    print(f"  orders not fully done at the end: {held.unfinished}")
    print(f"  '{benchlib.LOCKED}' in the logs: throughput run {result.locked}, steady run {held.locked}")

    figures = [
        Figure(
            "3. pipeline: orders/s from POST /orders to every step done, 3 workers (latency 0) vs API alone",
            f"{result.rate:,.0f}",
            f"{alone.rate:,.0f}",
            benchlib.ratio(result.rate, alone.rate),
            "-",
            "-",
        ),
        Figure(
            "8. steady 50 orders/s, 3 workers: lag to last immediate step p50 / p99 ms",
            f"{held.p(50):.0f} / {held.p(99):.0f}",
            "-",
            "-",
            "p99 <= 1,000 ms",
            benchlib.met(held.p(99) <= 1000),
        ),
        Figure(
            "8. steady 50 orders/s: orders fully done per s during the load vs offered; backlog grows?",
            f"{held.done_in_window / held.window_s:.1f}; grows: {'yes' if grows else 'no'}",
            f"{held.load.rate:.1f}",
            benchlib.ratio(held.done_in_window / held.window_s, held.load.rate),
            "no growing backlog",
            benchlib.met(not grows),
        ),
    ]
    benchlib.print_summary(figures, args.summary_json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
