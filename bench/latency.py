"""Wake-up latency of idle workers, shopqueue vs huey's SQLite backend, and the write load idle workers cause.

1. Latency. K idle workers (K=1, then 3) wait on an empty queue; then one job is enqueued every
   100-200 ms (uniformly random), M times. Ours: `python -m worker` processes (defaults:
   WAKE_INTERVAL 0.02 s backing off to 0.05 s between `PRAGMA data_version` checks), a `send_email`
   job enqueued through the real producer, latency = `locked_at` - `created_at` read from the `jobs`
   table (both UTC text with milliseconds, so 1 ms resolution). Peer: `huey_consumer huey_app.huey -w K`
   with huey's defaults (thread workers, polling from 0.1 s with backoff 1.15 up to 10 s, SQLite as
   shipped), latency = the time the task records when it starts - the time taken just before enqueue.
   Prints p50/p95/max and the ratio ours/huey.

2. Idle writes. With 3 of our workers idle, an outside connection reads `PRAGMA data_version` every
   millisecond for --idle-seconds (default 10) and counts its changes (= commits by other connections
   that changed the file). When `strace` is available it is also attached to the workers for the same
   window and counts successful acquisitions of SQLite's WAL write lock (F_WRLCK on byte 120 of the
   `-shm` file), which also catches write transactions that change nothing. The same is then measured
   for 3 naive pollers (bench/naive_poller.py: `BEGIN IMMEDIATE` claim attempt every 1 s, as the
   course's worker does). Heartbeats (every HEARTBEAT_SECONDS = 5 s) are our idle workers' only writes.

Run:  python -m pip install -e '.[test,bench]'  then  python bench/latency.py [--jobs 50]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import signal
import sqlite3
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import benchlib
import huey_app
from benchlib import Processes, query, scalar

from shared.db import Database
from shared.jobs import enqueue


@dataclass
class Latency:
    system: str
    workers: int
    ms: list[float]

    def row(self) -> list[str]:
        values = self.ms
        return [
            self.system,
            str(self.workers),
            str(len(values)),
            f"{benchlib.percentile(values, 50):.1f}",
            f"{benchlib.percentile(values, 95):.1f}",
            f"{max(values):.1f}",
            f"{sum(values) / len(values):.1f}",
        ]


@dataclass
class IdleWrites:
    what: str
    seconds: float
    version_changes: int
    lock_acquisitions: int | None  # None: strace unavailable

    def row(self) -> list[str]:
        locks = "n/a" if self.lock_acquisitions is None else str(self.lock_acquisitions)
        per_s = "n/a" if self.lock_acquisitions is None else f"{self.lock_acquisitions / self.seconds:.2f}"
        return [
            self.what,
            f"{self.seconds:.1f}",
            str(self.version_changes),
            f"{self.version_changes / self.seconds:.2f}",
            locks,
            per_s,
        ]


def gaps(count: int, seed: int) -> list[float]:
    rng = random.Random(seed)
    return [rng.uniform(0.1, 0.2) for _ in range(count)]


# ---- ours --------------------------------------------------------------------------------------


def enqueue_one_by_one(db_path: Path, pauses: Sequence[float]) -> None:
    """One send_email job per transaction through the real producer, with a pause before each."""
    db = Database.from_url(f"sqlite:///{db_path}")
    try:
        with db.read():
            pass  # open the pooled connection before the first timed enqueue
        for i, pause in enumerate(pauses):
            time.sleep(pause)
            with db.write() as session:
                enqueue(session, "send_email", {"to": f"user{i}@example.test", "subject": f"latency {i}"})
    finally:
        db.dispose()


def ours_latency(group: Processes, tmp: Path, workers: int, pauses: Sequence[float], settle: float) -> Latency:
    db_path = tmp / "shop.db"
    benchlib.migrate(db_path)
    benchlib.start_workers(group, db_path, tmp, workers, SIMULATED_FAILURE_RATE="0")
    benchlib.wait_workers_registered(db_path, workers, group)
    time.sleep(settle)
    enqueue_one_by_one(db_path, pauses)
    done = "SELECT COUNT(*) FROM jobs WHERE status = 'completed'"
    benchlib.wait_until(lambda: scalar(db_path, done) >= len(pauses), 30, "latency jobs", group=group)
    rows = query(db_path, "SELECT (julianday(locked_at) - julianday(created_at)) * 86400000 FROM jobs")
    return Latency("shopqueue", workers, [float(ms) for (ms,) in rows])


# ---- peer: huey --------------------------------------------------------------------------------


def huey_latency(group: Processes, tmp: Path, workers: int, pauses: Sequence[float], settle: float) -> Latency:
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "TMPDIR") if key in os.environ}
    env.update(
        PYTHONPATH=str(benchlib.BENCH_DIR),
        PYTHONUNBUFFERED="1",
        HUEY_BENCH_QUEUE=str(tmp / "huey.db"),
        HUEY_BENCH_SINK=str(tmp / "sink.db"),
        HUEY_BENCH_SYNC="default",
    )
    sink = tmp / "sink.db"
    huey_app.init_sink(sink)
    instance, deliver = huey_app.bind(env["HUEY_BENCH_QUEUE"], "default")
    consumer = group.spawn(
        f"huey-w{workers}",
        [sys.executable, "-m", "huey.bin.huey_consumer", "huey_app.huey", "-w", str(workers)],
        env,
        tmp,
        stop_signal=signal.SIGINT,
    )
    benchlib.wait_until(lambda: "consumer started" in consumer.log_tail(), 30, "huey consumer", group=group)
    time.sleep(settle)
    for i, pause in enumerate(pauses):
        time.sleep(pause)
        deliver(f"email:{i}", time.time())
    count = "SELECT COUNT(*) FROM deliveries"
    benchlib.wait_until(lambda: scalar(sink, count) >= len(pauses), 60, "huey deliveries", group=group)
    instance.storage.close()
    rows = query(sink, "SELECT (started_at - enqueued_at) * 1000 FROM deliveries")
    return Latency("huey (defaults)", workers, [float(ms) for (ms,) in rows])


# ---- idle writes -------------------------------------------------------------------------------


def count_version_changes(db_path: Path, seconds: float) -> int:
    """An outside connection reads PRAGMA data_version every ~1 ms and counts how often it changes."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        last = conn.execute("PRAGMA data_version").fetchone()[0]
        changes = 0
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            current = conn.execute("PRAGMA data_version").fetchone()[0]
            if current != last:
                changes += 1
                last = current
            time.sleep(0.001)
        return changes
    finally:
        conn.close()


def observe_idle(
    what: str, *, db_path: Path, group: Processes, tmp: Path, pids: list[int], seconds: float
) -> IdleWrites:
    """data_version changes seen from outside, and (with strace) write-lock acquisitions of `pids`."""
    tracer = benchlib.LockTracer(group, pids, tmp) if benchlib.strace_available() else None
    start = time.time()
    changes = count_version_changes(db_path, seconds)
    end = time.time()
    if tracer is None:
        return IdleWrites(what, end - start, changes, None)
    locks = sum(stats.acquired for stats in tracer.stop(start, end))
    return IdleWrites(what, end - start, changes, locks)


def naive_idle(group: Processes, db_path: Path, tmp: Path, *, count: int, seconds: float, settle: float) -> IdleWrites:
    pollers = [
        group.spawn(
            f"naive-{i}",
            [sys.executable, str(benchlib.BENCH_DIR / "naive_poller.py"), str(db_path), "--interval", "1.0"],
            benchlib.base_env(db_path),
            tmp,
        )
        for i in range(count)
    ]
    time.sleep(settle)
    pids = [p.pid for p in pollers]
    result = observe_idle(
        f"{count} naive pollers (1 s)", db_path=db_path, group=group, tmp=tmp, pids=pids, seconds=seconds
    )
    for poller in pollers:
        poller.stop()
    return result


# ---- main --------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=50, help="jobs M enqueued one by one (default 50)")
    parser.add_argument("--workers", type=int, default=3, help="idle workers in the second round (default 3)")
    parser.add_argument("--settle", type=float, default=2.0, help="idle seconds before the first job (default 2)")
    parser.add_argument("--idle-seconds", type=float, default=10.0, help="idle observation window (default 10)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the 100-200 ms gaps (default 1)")
    parser.add_argument("--keep", action="store_true", help="keep the temp dirs (databases and logs)")
    args = parser.parse_args()

    print(f"latency: M={args.jobs}, K in {sorted({1, args.workers})}; {benchlib.machine()}")
    pauses = gaps(args.jobs, args.seed)
    latencies: list[Latency] = []
    idle: list[IdleWrites] = []
    for workers in sorted({1, args.workers}):
        with benchlib.workdir(f"lat-ours-k{workers}", args.keep) as tmp, benchlib.processes() as group:
            latencies.append(ours_latency(group, tmp, workers, pauses, args.settle))
            print(f"  done: shopqueue K={workers}")
            if workers == args.workers:
                db_path = tmp / "shop.db"
                pids = [p.pid for p in group.procs]
                what = f"{workers} idle shopqueue workers"
                idle.append(
                    observe_idle(what, db_path=db_path, group=group, tmp=tmp, pids=pids, seconds=args.idle_seconds)
                )
                group.stop_all()
                idle.append(
                    naive_idle(group, db_path, tmp, count=workers, seconds=args.idle_seconds, settle=args.settle)
                )
                print("  done: idle writes")
        with benchlib.workdir(f"lat-huey-k{workers}", args.keep) as tmp, benchlib.processes() as group:
            latencies.append(huey_latency(group, tmp, workers, pauses, args.settle))
            print(f"  done: huey K={workers}")

    print()
    print("Wake-up latency, ms (job start - enqueue)")
    print(benchlib.table(["system", "K", "jobs", "p50", "p95", "max", "mean"], [lat.row() for lat in latencies]))
    print()
    by_key = {(lat.system, lat.workers): lat.ms for lat in latencies}
    for workers in sorted({1, args.workers}):
        ours, peer = by_key[("shopqueue", workers)], by_key[("huey (defaults)", workers)]
        parts = [
            f"{name} {benchlib.ratio(benchlib.percentile(ours, p), benchlib.percentile(peer, p))}"
            for name, p in (("p50", 50), ("p95", 95), ("max", 100))
        ]
        print(f"  ratio ours/huey, K={workers}: " + ", ".join(parts) + "  (below 1 = ours wakes faster)")
    print()
    print("Write transactions while idle (outside observer)")
    print(
        benchlib.table(
            ["idle processes", "window s", "data_version changes", "per s", "write-lock acquisitions", "per s"],
            [item.row() for item in idle],
        )
    )
    with contextlib.suppress(ZeroDivisionError, TypeError):
        ours_locks, naive_locks = idle[0].lock_acquisitions, idle[1].lock_acquisitions
        if ours_locks is not None and naive_locks is not None:
            print(f"\n  write-lock acquisitions, ours/naive: {benchlib.ratio(ours_locks, naive_locks)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
