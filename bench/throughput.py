"""Throughput: N queued jobs drained by K worker processes, shopqueue vs huey's SQLite backend.

Ours: N `send_email` jobs (payload {to, subject}) are enqueued in one transaction into a file migrated
by `alembic upgrade head`; then K `python -m worker` processes start (SIMULATED_LATENCY_SCALE=0,
SIMULATED_FAILURE_RATE=0, every other setting at its default) and the clock runs from their start
until the `jobs` table shows N `completed` rows (polled every 50 ms). Each job is the real handler: a
read of `processed_jobs`, one simulated email-provider call that records a row in
`provider_deliveries` (its own write transaction), then the fenced completion (second write).
We also report the span from the first job's `locked_at` to the last `completed_at`, read from the
table, which leaves out process start-up.

Peer: huey (`SqliteHuey`-style storage, its own file), task `deliver` in bench/huey_app.py doing
the equivalent provider call: one `BEGIN IMMEDIATE` insert (key unique) into a table in a separate
SQLite file. N tasks are enqueued before the consumer starts; then one `huey_consumer -k process -w K`
(or, with --huey-mode consumers, K consumers with `-w 1`) runs until N rows exist (polled every 50 ms).
huey runs twice: as shipped (WAL, synchronous=FULL: one fsync per dequeue) and with
synchronous=NORMAL, which is what shopqueue uses.

Both sides report whether every job was delivered exactly once (rows, distinct keys, repeated calls).

Run:  python -m pip install -e '.[test,bench]'  then  python bench/throughput.py [--jobs 3000 --workers 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import benchlib
import huey_app
from benchlib import Processes, query, scalar

from shared.db import Database
from shared.jobs import enqueue


@dataclass
class Result:
    system: str
    workers: int
    jobs: int
    wall_s: float  # from process start to N done
    span_s: float  # first job start to last job end, from the rows themselves
    rows: int
    distinct: int
    repeats: int
    cpu_s: float = float("nan")  # user+sys CPU of the worker/consumer processes, start-up included
    extra: str = ""

    @property
    def rate(self) -> float:
        return self.jobs / self.wall_s

    @property
    def span_rate(self) -> float:
        return self.jobs / self.span_s if self.span_s > 0 else float("nan")

    @property
    def exactly_once(self) -> bool:
        return self.rows == self.jobs and self.distinct == self.jobs and self.repeats == 0


def children_cpu() -> float:
    """user+sys seconds of every terminated, waited-for child (and their waited-for children)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# ---- ours --------------------------------------------------------------------------------------


def enqueue_emails(db_path: Path, count: int) -> float:
    """N send_email jobs in one write transaction through the real producer; returns seconds taken."""
    db = Database.from_url(f"sqlite:///{db_path}")
    try:
        start = time.perf_counter()
        with db.write() as session:
            for i in range(count):
                enqueue(session, "send_email", {"to": f"user{i}@example.test", "subject": f"bench {i}"})
        return time.perf_counter() - start
    finally:
        db.dispose()


def run_ours(*, jobs: int, workers: int, timeout: float, keep: bool, worker_env: dict[str, str]) -> Result:
    with benchlib.workdir(f"ours-k{workers}", keep) as tmp, benchlib.processes() as group:
        db_path = tmp / "shop.db"
        benchlib.migrate(db_path)
        enqueue_s = enqueue_emails(db_path, jobs)
        cpu0 = children_cpu()
        start = time.monotonic()
        benchlib.start_workers(group, db_path, tmp, workers, **{"SIMULATED_FAILURE_RATE": "0", **worker_env})
        done_sql = "SELECT COUNT(*) FROM jobs WHERE status = 'completed'"
        benchlib.wait_until(lambda: scalar(db_path, done_sql) >= jobs, timeout, f"{jobs} completed jobs", group=group)
        wall = time.monotonic() - start
        group.stop_all()
        cpu = children_cpu() - cpu0
        span = scalar(db_path, "SELECT (julianday(MAX(completed_at)) - julianday(MIN(locked_at))) * 86400 FROM jobs")
        rows, distinct, repeats = query(
            db_path,
            "SELECT COUNT(*), COUNT(DISTINCT idempotency_key), COALESCE(SUM(repeat_calls), 0) "
            "FROM provider_deliveries WHERE provider = 'email'",
        )[0]
        retried = scalar(db_path, "SELECT COUNT(*) FROM jobs WHERE attempts > 1")
        shares = sorted(c for (c,) in query(db_path, "SELECT COUNT(*) FROM jobs GROUP BY locked_by"))
        return Result(
            "shopqueue",
            workers,
            jobs,
            wall,
            float(span),
            rows,
            distinct,
            repeats,
            cpu,
            f"enqueue {enqueue_s:.2f} s (1 txn); jobs per worker {shares}; retried {retried}",
        )


# ---- peer: huey --------------------------------------------------------------------------------


def huey_env(tmp: Path, sync: str) -> dict[str, str]:
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "TMPDIR") if key in os.environ}
    env.update(
        PYTHONPATH=str(benchlib.BENCH_DIR),
        PYTHONUNBUFFERED="1",
        HUEY_BENCH_QUEUE=str(tmp / "huey.db"),
        HUEY_BENCH_SINK=str(tmp / "sink.db"),
        HUEY_BENCH_SYNC=sync,
    )
    return env


def huey_enqueue(env: dict[str, str], jobs: int) -> float:
    """Enqueue N tasks with huey's own API (one commit each: huey has no batch enqueue)."""
    huey_app.init_sink(Path(env["HUEY_BENCH_SINK"]))
    instance, deliver = huey_app.bind(env["HUEY_BENCH_QUEUE"], env["HUEY_BENCH_SYNC"])
    start = time.perf_counter()
    for i in range(jobs):
        deliver(f"email:{i}")
    elapsed = time.perf_counter() - start
    instance.storage.close()
    return elapsed


def start_huey(group: Processes, tmp: Path, env: dict[str, str], workers: int, mode: str) -> None:
    consumer = [sys.executable, "-m", "huey.bin.huey_consumer", "huey_app.huey"]
    if mode == "process":
        group.spawn("huey", [*consumer, "-k", "process", "-w", str(workers)], env, tmp, stop_signal=signal.SIGINT)
    else:
        for i in range(workers):
            group.spawn(f"huey-{i}", [*consumer, "-w", "1"], env, tmp, stop_signal=signal.SIGINT)


def run_huey(*, jobs: int, workers: int, mode: str, sync: str, timeout: float, keep: bool) -> Result:
    with benchlib.workdir(f"huey-k{workers}", keep) as tmp, benchlib.processes() as group:
        env = huey_env(tmp, sync)
        enqueue_s = huey_enqueue(env, jobs)
        sink = tmp / "sink.db"
        cpu0 = children_cpu()
        start = time.monotonic()
        start_huey(group, tmp, env, workers, mode)
        count_sql = "SELECT COUNT(*) FROM deliveries"
        benchlib.wait_until(lambda: scalar(sink, count_sql) >= jobs, timeout, f"{jobs} huey deliveries", group=group)
        wall = time.monotonic() - start
        group.stop_all()
        cpu = children_cpu() - cpu0
        rows, distinct, repeats, span = query(
            sink,
            "SELECT COUNT(*), COUNT(DISTINCT key), SUM(repeat_calls), MAX(finished_at) - MIN(started_at) "
            "FROM deliveries",
        )[0]
        left = scalar(tmp / "huey.db", "SELECT COUNT(*) FROM task")
        shape = f"-k process -w {workers}" if mode == "process" else f"{workers} x -w 1"
        return Result(
            f"huey ({sync} sync)",
            workers,
            jobs,
            wall,
            float(span),
            rows,
            distinct,
            repeats,
            cpu,
            f"consumer {shape}; enqueue {enqueue_s:.2f} s ({jobs} commits); tasks left in queue {left}",
        )


# ---- report ------------------------------------------------------------------------------------


def report(results: list[Result]) -> None:
    print()
    print(
        benchlib.table(
            ["system", "K", "N", "wall s", "jobs/s (wall)", "span s", "jobs/s (span)", "CPU ms/job", "exactly once"],
            [
                [
                    r.system,
                    r.workers,
                    r.jobs,
                    f"{r.wall_s:.2f}",
                    f"{r.rate:.0f}",
                    f"{r.span_s:.2f}",
                    f"{r.span_rate:.0f}",
                    f"{1000 * r.cpu_s / r.jobs:.2f}",
                    f"{'yes' if r.exactly_once else 'NO'} ({r.rows} rows, {r.distinct} keys, {r.repeats} repeats)",
                ]
                for r in results
            ],
        )
    )
    print()
    for r in results:
        print(f"  {r.system}, K={r.workers}: {r.extra}")
    print()
    ours = {r.workers: r for r in results if r.system == "shopqueue"}
    for peer in (r for r in results if r.system != "shopqueue"):
        mine = ours.get(peer.workers)
        if mine is not None:
            print(
                f"  ratio ours/{peer.system}, K={peer.workers}: wall {benchlib.ratio(mine.rate, peer.rate)}, "
                f"span {benchlib.ratio(mine.span_rate, peer.span_rate)}"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=3000, help="jobs per run (default 3000)")
    parser.add_argument("--workers", type=int, default=3, help="worker processes K (default 3; K=1 is also run)")
    parser.add_argument(
        "--huey-mode",
        choices=["process", "consumers"],
        default="process",
        help="one huey_consumer -k process -w K (default), or K consumers with -w 1",
    )
    parser.add_argument(
        "--huey-sync",
        choices=["both", "default", "normal"],
        default="both",
        help="huey's synchronous setting: as shipped (FULL), NORMAL like ours, or both (default)",
    )
    parser.add_argument(
        "--worker-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra setting for our workers, e.g. WORKER_CONCURRENCY=1 (repeatable; default: none)",
    )
    parser.add_argument("--skip-huey", action="store_true", help="run only our side")
    parser.add_argument("--timeout", type=float, default=120, help="give up a run after this many s (default 120)")
    parser.add_argument("--keep", action="store_true", help="keep the temp dirs (databases and logs)")
    args = parser.parse_args()

    print(f"throughput: N={args.jobs}, K in {sorted({1, args.workers})}; {benchlib.machine()}")
    worker_env = benchlib.parse_env(args.worker_env)
    if worker_env:
        print(f"  our workers run with {worker_env}")
    syncs = ["default", "normal"] if args.huey_sync == "both" else [args.huey_sync]
    if args.skip_huey:
        syncs = []
    results: list[Result] = []
    for workers in sorted({1, args.workers}):
        results.append(
            run_ours(jobs=args.jobs, workers=workers, timeout=args.timeout, keep=args.keep, worker_env=worker_env)
        )
        print(f"  done: shopqueue K={workers}: {results[-1].rate:.0f} jobs/s")
        for sync in syncs:
            results.append(
                run_huey(
                    jobs=args.jobs,
                    workers=workers,
                    mode=args.huey_mode,
                    sync=sync,
                    timeout=args.timeout,
                    keep=args.keep,
                )
            )
            print(f"  done: huey ({sync}) K={workers}: {results[-1].rate:.0f} jobs/s")
    report(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
