"""Chaos soak: N orders through the real API while workers die, the write lock is held from
outside and the disk fills up; then an audit of everything, and the figures.

One `python -m api` (uvicorn) and W `python -m worker` processes on one SQLite file (WAL) that
lives on a size-limited tmpfs (mounted here; needs root). Client threads POST /orders at a steady
rate, each retrying with its Idempotency-Key until it gets its 201 (every 10th order is posted
again after its 201, every 25th twice at once); a reader polls GET /orders/{id}, /health and
/admin/queue/stats. Meanwhile, until every pipeline has settled:

- every 2-4 s a worker is stopped and restarted at once: SIGKILL, or SIGTERM for 30 % (a third of
  those get a second SIGTERM while draining);
- every --lock-every s an outside process holds BEGIN EXCLUSIVE for 2 s, 6.5 s, 3.5 s in turn
  (BUSY_TIMEOUT_MS is 5000: writers wait out the short holds, the long one may cost 503s);
- every --disk-every s the tmpfs is filled to ENOSPC for 2 s;
- every provider call fails 30 % of the time (SIMULATED_FAILURE_RATE=0.3), half of the failures
  after delivering (the reply is lost), with SIMULATED_LATENCY_SCALE=0.1.

The audit (tests/support/soak/audit.py; the same as tests/soak runs on 300 orders) checks that
every order answered 201 is stored once; every pipeline complete or stopped at a step in the
dead-letter queue; no step enqueued twice and no effect under a second key; every 5xx a 503
explained by a fault; no "database is locked" in any answer or log; worker exit codes; the admin
stats against a direct count; `PRAGMA integrity_check`. Exit status 1 if anything is wrong.
"""

from __future__ import annotations

import argparse
import sys

import benchlib

from tests.support.soak import SoakPlan, run_soak

QUICK = SoakPlan()  # the CI size: 300 orders, faults every few seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite"], default="sqlite", help="the faults are SQLite's (default)")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (databases and every log)")
    parser.add_argument("--quick", action="store_true", help="the CI-sized run: 300 orders, faults more often")
    parser.add_argument("--orders", type=int, default=10_000, help="orders to place (default 10,000)")
    parser.add_argument("--rate", type=float, default=10.0, help="orders offered per second (default 10)")
    parser.add_argument("--workers", type=int, default=4, help="worker processes (default 4)")
    parser.add_argument("--lock-every", type=float, default=30.0, help="mean s between lock holds (default 30)")
    parser.add_argument("--disk-every", type=float, default=45.0, help="mean s between full disks (default 45)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the fault timing (default 1)")
    args = parser.parse_args()
    plan = QUICK if args.quick else long_plan(args)
    benchlib.header(
        "soak.py (chaos soak)",
        args,
        {
            "orders": f"{plan.orders:,} at {plan.order_rate:g}/s from {plan.clients} client threads",
            "processes": f"1 python -m api, {plan.workers} x python -m worker; settings {plan.process_env()}",
            "worker stops": f"every {plan.kill_every[0]:g}-{plan.kill_every[1]:g} s, SIGTERM share {plan.term_share}",
            "outside lock holds": f"every {plan.lock_every[0]:g}-{plan.lock_every[1]:g} s, for {plan.lock_seconds} s",
            "disk full": f"every {plan.disk_full_every[0]:g}-{plan.disk_full_every[1]:g} s "
            f"for {plan.disk_full_seconds:g} s (tmpfs {plan.disk_size_mb()} MB)",
        },
    )
    with benchlib.workdir("soak", keep=args.keep) as workdir:
        report = run_soak(plan, workdir, say=lambda text: print(f"  {text}", flush=True))
    print()
    print(benchlib.table(["figure", "value"], [[name, _show(value)] for name, value in report.figures.items()]))
    print()
    if report.problems:
        print(f"PROBLEMS ({len(report.problems)}):")
        for problem in report.problems:
            print(f"  - {problem}")
        return 1
    print("audit: no problems")
    return 0


def long_plan(args: argparse.Namespace) -> SoakPlan:
    """Faults as often as in CI for the workers, less often for the lock and the disk (each stalls
    every writer for seconds), over a run of --orders at --rate."""
    return SoakPlan(
        orders=args.orders,
        order_rate=args.rate,
        workers=args.workers,
        lock_every=(args.lock_every * 0.5, args.lock_every * 1.5),
        disk_full_every=(args.disk_every * 0.5, args.disk_every * 1.5),
        drain_timeout=900.0,
        seed=args.seed,
    )


def _show(value: object) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_show(v)}" for k, v in value.items()) or "-"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


if __name__ == "__main__":
    sys.exit(main())
