"""One soak run, start to end: a tmpfs holding a migrated SQLite file, one API (uvicorn) and
`plan.workers` worker processes; clients place `plan.orders` orders while the faults run; once
every pipeline has settled the faults stop, the workers get SIGTERM, the admin stats are compared
with a direct count, the API stops, and the audit runs on the files."""

from __future__ import annotations

import json
import secrets
import signal
import sqlite3
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from shared.config import Settings
from tests.support.chaos import Exit, Fleet, SmallDisk, Window
from tests.support.processes import Service, child_env, free_port, run_alembic, spawn, wait_http_ok
from tests.support.soak.audit import LEASE_LOST, audit_database, connect, integrity, percentiles_ms
from tests.support.soak.faults import Faults
from tests.support.soak.load import LOCKED, Clients, Failure
from tests.support.soak.plan import STEPS, SoakPlan

ADMIN_TOKEN = "soak-admin-token"  # noqa: S105 - a test token
STOCK = 1_000_000_000  # the seed stocks 175 units; the soak is not about running out
# How a worker may end after each stop: SIGKILL kills it; SIGTERM drains and exits 0; a second
# SIGTERM exits at once (128 + 15), or ends it by the signal's default action if it came after the
# event loop had closed (-15). Before the worker has installed its handlers (while it imports),
# SIGTERM's default action ends it too: allowed only if its log shows it never started.
EXPECTED_EXIT = {
    "SIGKILL": {-signal.SIGKILL},
    "SIGTERM": {0},
    "SIGTERM+SIGTERM": {0, 128 + signal.SIGTERM, -signal.SIGTERM},
}
STARTED = '"worker.started"'
# A 503 is explained by a fault whose window overlaps the request, give or take this much (the
# write lane fails a whole batch, which may have been waiting a moment longer).
SLACK_SECONDS = 1.0
FAULT_NAMES = {"lock": "the write lock was held outside", "disk": "the disk was full"}
# A crash, a bug's 500, and a finished job whose outcome was dropped because another worker had
# taken it back while it ran.
UNWANTED_EVENTS = ("worker.crashed", "unhandled exception", "job.outcome_ignored")
SHOWN_EVENTS = ("worker.started",)  # INFO events worth a count; every warning and error is counted
# The report's figures, in reading order (each a count in the tally).
OUTCOMES = (
    "orders",
    "orders complete",
    "orders stopped at a dead letter",
    "jobs",
    "attempts",
    "failed attempts retried",
    "rescues",
    "dead letters",
    "deliveries",
    "repeat calls deduplicated by the providers",
    "effects delivered by a step that then failed for good",
    "payments voided (the order's write was refused)",
    "partial invoice files (*.tmp) left by killed workers",
)
FAULTS = (
    "workers killed (SIGKILL)",
    "workers stopped (SIGTERM)",
    "workers stopped (SIGTERM twice)",
    "worker processes started",
    "write lock held outside",
    "write lock held outside beyond BUSY_TIMEOUT_MS",
    "write lock held outside, s in all",
    "disk full",
    "disk full, s in all",
)


@dataclass
class SoakReport:
    plan: SoakPlan
    workdir: Path
    problems: list[str] = field(default_factory=list)
    figures: dict[str, object] = field(default_factory=dict)  # printed by bench/soak.py
    tally: Counter[str] = field(default_factory=Counter)  # counts the soak test asserts on


def run_soak(plan: SoakPlan, workdir: Path, say: Callable[[str], None] = lambda _: None) -> SoakReport:
    report = SoakReport(plan, workdir)
    disk = SmallDisk(workdir / "disk", plan.disk_size_mb())
    disk.mount()
    try:
        _run(plan, disk, report, say)
    finally:
        _save_database(disk.path / "shop.db", workdir / "shop.db")
        disk.unmount()
    return report


def _save_database(source: Path, copy: Path) -> None:
    """A copy beside the logs (the tmpfs goes away), for a look after the run."""
    if source.exists():
        with sqlite3.connect(source) as src, sqlite3.connect(copy) as dst:
            src.backup(dst)


def _run(plan: SoakPlan, disk: SmallDisk, report: SoakReport, say: Callable[[str], None]) -> None:
    workdir = report.workdir
    database = disk.path / "shop.db"
    providers = workdir / "providers.db"  # the providers stand for remote services: not on the small disk
    logs = workdir / "logs"
    logs.mkdir(exist_ok=True)
    settings = Settings(
        database_url=f"sqlite:///{database}", data_dir=str(disk.path), providers_database_url=f"sqlite:///{providers}"
    )
    run_alembic(settings.database_url, "upgrade", "head")
    with sqlite3.connect(database) as conn:
        conn.execute("UPDATE products SET stock = ?", (STOCK,))
    env = child_env(settings, **plan.process_env())
    started = time.time()
    api = _start_api(env, logs)
    fleet = Fleet(plan.workers, lambda name: spawn([sys.executable, "-m", "worker"], env, logs / f"worker-{name}.log"))
    fleet.start_all()
    faults = Faults(plan, fleet, disk, database)
    clients = Clients(api.base_url, plan, secrets.token_hex(3), ADMIN_TOKEN)
    backlog = Backlog(database)
    placed_at = settled_at = started
    try:
        say(f"placing {plan.orders:,} orders at {plan.order_rate:g}/s, {plan.workers} workers, faults running")
        backlog.start()
        faults.start()
        clients.place_all()
        placed_at = time.time()
        say(f"placed in {placed_at - started:.0f} s; waiting for every pipeline to settle")
        if not _wait_settled(database, plan.drain_timeout):
            report.problems.append(f"pipelines still running {plan.drain_timeout:.0f} s after the last order")
        settled_at = time.time()
    finally:
        faults.stop()
        backlog.stop()
        final = fleet.stop_all()
        report.problems += _compare_stats(api.base_url, database)
        if (code := api.stop(timeout=60)) != 0:
            report.problems.append(f"the API exited with {code} on SIGTERM")
    say("auditing")
    report.problems += [f"integrity: {line}" for line in integrity(database)]
    audit = audit_database(database, providers, disk.path / "invoices", clients.traffic.placed)
    report.problems += audit.problems
    report.tally.update(audit.tally)
    report.problems += _check_exits(faults.log.stops, faults.log.crashes, final)
    report.problems += _check_rescues(database, {e.pid for e in faults.log.stops})
    report.problems += faults.log.errors
    traffic = clients.traffic
    report.problems += traffic.problems
    causes, unexplained = _explain(traffic.failures, faults.log.windows)
    report.problems += [
        f"{f.route} answered {f.status or 'nothing'} after {f.end - f.start:.3f} s at "
        f"{datetime.fromtimestamp(f.start, UTC):%H:%M:%S.%f} UTC, no fault to explain it: {f.body}"
        for f in unexplained
    ]
    events = _scan_logs([api.log_path, *fleet.log_paths()])
    if events[LOCKED]:
        report.problems.append(f"{events[LOCKED]} log lines say {LOCKED!r}")
    report.problems += [f"{events[e]} {e!r} log lines" for e in UNWANTED_EVENTS if events[e]]
    _tally_faults(report.tally, faults, fleet, plan)
    report.tally.update({f"5xx: {what}": n for what, n in causes.items()})
    report.tally["replays"], report.tally["races"] = traffic.replays, traffic.races
    tally = report.tally
    report.figures = {
        "duration s (placing / settling / total)": (
            f"{placed_at - started:.0f} / {settled_at - placed_at:.0f} / {time.time() - started:.0f}"
        ),
        **{name: tally[name] for name in OUTCOMES},
        **audit.figures,
        "backlog max (immediate steps pending or running)": backlog.peak,
        **{name: tally[name] for name in FAULTS},
        "responses by route and status": {f"{r} {s}": n for (r, s), n in sorted(traffic.responses.items())},
        "5xx and lost answers, by the fault that explains them": dict(causes) or "none",
        "POST /orders latency ms p50 / p99 / max": percentiles_ms(traffic.post_seconds),
        "most POST /orders one order took": max((p.attempts for p in traffic.placed.values()), default=0),
        "Idempotency-Key repeats: after the 201 / two at once": f"{traffic.replays} / {traffic.races}",
        "log events at WARNING and above (API and every worker process)": dict(sorted(events.items())),
        "small disk used at the end, MB": round(disk.used_mb(), 1),
    }


def _start_api(env: dict[str, str], logs: Path) -> Service:
    port = free_port()
    service = spawn(
        [sys.executable, "-m", "api"],
        {**env, "HOST": "127.0.0.1", "PORT": str(port), "ADMIN_TOKEN": ADMIN_TOKEN},
        logs / "api.log",
    )
    service.base_url = f"http://127.0.0.1:{port}"
    wait_http_ok(service.base_url + "/health", service)
    return service


def _unsettled(database: Path) -> int:
    """Immediate steps pending (due or waiting for a retry) or running."""
    with connect(database) as conn:
        count: int = conn.execute(
            f"SELECT COUNT(*) FROM jobs WHERE type IN ({', '.join('?' * len(STEPS))}) "
            "AND status IN ('pending', 'processing')",
            STEPS,
        ).fetchone()[0]
    return count


def _wait_settled(database: Path, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _unsettled(database) == 0:
            return True
        time.sleep(0.5)
    return False


class Backlog:
    """Samples the unsettled steps once a second; keeps the peak."""

    def __init__(self, database: Path) -> None:
        self._database = database
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="soak-backlog", daemon=True)
        self.peak = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            self.peak = max(self.peak, _unsettled(self._database))


def _compare_stats(base_url: str, database: Path) -> list[str]:
    """GET /admin/queue/stats against a direct count, taken with the workers stopped (nothing
    changes); `completedLastHour` only shrinks with time, so it must lie between a count taken
    before the request and one taken after."""
    with connect(database) as conn:
        completed_before = _completed_since(conn, datetime.now(UTC) - timedelta(hours=1))
        response = httpx.get(
            base_url + "/admin/queue/stats", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=30
        )
        now = datetime.now(UTC)
        completed_after = _completed_since(conn, now - timedelta(hours=1))
        rows = conn.execute("SELECT type, status, scheduled_at FROM jobs").fetchall()
        unreviewed = conn.execute("SELECT COUNT(*) FROM dead_letter_jobs WHERE reviewed = 0").fetchone()[0]
    if response.status_code != 200:
        return [f"/admin/queue/stats answered {response.status_code}: {response.text[:300]}"]
    stats = response.json()
    by_type: Counter[tuple[str, str]] = Counter()
    for job_type, status, scheduled_at in rows:
        later = status == "pending" and datetime.fromisoformat(scheduled_at).replace(tzinfo=UTC) > now
        by_type[(job_type, "scheduled" if later else status)] += 1
    totals: Counter[str] = Counter()
    for (_, state), count in by_type.items():
        totals[state] += count
    problems = []
    served = {(row["type"], row["status"]): row["count"] for row in stats["byType"]}
    if served != dict(by_type):
        problems.append(f"stats byType {served} != SQL {dict(by_type)}")
    queue = stats["queue"]
    problems += [
        f"stats queue.{name} = {queue[name]}, SQL {totals[name]}"
        for name in ("pending", "scheduled", "processing", "failed", "cancelled")
        if queue[name] != totals[name]
    ]
    if not completed_after <= queue["completedLastHour"] <= completed_before:
        problems.append(f"stats completedLastHour = {queue['completedLastHour']}, SQL {completed_after}..")
    if stats["deadLetterQueue"]["unreviewed"] != unreviewed:
        problems.append(
            f"stats deadLetterQueue.unreviewed = {stats['deadLetterQueue']['unreviewed']}, SQL {unreviewed}"
        )
    return problems


def _completed_since(conn: sqlite3.Connection, since: datetime) -> int:
    stamp = since.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    count: int = conn.execute(
        "SELECT COUNT(*) FROM jobs WHERE status = 'completed' AND completed_at > ?", (stamp,)
    ).fetchone()[0]
    return count


def _check_exits(stops: list[Exit], crashes: list[Exit], final: list[Exit]) -> list[str]:
    problems = [f"a worker exited on its own with {c.code} (log {c.log_path.name})" for c in crashes]
    for ended in [*stops, *final]:
        how = "+".join(ended.signals)
        if ended.code == -signal.SIGTERM and STARTED not in ended.log_path.read_text(errors="replace"):
            continue  # stopped while still starting up: it had claimed nothing
        if ended.code not in EXPECTED_EXIT[how]:
            problems.append(f"a worker exited with {ended.code} after {how} (log {ended.log_path.name})")
    return problems


def _check_rescues(database: Path, stopped: set[int]) -> list[str]:
    """Jobs are taken back only from workers that were stopped (killed, or stopped before they could
    settle): never from one that kept running, whatever the database went through. A worker id is
    `host:pid:random`; the rescue records the lost worker in job_failures."""
    with connect(database) as conn:
        lost = conn.execute(
            "SELECT job_id, worker_id FROM job_failures WHERE error LIKE ?", (f"{LEASE_LOST}%",)
        ).fetchall()
    wrong = [(job_id, worker) for job_id, worker in lost if int(worker.split(":")[-2]) not in stopped]
    if not wrong:
        return []
    return [f"{len(wrong)} jobs taken back from workers that were never stopped, e.g. {wrong[:5]}"]


def _explain(failures: list[Failure], windows: list[Window]) -> tuple[Counter[str], list[Failure]]:
    """Each 5xx or lost answer by the fault that explains it: a 503 whose request overlapped a lock
    hold or a full disk; anything else is `unexplained` (and returned as well)."""
    causes: Counter[str] = Counter()
    unexplained = []
    for failure in failures:
        what = "no answer" if failure.status is None else str(failure.status)
        kinds = sorted({w.kind for w in windows if w.overlaps(failure.start, failure.end, SLACK_SECONDS)})
        if kinds and failure.status == 503:
            causes[f"503 while {' and '.join(FAULT_NAMES[kind] for kind in kinds)}"] += 1
        else:
            causes[f"unexplained {what}"] += 1
            unexplained.append(failure)
    return causes, unexplained


def _scan_logs(paths: list[Path]) -> Counter[str]:
    """Lines saying 'database is locked' anywhere, and how often each warning or error event (and a
    few INFO events) was logged."""
    seen: Counter[str] = Counter()
    for path in paths:
        for line in path.read_text(errors="replace").splitlines():
            if LOCKED in line:
                seen[LOCKED] += 1
            try:
                record = json.loads(line)
            except ValueError:
                seen["lines that are not JSON"] += 1
                continue
            if record.get("level") in ("warning", "error", "critical") or record.get("event") in SHOWN_EVENTS:
                seen[str(record.get("event"))] += 1
    return seen


def _tally_faults(tally: Counter[str], faults: Faults, fleet: Fleet, plan: SoakPlan) -> None:
    stops = Counter("+".join(e.signals) for e in faults.log.stops)
    tally["workers killed (SIGKILL)"] = stops["SIGKILL"]
    tally["workers stopped (SIGTERM)"] = stops["SIGTERM"]
    tally["workers stopped (SIGTERM twice)"] = stops["SIGTERM+SIGTERM"]
    tally["worker processes started"] = fleet.starts
    locks = faults.log.of_kind("lock")
    tally["write lock held outside"] = len(locks)
    tally["write lock held outside beyond BUSY_TIMEOUT_MS"] = sum(
        w.seconds * 1000 > plan.busy_timeout_ms for w in locks
    )
    tally["write lock held outside, s in all"] = round(sum(w.seconds for w in locks))
    disk = faults.log.of_kind("disk")
    tally["disk full"] = len(disk)
    tally["disk full, s in all"] = round(sum(w.seconds for w in disk))
