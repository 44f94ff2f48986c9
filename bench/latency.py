"""Figures 6 and 9 (idle worker): wake-up latency at low load, and what idle workers cost, vs huey.

1. Wake-up latency. 3 idle worker processes wait on an empty queue (after a settle period); then one
   job is enqueued every 100-200 ms (uniformly random, seeded), M times, each in its own transaction.
   Ours: `python -m worker --jobs bench.noop_jobs --jobs shared.shop.jobs` with default settings
   (WAKE_INTERVAL=0.001 s between `PRAGMA data_version` checks), `bench_noop` jobs; latency =
   `started_at - created_at` of each job from the jobs table (both stamped by the database clock's
   ms-resolution text, so +-1 ms). huey: `huey_consumer huey_app.huey -k process -w 3` with its
   defaults (polling from 0.1 s, backoff x1.15 up to 10 s), `deliver` tasks; latency = the time the
   task records at its start - the time taken just before the enqueue call.
2. Idle CPU. After the last job, a pause, then the CPU (user+sys from /proc) of the 3 idle workers
   over --idle-seconds, as % of one core: per worker and for all three (huey: its 3 worker processes
   and the consumer process).
3. Peak RSS (VmHWM) of an idle worker after the run (figure 9, idle; drain.py has the busy peak).
"""

from __future__ import annotations

import random
import sys
import time
from dataclasses import dataclass

import benchlib
import huey_app
from benchlib import Figure

WORKERS = 3


@dataclass
class Result:
    system: str
    latencies_ms: list[float]
    idle_total_pct: float
    idle_per_process_pct: list[float]
    idle_what: str
    rss_mb: float
    locked: int = 0

    def p(self, q: float) -> float:
        return benchlib.percentile(self.latencies_ms, q)

    def row(self) -> list[str]:
        values = self.latencies_ms
        return [
            self.system,
            str(len(values)),
            f"{self.p(50):.1f}",
            f"{self.p(95):.1f}",
            f"{self.p(99):.1f}",
            f"{max(values):.1f}",
            f"{self.idle_total_pct:.2f}",
            ", ".join(f"{v:.2f}" for v in self.idle_per_process_pct) + f" ({self.idle_what})",
            f"{self.rss_mb:.1f}",
        ]


HEADERS = [
    "system",
    "jobs",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "max ms",
    "idle CPU % of a core (all)",
    "idle CPU % per process",
    "idle peak RSS MB",
]


def gaps(count: int, seed: int) -> list[float]:
    rng = random.Random(seed)
    return [rng.uniform(0.1, 0.2) for _ in range(count)]


def run_ours(pauses: list[float], *, settle: float, idle_seconds: float, backend: str, keep: bool) -> Result:
    with (
        benchlib.workdir("latency-ours", keep) as tmp,
        benchlib.database(backend, tmp) as bench_db,
        benchlib.processes(tmp) as group,
    ):
        procs = benchlib.start_workers(group, bench_db, WORKERS)
        benchlib.wait_workers_ready(bench_db, WORKERS, group)
        time.sleep(settle)
        bench_db.scalar("SELECT 1")  # open the pooled connection before the first timed enqueue
        for i, pause in enumerate(pauses):
            time.sleep(pause)
            bench_db.enqueue_one("bench_noop", {"n": i})
        benchlib.wait_until(lambda: bench_db.count("completed") >= len(pauses), 30, "the latency jobs", group=group)
        latencies = bench_db.wake_latencies_ms("bench_noop")
        time.sleep(settle)
        pids = [proc.pid for proc in procs]
        total, per = benchlib.idle_cpu_percent(pids, idle_seconds)
        rss = max(benchlib.peak_rss_mb(pid) for pid in pids)
        group.stop()
        return Result("shopqueue", latencies, total, per, "3 workers", rss, group.count_in_logs(benchlib.LOCKED))


def run_huey(pauses: list[float], *, settle: float, idle_seconds: float, keep: bool) -> Result:
    with benchlib.workdir("latency-huey", keep) as tmp, benchlib.processes(tmp) as group:
        files = huey_app.HueyFiles.under(tmp, "default")
        consumer = group.spawn("huey", files.consumer_args(WORKERS), files.env(), stop_signal=2)
        benchlib.wait_until(
            lambda: len(benchlib.children_of(consumer.pid)) >= WORKERS, 30, "huey's workers", group=group
        )
        time.sleep(settle)
        with huey_app.bound(files) as (_, deliver):
            for i, pause in enumerate(pauses):
                time.sleep(pause)
                deliver(f"wake:{i}", time.time())
        benchlib.wait_until(lambda: files.sink_count() >= len(pauses), 60, "huey's deliveries", group=group)
        latencies = [(started - enqueued) * 1000 for _, enqueued, started, _, _, _ in files.sink_rows() if enqueued]
        time.sleep(settle)
        children = benchlib.children_of(consumer.pid)
        total, per = benchlib.idle_cpu_percent([*children, consumer.pid], idle_seconds)
        rss = max(benchlib.peak_rss_mb(pid) for pid in children)
        group.stop()
        return Result("huey as shipped", latencies, total, per, "3 workers, then the consumer", rss)


def figures(ours: Result, peer: Result) -> list[Figure]:
    result = []
    for q, target in ((50, 5.0), (95, None), (99, 20.0)):
        result.append(
            Figure(
                f"6. wake-up (enqueue -> start) p{q}, ms, low load vs huey defaults",
                f"{ours.p(q):.1f}",
                f"{peer.p(q):.1f}",
                benchlib.ratio(ours.p(q), peer.p(q)),
                "-" if target is None else f"<= {target:g} ms",
                benchlib.met(None if target is None else ours.p(q) <= target),
            )
        )
    mean_ours = ours.idle_total_pct / len(ours.idle_per_process_pct)
    mean_peer = peer.idle_total_pct / len(peer.idle_per_process_pct)
    worst = max(ours.idle_per_process_pct)
    result.append(
        Figure(
            "6. CPU of one idle worker, % of a core (mean of 3; worst) vs a huey process",
            f"{mean_ours:.2f} (worst {worst:.2f})",
            f"{mean_peer:.2f}",
            benchlib.ratio(mean_ours, mean_peer),
            "< 1 %",
            benchlib.met(worst < 1.0),
        )
    )
    result.append(
        Figure(
            "9. peak RSS of an idle worker, MB vs a huey worker process",
            f"{ours.rss_mb:.1f}",
            f"{peer.rss_mb:.1f}",
            benchlib.ratio(ours.rss_mb, peer.rss_mb),
            "<= 80 MB",
            benchlib.met(ours.rss_mb <= 80),
        )
    )
    return result


def main() -> int:
    parser = benchlib.parser(__doc__)
    parser.add_argument("--jobs", type=int, default=100, help="jobs M enqueued one at a time (default 100)")
    parser.add_argument("--settle", type=float, default=2.0, help="idle seconds before measuring (default 2)")
    parser.add_argument("--idle-seconds", type=float, default=10.0, help="idle CPU window (default 10)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the 100-200 ms gaps (default 1)")
    args = parser.parse_args()
    jobs = min(args.jobs, 40) if args.quick else args.jobs
    idle_seconds = min(args.idle_seconds, 5.0) if args.quick else args.idle_seconds
    benchlib.header(
        "latency.py (figures 6, 9 idle worker)",
        args,
        {
            "jobs M": f"{jobs}, one every 100-200 ms (seed {args.seed}), each in its own transaction",
            "idle processes": f"{WORKERS} workers (ours: python -m worker {' '.join(benchlib.WORKER_ARGS)}, "
            f"default settings; huey: huey_consumer -k process -w {WORKERS}, defaults, as shipped)",
            "settle": f"{args.settle:g} s idle before the first job and before the CPU window",
            "idle CPU window": f"{idle_seconds:g} s",
        },
    )
    pauses = gaps(jobs, args.seed)
    ours = run_ours(pauses, settle=args.settle, idle_seconds=idle_seconds, backend=args.backend, keep=args.keep)
    print("  done: shopqueue", flush=True)
    peer = run_huey(pauses, settle=args.settle, idle_seconds=idle_seconds, keep=args.keep)
    print("  done: huey", flush=True)
    print()
    print("Wake-up latency (enqueue -> job start) at low load, idle CPU, idle peak RSS")
    print(benchlib.table(HEADERS, [ours.row(), peer.row()]))
    print(f"\n  '{benchlib.LOCKED}' in our workers' logs: {ours.locked}")
    benchlib.print_summary(figures(ours, peer), args.summary_json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
