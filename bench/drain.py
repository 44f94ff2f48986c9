"""Figures 1, 2 and 9 (worker): drain a backlog of N jobs with K worker processes, shopqueue vs huey.

Kinds of job (both sides do the same work):

- noop: our `bench_noop` type (bench/noop_jobs.py, loaded with the worker's `--jobs bench.noop_jobs`),
  whose handler does nothing, against huey's `noop` task (huey_app.py). This measures the queues alone.
- email: our shop's `send_email` job with its provider effect (one delivery recorded under its key in
  the simulated provider's own database, `provider_deliveries`), against huey's `deliver` task doing
  the same effect (one `BEGIN IMMEDIATE` insert under a unique key into a separate SQLite file).

Each run: a fresh database, N jobs enqueued first (ours: `enqueue_many` in one transaction; huey: its
own `enqueue`, one commit each), then the clock starts and K processes start: K x
`python -m worker --jobs bench.noop_jobs --jobs shared.shop.jobs` (SIMULATED_LATENCY_SCALE=0,
SIMULATED_FAILURE_RATE=0, every other setting at its default), or one
`huey_consumer huey_app.huey -k process -w K`. huey runs twice: as shipped (synchronous=FULL) and with
synchronous=NORMAL, as we run SQLite (the like-for-like comparison).

Columns:
- wall: from starting the processes to the last job's end (from the rows: our `completed_at`, huey's
  recorded end), so process start-up is included;
- span: first job start -> last job end, from the same records (start-up left out);
- CPU/job: user+sys CPU of every worker process (huey: the consumer and its worker processes) from
  each process's first job to the end, sampled from /proc every 10 ms, divided by N; "incl. start-up"
  counts from process start;
- peak RSS: the largest VmHWM among the processes (figure 9: a worker's peak);
- exactly once: ours, every job completed in exactly one attempt with no failure recorded (email: the
  provider holds N deliveries under N keys, 0 repeated calls); huey, the tallies count N runs and the
  queue is empty (email: N sink rows, N keys, 0 repeated calls).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import benchlib
import huey_app
from benchlib import CpuSampler, Figure, Processes

KINDS = {"noop": "bench_noop", "email": "send_email"}


@dataclass
class Run:
    system: str
    kind: str
    workers: int
    jobs: int
    wall_s: float
    span_s: float
    cpu_span_s: float
    cpu_total_s: float
    rss_mb: float
    correct: bool
    detail: str
    enqueue_s: float
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.jobs / self.wall_s if self.wall_s > 0 else float("nan")

    @property
    def span_rate(self) -> float:
        return self.jobs / self.span_s if self.span_s > 0 else float("nan")

    def row(self) -> list[str]:
        return [
            self.system,
            str(self.workers),
            f"{self.jobs:,}",
            f"{self.wall_s:.2f}",
            benchlib.fmt(self.rate),
            f"{self.span_s:.2f}",
            benchlib.fmt(self.span_rate),
            f"{1e6 * self.cpu_span_s / self.jobs:.0f}",
            f"{1e6 * self.cpu_total_s / self.jobs:.0f}",
            f"{self.rss_mb:.1f}",
            f"{'yes' if self.correct else 'NO'} ({self.detail})",
        ]


HEADERS = [
    "system",
    "K",
    "N",
    "wall s",
    "jobs/s (wall)",
    "span s",
    "jobs/s (span)",
    "CPU us/job",
    "CPU us/job incl. start-up",
    "peak RSS MB",
    "exactly once",
]


def payloads(kind: str, count: int) -> list[dict[str, object]]:
    if kind == "noop":
        return [{"n": i} for i in range(count)]
    return [{"to": f"user{i}@example.test", "subject": f"bench {i}"} for i in range(count)]


def wait_done(done: Callable[[], bool], group: Processes, timeout: float) -> None:
    benchlib.wait_until(done, timeout, "the drain", interval=0.02, group=group)


# ---- ours --------------------------------------------------------------------------------------


def run_ours(kind: str, workers: int, *, jobs: int, timeout: float, backend: str, keep: bool) -> Run:
    with (
        benchlib.workdir(f"drain-ours-{kind}-k{workers}", keep) as tmp,
        benchlib.database(backend, tmp) as bench_db,
        benchlib.processes(tmp) as group,
    ):
        start = time.perf_counter()
        bench_db.enqueue_bulk(KINDS[kind], payloads(kind, jobs), chunk=jobs)
        enqueue_s = time.perf_counter() - start
        began = time.time()
        procs = benchlib.start_workers(group, bench_db, workers)
        pids = [proc.pid for proc in procs]
        with CpuSampler(lambda: pids) as sampler:
            wait_done(lambda: bench_db.count("completed") >= jobs, group, timeout)
            sampler.sample()
        rss = max(benchlib.peak_rss_mb(pid) for pid in pids)
        locked = 0
        group.stop()
        locked = group.count_in_logs(benchlib.LOCKED)
        rows = bench_db.drain_summary()
        assert rows.first_start is not None
        assert rows.last_end is not None
        firsts = {
            int(worker.rsplit(":", 2)[1]): moment.timestamp() for worker, moment in rows.first_start_by_worker.items()
        }
        cpu_span = sum(sampler.last(pid) - sampler.at(pid, firsts.get(pid, began)) for pid in pids)
        cpu_total = sum(sampler.last(pid) for pid in pids)
        correct = rows.completed == jobs and rows.repeated == 0 and rows.failures == 0
        detail = f"{rows.completed} completed, {rows.repeated} retried, {rows.failures} failures"
        if kind == "email":
            delivered = bench_db.deliveries("email")
            correct = correct and delivered.exactly(jobs)
            detail += f"; provider {delivered.rows} rows, {delivered.keys} keys, {delivered.repeats} repeats"
        if locked:
            detail += f"; {locked} x '{benchlib.LOCKED}' in logs"
        return Run(
            "shopqueue",
            kind,
            workers,
            jobs,
            rows.last_end.timestamp() - began,
            (rows.last_end - rows.first_start).total_seconds(),
            cpu_span,
            cpu_total,
            rss,
            correct,
            detail,
            enqueue_s,
        )


# ---- huey --------------------------------------------------------------------------------------


def run_huey(kind: str, workers: int, *, jobs: int, sync: str, timeout: float, keep: bool) -> Run:
    with benchlib.workdir(f"drain-huey-{sync}-{kind}-k{workers}", keep) as tmp, benchlib.processes(tmp) as group:
        files = huey_app.HueyFiles.under(tmp, sync)
        start = time.perf_counter()
        with huey_app.bound(files) as (noop, deliver):
            for i in range(jobs):
                if kind == "noop":
                    noop(i)
                else:
                    deliver(f"email:{i}")
        enqueue_s = time.perf_counter() - start
        began = time.time()
        consumer = group.spawn("huey", files.consumer_args(workers), files.env(), stop_signal=2)
        seen: set[int] = set()

        def tree() -> list[int]:
            pids = benchlib.process_tree(consumer.pid)
            seen.update(pids)
            return sorted(seen)

        def done() -> bool:
            if kind == "noop":
                return sum(count for _, _, count in files.tallies().values()) >= jobs
            return files.sink_count() >= jobs

        with CpuSampler(tree) as sampler:
            wait_done(done, group, timeout)
            sampler.sample()
        pids = tree()
        rss = max(benchlib.peak_rss_mb(pid) for pid in pids)
        group.stop()
        firsts: dict[int, float] = {}
        if kind == "noop":
            tallies = files.tallies()
            first = min(t[0] for t in tallies.values())
            last = max(t[1] for t in tallies.values())
            runs = sum(t[2] for t in tallies.values())
            firsts = {pid: t[0] for pid, t in tallies.items()}
            left = files.queue_left()
            correct = runs == jobs and left == 0
            detail = f"{runs} runs, {left} left in queue"
        else:
            rows = files.sink_rows()
            first = min(r[2] for r in rows)
            last = max(r[3] for r in rows)
            for _, _, started, _, pid, _ in rows:
                firsts[pid] = min(firsts.get(pid, started), started)
            keys = len({r[0] for r in rows})
            repeats = sum(r[5] for r in rows)
            correct = len(rows) == jobs and keys == jobs and repeats == 0
            detail = f"{len(rows)} rows, {keys} keys, {repeats} repeats"
        cpu_span = sum(sampler.last(pid) - sampler.at(pid, firsts.get(pid, first)) for pid in pids)
        cpu_total = sum(sampler.last(pid) for pid in pids)
        label = "huey as shipped" if sync == "default" else "huey NORMAL"
        return Run(
            label, kind, workers, jobs, last - began, last - first, cpu_span, cpu_total, rss, correct, detail, enqueue_s
        )


# ---- report ------------------------------------------------------------------------------------


def figures(runs: list[Run]) -> list[Figure]:
    result: list[Figure] = []
    ours = {(r.kind, r.workers): r for r in runs if r.system == "shopqueue"}
    for peer in runs:
        if peer.system == "shopqueue" or (peer.kind, peer.workers) not in ours:
            continue
        mine = ours[(peer.kind, peer.workers)]
        share = mine.span_rate / peer.span_rate
        number = "1" if peer.kind == "noop" else "2"
        what = "no-op" if peer.kind == "noop" else "send_email + provider effect"
        if peer.kind == "noop":
            want = 1.5
            target = f">= {want}x huey" + (" and >= 15,000 jobs/s" if peer.workers == 3 else "")
            ok = share >= want and (peer.workers != 3 or mine.span_rate >= 15_000)
        else:
            want = 1.0
            target = ">= 1x huey"
            ok = share >= want
        if peer.system == "huey as shipped":
            target, ok_text = "(reference)", "-"
        else:
            ok_text = benchlib.met(ok)
        result.append(
            Figure(
                f"{number}. drain {mine.jobs:,} {what}, {peer.workers} worker{'s' if peer.workers > 1 else ''}, "
                f"jobs/s span (wall) vs {peer.system}",
                f"{benchlib.fmt(mine.span_rate)} ({benchlib.fmt(mine.rate)})",
                f"{benchlib.fmt(peer.span_rate)} ({benchlib.fmt(peer.rate)})",
                benchlib.ratio(mine.span_rate, peer.span_rate),
                target,
                ok_text,
            )
        )
    for kind in KINDS:
        for workers in sorted({w for (k, w) in ours if k == kind}):
            mine = ours[(kind, workers)]
            peers = [r for r in runs if r.system == "huey NORMAL" and r.kind == kind and r.workers == workers]
            if peers:
                peer = peers[0]
                result.append(
                    Figure(
                        f"{'1' if kind == 'noop' else '2'}. CPU us per job, {kind}, {workers} worker(s) vs huey NORMAL",
                        f"{1e6 * mine.cpu_span_s / mine.jobs:.0f}",
                        f"{1e6 * peer.cpu_span_s / peer.jobs:.0f}",
                        benchlib.ratio(mine.cpu_span_s, peer.cpu_span_s),
                        "-",
                        "-",
                    )
                )
    busiest = [r for r in runs if r.kind == "email"] or runs
    mine_rss = max((r.rss_mb for r in busiest if r.system == "shopqueue"), default=float("nan"))
    peer_rss = max((r.rss_mb for r in busiest if r.system == "huey NORMAL"), default=float("nan"))
    result.append(
        Figure(
            "9. peak RSS of a worker process, MB (send_email drain) vs a huey process",
            f"{mine_rss:.1f}",
            f"{peer_rss:.1f}",
            benchlib.ratio(mine_rss, peer_rss),
            "<= 80 MB",
            benchlib.met(mine_rss <= 80),
        )
    )
    return result


def main() -> int:
    parser = benchlib.parser(__doc__)
    parser.add_argument("--jobs", type=int, default=20_000, help="jobs N per run (default 20,000)")
    parser.add_argument("--workers", default="1,3", help="worker process counts K, comma-separated (default 1,3)")
    parser.add_argument("--kinds", default="noop,email", help="job kinds: noop, email (default both)")
    parser.add_argument(
        "--huey-sync",
        choices=["both", *huey_app.SYNC_CHOICES],
        default="both",
        help="huey as shipped (default = synchronous FULL), NORMAL like ours, or both (default)",
    )
    parser.add_argument("--timeout", type=float, default=300, help="give up a run after this many s (default 300)")
    args = parser.parse_args()
    worker_counts = [3] if args.quick else sorted({int(k) for k in args.workers.split(",")})
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    for kind in kinds:
        if kind not in KINDS:
            parser.error(f"unknown kind {kind!r}")
    syncs = list(huey_app.SYNC_CHOICES) if args.huey_sync == "both" else [args.huey_sync]
    benchlib.header(
        "drain.py (figures 1, 2, 9)",
        args,
        {
            "jobs per run N": f"{args.jobs:,}",
            "worker processes K": worker_counts,
            "kinds": ", ".join(f"{k} (ours: {KINDS[k]}; huey: {'noop' if k == 'noop' else 'deliver'})" for k in kinds),
            "our workers": "python -m worker "
            + " ".join(benchlib.WORKER_ARGS)
            + "; SIMULATED_LATENCY_SCALE=0, SIMULATED_FAILURE_RATE=0, other settings default "
            "(WORKER_CONCURRENCY=10, CLAIM_BATCH=64, PREFETCH=0)",
            "huey": "huey_consumer huey_app.huey -k process -w K; storage SqliteStorage, " + " and ".join(syncs),
            "our enqueue": "enqueue_many, one transaction; huey: enqueue one task per commit (client at NORMAL)",
        },
    )
    runs: list[Run] = []
    for kind in kinds:
        for workers in worker_counts:
            run = run_ours(kind, workers, jobs=args.jobs, timeout=args.timeout, backend=args.backend, keep=args.keep)
            runs.append(run)
            print(f"  done: shopqueue {kind} K={workers}: {run.span_rate:,.0f} jobs/s (span)", flush=True)
            for sync in syncs:
                run = run_huey(kind, workers, jobs=args.jobs, sync=sync, timeout=args.timeout, keep=args.keep)
                runs.append(run)
                print(f"  done: {run.system} {kind} K={workers}: {run.span_rate:,.0f} jobs/s (span)", flush=True)
    for kind in kinds:
        print()
        print(f"Drain of {args.jobs:,} {kind} jobs")
        print(benchlib.table(HEADERS, [r.row() for r in runs if r.kind == kind]))
        print()
        for run in (r for r in runs if r.kind == kind):
            print(f"  {run.system}, K={run.workers}: enqueue {run.enqueue_s:.2f} s")
        ours = {r.workers: r for r in runs if r.kind == kind and r.system == "shopqueue"}
        for peer in (r for r in runs if r.kind == kind and r.system != "shopqueue"):
            mine = ours[peer.workers]
            print(
                f"  ratio ours/{peer.system}, K={peer.workers}: span {benchlib.ratio(mine.span_rate, peer.span_rate)}, "
                f"wall {benchlib.ratio(mine.rate, peer.rate)}, CPU per job "
                f"{benchlib.ratio(mine.cpu_span_s, peer.cpu_span_s)}"
            )
    benchlib.print_summary(figures(runs), args.summary_json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
