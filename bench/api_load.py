"""Figures 7 and 9 (API): POST /orders under a real load generator, alone and while workers drain a backlog.

Every phase runs a real `python -m api` (uvicorn, one process) on a fresh database migrated by
`alembic upgrade head`, with product stock raised first. The body is one item of prod-1.

1. Alone, SIMULATED_LATENCY_SCALE=0 (no payment delay):
   - fixed rate: `hey -z D -c 10 -q 5` = 50 orders/s; p50/p99/max from hey's per-request CSV;
   - saturation: `wrk -t 2 -c 32 -d D --latency -s post.lua`: orders/s, p50/p99/max.
2. While 3 workers drain a 50,000-job backlog (same settings): 50,000 `send_email` jobs are enqueued,
   3 `python -m worker` processes start (defaults), and as soon as they have registered the load
   starts; it is stopped (SIGINT: both tools still report) the moment no backlog job is pending, so
   every request counted was served while the workers drained. The fixed-rate run and the saturation
   run each get their own fresh backlog. The workers also run the orders' own jobs.
3. Default settings (SIMULATED_LATENCY_SCALE=1: the payment takes 200 ms): `wrk -c 64` saturation,
   alone: orders/s and p50. 64 clients each waiting 200 ms cap the rate at 320 orders/s (the peer).

Errors: non-2xx responses and socket errors/timeouts reported by the tools, and every
"database is locked" in the API's and workers' logs. Peak RSS (VmHWM) of the API is read at the end
of each phase (figure 9).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import benchlib
from benchlib import BenchDatabase, Figure, Load, Proc, Processes

BACKLOG_TYPE = "send_email"
FIXED_CLIENTS, FIXED_PER_CLIENT = 10, 5.0  # 50 orders/s
SATURATION_CLIENTS = 32
DEFAULT_CLIENTS = 64


@dataclass
class Phase:
    name: str
    load: Load
    note: str = ""

    def row(self) -> list[str]:
        load = self.load
        return [
            self.name,
            load.tool,
            f"{load.seconds:.1f}",
            f"{load.requests:,}",
            benchlib.fmt(load.rate, 1),
            benchlib.fmt(load.p50_ms, 1),
            benchlib.fmt(load.p99_ms, 1),
            benchlib.fmt(load.max_ms, 1),
            str(load.non2xx),
            str(load.errors),
            self.note,
        ]


HEADERS = [
    "phase",
    "tool",
    "window s",
    "requests",
    "orders/s",
    "p50 ms",
    "p99 ms",
    "max ms",
    "non-2xx",
    "errors",
    "note",
]


@dataclass
class Outcome:
    phases: dict[str, Phase] = field(default_factory=dict)
    api_rss: dict[str, float] = field(default_factory=dict)
    worker_rss: float = float("nan")
    locked: int = 0
    commands: list[str] = field(default_factory=list)


def warm_up(url: str, tmp: Path) -> None:
    benchlib.run_hey(url + "/orders", duration=2, clients=4, rate_per_client=25, tmp=tmp)


def alone(out: Outcome, bench_db: BenchDatabase, group: Processes, tmp: Path, seconds: float) -> None:
    api, url = benchlib.start_api(group, bench_db)
    warm_up(url, tmp)
    fixed = benchlib.run_hey(
        url + "/orders", duration=seconds, clients=FIXED_CLIENTS, rate_per_client=FIXED_PER_CLIENT, tmp=tmp
    )
    out.phases["fixed alone"] = Phase("50 orders/s, alone", fixed)
    print("  done: 50 orders/s alone", flush=True)
    saturated = benchlib.run_wrk(url + "/orders", duration=seconds, clients=SATURATION_CLIENTS, tmp=tmp)
    out.phases["saturation alone"] = Phase(f"saturation ({SATURATION_CLIENTS} clients), alone", saturated)
    out.api_rss["alone (latency 0)"] = benchlib.peak_rss_mb(api.pid)
    out.commands += [fixed.command, saturated.command]
    print("  done: saturation alone", flush=True)


def draining(
    out: Outcome, bench_db: BenchDatabase, group: Processes, tmp: Path, *, backlog: int, max_seconds: float
) -> None:
    api, url = benchlib.start_api(group, bench_db)
    warm_up(url, tmp)
    rss = 0.0
    for key, fixed in (("fixed draining", True), ("saturation draining", False)):
        bench_db.enqueue_bulk(BACKLOG_TYPE, _fresh(backlog), chunk=backlog)
        workers = benchlib.start_workers(group, bench_db, 3, name=f"worker-{key.split()[0]}")
        benchlib.wait_workers_ready(bench_db, 3, group)
        started = time.monotonic()
        left_at_start = bench_db.count("pending", [BACKLOG_TYPE])

        def drained() -> bool:
            return bench_db.count("pending", [BACKLOG_TYPE]) == 0

        if fixed:
            load = benchlib.run_hey(
                url + "/orders",
                duration=max_seconds,
                clients=FIXED_CLIENTS,
                rate_per_client=FIXED_PER_CLIENT,
                until=drained,
                tmp=tmp,
            )
            name = "50 orders/s, while 3 workers drain"
        else:
            load = benchlib.run_wrk(
                url + "/orders", duration=max_seconds, clients=SATURATION_CLIENTS, until=drained, tmp=tmp
            )
            name = f"saturation ({SATURATION_CLIENTS} clients), while 3 workers drain"
        window = time.monotonic() - started
        left = bench_db.count("pending", [BACKLOG_TYPE])
        note = (
            f"backlog {left_at_start:,} pending when the load began, {left:,} when it stopped "
            f"({(left_at_start - left) / window:,.0f} backlog jobs/s)"
        )
        out.phases[key] = Phase(name, load, note)
        rss = max([rss, *(benchlib.peak_rss_mb(w.pid) for w in workers)])
        _stop_workers(group, workers)
        print(f"  done: {name}", flush=True)
    out.worker_rss = rss
    out.api_rss["while workers drain"] = benchlib.peak_rss_mb(api.pid)


def _fresh(count: int) -> list[dict[str, object]]:
    stamp = time.time_ns()
    return [{"to": f"user{i}@example.test", "subject": f"backlog {stamp} {i}"} for i in range(count)]


def _stop_workers(group: Processes, workers: list[Proc]) -> None:
    group.stop(workers)


def defaults(out: Outcome, bench_db: BenchDatabase, group: Processes, tmp: Path, seconds: float) -> None:
    api, url = benchlib.start_api(group, bench_db, SIMULATED_LATENCY_SCALE="1")
    warm_up(url, tmp)
    load = benchlib.run_wrk(url + "/orders", duration=seconds, clients=DEFAULT_CLIENTS, tmp=tmp)
    out.phases["defaults"] = Phase(
        f"default settings (payment 200 ms), {DEFAULT_CLIENTS} clients, alone", load, "ceiling 320 orders/s"
    )
    out.api_rss["default settings"] = benchlib.peak_rss_mb(api.pid)
    out.commands.append(load.command)
    print("  done: default settings", flush=True)


def summary(out: Outcome) -> list[Figure]:
    p = out.phases
    fixed_alone, fixed_busy = p["fixed alone"].load, p["fixed draining"].load
    sat_alone, sat_busy = p["saturation alone"].load, p["saturation draining"].load
    dflt = p["defaults"].load

    def triple(load: Load) -> str:
        return f"{load.p50_ms:.1f} / {load.p99_ms:.1f} / {load.max_ms:.1f}"

    failures = sum(phase.load.failures() for phase in p.values())
    api_rss = max(out.api_rss.values())
    ceiling = DEFAULT_CLIENTS / 0.2
    return [
        Figure(
            "7. POST /orders at 50/s while 3 workers drain 50k: p50 / p99 / max ms vs alone",
            triple(fixed_busy),
            triple(fixed_alone),
            f"p99 {benchlib.ratio(fixed_busy.p99_ms, fixed_alone.p99_ms)}",
            "p99 <= 25 ms (draining)",
            benchlib.met(fixed_busy.p99_ms <= 25),
        ),
        Figure(
            "7. POST /orders saturation alone, orders/s (p50 ms)",
            f"{sat_alone.rate:,.0f} ({sat_alone.p50_ms:.1f})",
            "-",
            "-",
            ">= 500",
            benchlib.met(sat_alone.rate >= 500),
        ),
        Figure(
            "7. POST /orders saturation while 3 workers drain 50k, orders/s (p50 ms) vs alone",
            f"{sat_busy.rate:,.0f} ({sat_busy.p50_ms:.1f})",
            f"{sat_alone.rate:,.0f} ({sat_alone.p50_ms:.1f})",
            benchlib.ratio(sat_busy.rate, sat_alone.rate),
            ">= 250",
            benchlib.met(sat_busy.rate >= 250),
        ),
        Figure(
            "7. default settings (payment 200 ms), 64 clients: orders/s (p50 ms) vs the 320/s ceiling",
            f"{dflt.rate:,.0f} ({dflt.p50_ms:.1f})",
            f"{ceiling:,.0f} (200.0)",
            benchlib.ratio(dflt.rate, ceiling),
            ">= 250, p50 <= 250 ms",
            benchlib.met(dflt.rate >= 250 and dflt.p50_ms <= 250),
        ),
        Figure(
            "7. failed requests (non-2xx + socket errors) / 'database is locked' in logs, all phases",
            f"{failures} / {out.locked}",
            "-",
            "-",
            "0 / 0",
            benchlib.met(failures == 0 and out.locked == 0),
        ),
        Figure(
            "9. peak RSS of the API process, MB (worst phase) vs a worker (while draining)",
            f"{api_rss:.1f}",
            f"{out.worker_rss:.1f}",
            benchlib.ratio(api_rss, out.worker_rss),
            "-",
            "-",
        ),
    ]


def main() -> int:
    parser = benchlib.parser(__doc__)
    parser.add_argument("--seconds", type=float, default=20.0, help="duration of each fixed-length load (default 20)")
    parser.add_argument(
        "--backlog", type=int, default=50_000, help="backlog jobs drained by 3 workers (default 50,000)"
    )
    parser.add_argument(
        "--max-seconds", type=float, default=30.0, help="longest load while draining (default 30; stops when drained)"
    )
    args = parser.parse_args()
    seconds = min(args.seconds, 8.0) if args.quick else args.seconds
    benchlib.header(
        "api_load.py (figures 7, 9 API)",
        args,
        {
            "API": "python -m api (uvicorn, 1 process), stock raised to 100,000,000; body " + benchlib.ORDER_BODY,
            "fixed rate": f"hey -z {seconds:g}s -c {FIXED_CLIENTS} -q {FIXED_PER_CLIENT:g} "
            "(50 orders/s), SIMULATED_LATENCY_SCALE=0",
            "saturation": f"wrk -t 2 -c {SATURATION_CLIENTS} -d {seconds:g}s, SIMULATED_LATENCY_SCALE=0",
            "while draining": f"{args.backlog:,} {BACKLOG_TYPE} jobs, 3 workers (python -m worker "
            f"{' '.join(benchlib.WORKER_ARGS)}, defaults), load stopped when the backlog is drained "
            f"(at most {args.max_seconds:g} s)",
            "default settings": f"wrk -t 2 -c {DEFAULT_CLIENTS} -d {seconds:g}s, SIMULATED_LATENCY_SCALE=1 "
            "(payment 200 ms), SIMULATED_FAILURE_RATE=0",
        },
    )
    out = Outcome()
    runs: list[tuple[str, Callable[[BenchDatabase, Processes, Path], None]]] = [
        ("alone", lambda db, g, t: alone(out, db, g, t, seconds)),
        ("draining", lambda db, g, t: draining(out, db, g, t, backlog=args.backlog, max_seconds=args.max_seconds)),
        ("defaults", lambda db, g, t: defaults(out, db, g, t, seconds)),
    ]
    for label, run in runs:
        with (
            benchlib.workdir(f"api-{label}", args.keep) as tmp,
            benchlib.database(args.backend, tmp) as bench_db,
            benchlib.processes(tmp) as group,
        ):
            bench_db.raise_stock()
            run(bench_db, group, tmp)
            group.stop()
            out.locked += group.count_in_logs(benchlib.LOCKED)
    print()
    print("POST /orders (latency measured by the load generator)")
    print(benchlib.table(HEADERS, [phase.row() for phase in out.phases.values()]))
    print()
    print("  peak RSS of the API, MB: " + ", ".join(f"{k} {v:.1f}" for k, v in out.api_rss.items()))
    print(f"  peak RSS of a worker while draining, MB: {out.worker_rss:.1f}")
    print(f"  '{benchlib.LOCKED}' in the API's and workers' logs: {out.locked}")
    for phase in out.phases.values():
        if phase.load.statuses:
            print(f"  {phase.name}: status codes {phase.load.statuses}")
    benchlib.print_summary(summary(out), args.summary_json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
