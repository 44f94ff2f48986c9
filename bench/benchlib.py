"""Helpers shared by the benchmark scripts (not a benchmark itself).

Imported as `benchlib` by the scripts in this directory (`python bench/<script>.py` puts `bench/` first
on `sys.path`). Everything here starts real processes on a real database that `alembic upgrade head`
migrated, talks only to 127.0.0.1 and local files, and cleans up after itself.

Sections:

- the database seam (`BenchDatabase`, `create_database`): the ONLY place that knows which engine a
  run uses. It makes and migrates the database, gives the child processes their environment, and
  runs every query the scripts need, in portable SQL through the project's own `Database`/`Tx`.
  Each engine is one factory in `DATABASES` (SQLite files; PostgreSQL databases on BENCH_POSTGRES_URL's
  server or on a private cluster of Debian's binaries), not a change to each script;
- child processes (workers, API, huey consumers), /proc readings (CPU, peak RSS), log scans;
- load generators (hey, wrk) and their parsed results;
- the machine, the command line every script shares, tables, and the summary rows run_all.py reads.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import csv
import io
import json
import math
import os
import platform
import re
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = ROOT / "bench"
# `bench.noop_jobs` and the tests' process helpers import from the repository root.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from shared.config import Settings  # noqa: E402
from shared.db import Database  # noqa: E402
from shared.queue import JobSpec, JobTypes, enqueue, enqueue_many  # noqa: E402
from shared.queue.loading import load_job_types  # noqa: E402
from tests.support.postgres import PostgresServer, private_cluster  # noqa: E402
from tests.support.processes import Service, child_env, free_port, run_alembic, wait_http_ok  # noqa: E402

JOB_MODULES = ("bench.noop_jobs", "shared.shop.jobs")
WORKER_ARGS = tuple(arg for module in JOB_MODULES for arg in ("--jobs", module))
# The order pipeline's steps that run at once (the follow-up email waits 24 h and is left out).
IMMEDIATE_STEPS = ("send_order_confirmation", "generate_invoice", "sync_inventory")
ORDER_BODY = '{"userId": "bench", "items": [{"productId": "prod-1", "quantity": 1}]}'
LOCKED = "database is locked"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def job_types() -> JobTypes:
    return load_job_types(list(JOB_MODULES))


# ==== the database seam ==========================================================================


@dataclass
class BenchDatabase:
    """One benchmark database: the shop's (with the queue) and the simulated providers'.

    Scripts never build URLs, run migrations or write engine-specific SQL themselves: they go
    through these methods, whose SQL is portable (`:name` parameters, timestamps parsed by the
    backend).
    """

    backend: str
    url: str
    providers_url: str
    data_dir: Path
    description: str
    drop: Callable[[], None] = lambda: None  # removes what the factory made outside `data_dir`
    _db: Database | None = None

    # ---- set-up ----------------------------------------------------------------------------

    def migrate(self) -> None:
        """`alembic upgrade head`, as the deployment runs it."""
        run_alembic(self.url, "upgrade", "head")

    def settings(self) -> Settings:
        return Settings(database_url=self.url, data_dir=str(self.data_dir), providers_database_url=self.providers_url)

    def env(self, **extra: str) -> dict[str, str]:
        """A child's environment: this database, JSON logs, no simulated latency or failures unless
        `extra` says otherwise."""
        return child_env(self.settings(), SIMULATED_FAILURE_RATE="0", **extra)

    @property
    def db(self) -> Database:
        if self._db is None:
            self._db = Database(self.url)
        return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.dispose()
            self._db = None

    # ---- generic access ----------------------------------------------------------------------

    def all(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        with self.db.read() as tx:
            return tx.all(sql, params)

    def scalar(self, sql: str, params: Mapping[str, Any] | None = None) -> Any:
        with self.db.read() as tx:
            return tx.scalar(sql, params)

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        with self.db.write() as tx:
            tx.execute(sql, params)

    def raise_stock(self, stock: int = 100_000_000) -> None:
        self.execute("UPDATE products SET stock = :stock", {"stock": stock})

    # ---- enqueueing ------------------------------------------------------------------------

    def enqueue_bulk(self, type_name: str, payloads: Iterable[Mapping[str, Any]], *, chunk: int = 20_000) -> int:
        """`enqueue_many` in transactions of `chunk` jobs; returns how many were enqueued."""
        job_type = job_types().get(type_name)
        total = 0
        batch: list[JobSpec] = []
        for payload in payloads:
            batch.append(JobSpec(job_type, payload))
            if len(batch) >= chunk:
                total += self._insert(batch)
                batch = []
        if batch:
            total += self._insert(batch)
        return total

    def _insert(self, specs: list[JobSpec]) -> int:
        with self.db.write() as tx:
            return len(enqueue_many(tx, specs))

    def enqueue_one(self, type_name: str, payload: Mapping[str, Any]) -> str:
        """One job in its own write transaction, as a producer does."""
        job_type = job_types().get(type_name)
        with self.db.write() as tx:
            return enqueue(tx, job_type, payload)

    # ---- the queue seen from outside -------------------------------------------------------

    def status_counts(self, types: Sequence[str] | None = None) -> dict[str, int]:
        where, params = self._types_filter(types)
        rows = self.all(f"SELECT status, COUNT(*) FROM jobs{where} GROUP BY status", params)
        return {str(status): int(count) for status, count in rows}

    def count(self, status: str, types: Sequence[str] | None = None) -> int:
        where, params = self._types_filter(types)
        joiner = " AND" if where else " WHERE"
        return int(
            self.scalar(f"SELECT COUNT(*) FROM jobs{where}{joiner} status = :status", {**params, "status": status})
        )

    def _types_filter(self, types: Sequence[str] | None) -> tuple[str, dict[str, Any]]:
        if not types:
            return "", {}
        with self.db.read() as tx:
            table, param = tx.list_table("types"), tx.list_param(list(types))
        return f" WHERE type IN (SELECT value FROM {table})", {"types": param}

    def times(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[datetime | None, ...]]:
        """Rows of timestamps, each parsed by the backend (None stays None)."""
        with self.db.read() as tx:
            return [tuple(tx.dt_or_none(v) for v in row) for row in tx.all(sql, params)]

    def drain_summary(self) -> DrainRows:
        """What a drain left in the jobs table: counts, attempts, span and each worker's first start."""
        with self.db.read() as tx:
            done = int(tx.scalar("SELECT COUNT(*) FROM jobs WHERE status = 'completed'"))
            total = int(tx.scalar("SELECT COUNT(*) FROM jobs"))
            repeated = int(tx.scalar("SELECT COUNT(*) FROM jobs WHERE attempts <> 1"))
            first, last = tx.one("SELECT MIN(started_at), MAX(completed_at) FROM jobs") or (None, None)
            firsts = {
                str(worker): tx.dt(start)
                for worker, start in tx.all("SELECT locked_by, MIN(started_at) FROM jobs GROUP BY locked_by")
                if worker is not None
            }
            failures = int(tx.scalar("SELECT COUNT(*) FROM job_failures"))
            return DrainRows(done, total, repeated, failures, tx.dt_or_none(first), tx.dt_or_none(last), firsts)

    def pipeline_rows(self) -> list[tuple[str, datetime, datetime | None, int]]:
        """Per order: (order id, created, last immediate step completed, immediate steps completed)."""
        with self.db.read() as tx:
            rows = tx.all(
                "SELECT o.id, o.created_at, MAX(j.completed_at), "
                "SUM(CASE WHEN j.status = 'completed' THEN 1 ELSE 0 END) "
                "FROM orders o LEFT JOIN jobs j ON j.workflow_id = o.id "
                f"AND j.type IN (SELECT value FROM {tx.list_table('steps')}) GROUP BY o.id, o.created_at",
                {"steps": tx.list_param(list(IMMEDIATE_STEPS))},
            )
            return [(str(r[0]), tx.dt(r[1]), tx.dt_or_none(r[2]), int(r[3] or 0)) for r in rows]

    def orders_count(self) -> int:
        return int(self.scalar("SELECT COUNT(*) FROM orders"))

    def wake_latencies_ms(self, type_name: str) -> list[float]:
        """started_at - created_at of each completed job of a type (the DB's ms resolution)."""
        rows = self.times(
            "SELECT created_at, started_at FROM jobs WHERE type = :type AND status = 'completed'", {"type": type_name}
        )
        return [(started - created).total_seconds() * 1000 for created, started in rows if created and started]

    def claim_probe(self, worker_id: str, limit: int, now: datetime) -> tuple[float, int]:
        """Time one `store.claim` inside a write transaction that is then rolled back, so the queue
        is unchanged. Returns (seconds inside claim, jobs it returned)."""
        from shared.queue import store  # noqa: PLC0415 - only the claim benchmark needs it

        result: tuple[float, int] = (math.nan, 0)
        with contextlib.suppress(_RollBackError), self.db.write() as tx:
            start = time.perf_counter()
            claimed = store.claim(tx, worker_id, limit, now).jobs
            result = (time.perf_counter() - start, len(claimed))
            raise _RollBackError  # leave the queue as it was
        return result

    # ---- the simulated providers -----------------------------------------------------------

    def deliveries(self, provider: str) -> Deliveries:
        """What the provider received: rows, distinct keys, repeated calls (its own database)."""
        from shared.services.store import ensure_schema  # noqa: PLC0415

        providers = Database(self.providers_url)
        try:
            ensure_schema(providers)
            with providers.read() as tx:
                row = tx.one(
                    "SELECT COUNT(*), COUNT(DISTINCT idempotency_key), COALESCE(SUM(repeat_calls), 0) "
                    "FROM provider_deliveries WHERE provider = :provider",
                    {"provider": provider},
                )
        finally:
            providers.dispose()
        assert row is not None
        return Deliveries(int(row[0]), int(row[1]), int(row[2]))


class _RollBackError(Exception):
    """Raised inside a write unit to roll it back."""


@dataclass(frozen=True)
class DrainRows:
    completed: int
    total: int
    repeated: int  # jobs that took more than one attempt
    failures: int  # rows in job_failures
    first_start: datetime | None
    last_end: datetime | None
    first_start_by_worker: dict[str, datetime]


@dataclass(frozen=True)
class Deliveries:
    rows: int
    keys: int
    repeats: int

    def exactly(self, expected: int) -> bool:
        return self.rows == expected and self.keys == expected and self.repeats == 0


def sqlite_database(tmp: Path) -> BenchDatabase:
    path = tmp / "shop.db"
    version_text = sqlite3.sqlite_version
    return BenchDatabase(
        backend="sqlite",
        url=f"sqlite:///{path}",
        providers_url=f"sqlite:///{tmp / 'providers.db'}",
        data_dir=tmp,
        description=f"SQLite {version_text} file {path.name} (WAL, synchronous=NORMAL), providers in providers.db",
    )


# PostgreSQL with commits as durable as SQLite's synchronous=NORMAL in WAL mode: they survive a
# crash of the database's clients and server process, not an OS crash (synchronous_commit=off;
# fsync stays on, so the cluster itself can never be corrupted).
POSTGRES_BENCH_SETTINGS = "-c synchronous_commit=off -c shared_buffers=256MB"
_postgres_servers: list[PostgresServer] = []
_postgres_clusters = contextlib.ExitStack()
atexit.register(_postgres_clusters.close)


def _postgres_server() -> PostgresServer:
    """BENCH_POSTGRES_URL's server (a superuser's libpq URL), else one private cluster per run."""
    if not _postgres_servers:
        url = os.environ.get("BENCH_POSTGRES_URL") or _postgres_clusters.enter_context(
            private_cluster(POSTGRES_BENCH_SETTINGS)
        )
        _postgres_servers.append(PostgresServer(url))
    return _postgres_servers[0]


def postgres_database(tmp: Path) -> BenchDatabase:
    server = _postgres_server()
    shop = f"bench_{secrets.token_hex(4)}"
    providers = f"{shop}_providers"
    for name in (shop, providers):
        server.admin(f"CREATE DATABASE {name}")

    def drop() -> None:
        for name in (shop, providers):
            server.drop(name)

    with psycopg.connect(server.admin_url) as conn:
        version_text = conn.execute("SHOW server_version").fetchone()
    return BenchDatabase(
        backend="postgres",
        url=server.url(shop),
        providers_url=server.url(providers),
        data_dir=tmp,
        description=f"PostgreSQL {version_text[0] if version_text else '?'} on 127.0.0.1 "
        "(synchronous_commit=off, fsync on), providers in a second database",
        drop=drop,
    )


DATABASES: dict[str, Callable[[Path], BenchDatabase]] = {"sqlite": sqlite_database, "postgres": postgres_database}


@contextlib.contextmanager
def database(backend: str, tmp: Path, *, migrate: bool = True) -> Iterator[BenchDatabase]:
    """A fresh, migrated database of `backend` for one run; closed afterwards."""
    bench_db = DATABASES[backend](tmp)
    try:
        if migrate:
            bench_db.migrate()
        yield bench_db
    finally:
        bench_db.close()
        bench_db.drop()


# ==== temp dirs and child processes ==============================================================


@contextlib.contextmanager
def workdir(prefix: str, keep: bool = False) -> Iterator[Path]:
    """A temporary directory, removed afterwards unless `keep` (then its path is printed)."""
    path = Path(tempfile.mkdtemp(prefix=f"shopqueue-bench-{prefix}-"))
    try:
        yield path
    finally:
        if keep:
            print(f"  (kept {path})")
        else:
            shutil.rmtree(path, ignore_errors=True)


@dataclass
class Proc:
    name: str
    service: Service

    @property
    def pid(self) -> int:
        return self.service.process.pid

    def alive(self) -> bool:
        return self.service.process.poll() is None

    def log(self) -> str:
        try:
            return self.service.log()
        except OSError:
            return ""

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log().splitlines()[-lines:])


@dataclass
class Processes:
    """Every child a benchmark started; stopped in reverse order at the end (also on errors)."""

    log_dir: Path
    procs: list[Proc] = field(default_factory=list)
    stopped: list[Proc] = field(default_factory=list)  # kept for their logs

    def spawn(
        self, name: str, args: Sequence[str], env: Mapping[str, str], *, stop_signal: int = signal.SIGTERM
    ) -> Proc:
        log_path = self.log_dir / f"{name}.log"
        with log_path.open("wb") as log_file:
            process = subprocess.Popen(list(args), cwd=ROOT, env=dict(env), stdout=log_file, stderr=subprocess.STDOUT)
        proc = Proc(name, Service(process, log_path, stop_signal=stop_signal))
        self.procs.append(proc)
        return proc

    def check_alive(self) -> None:
        for proc in self.procs:
            if not proc.alive():
                raise RuntimeError(f"{proc.name} exited with {proc.service.process.returncode}:\n{proc.log_tail()}")

    def stop(self, procs: Sequence[Proc] | None = None) -> None:
        for proc in reversed(list(self.procs if procs is None else procs)):
            proc.service.stop()
            self.procs.remove(proc)
            self.stopped.append(proc)

    def count_in_logs(self, text: str, prefix: str = "") -> int:
        return sum(proc.log().count(text) for proc in [*self.procs, *self.stopped] if proc.name.startswith(prefix))


@contextlib.contextmanager
def processes(log_dir: Path) -> Iterator[Processes]:
    group = Processes(log_dir)
    try:
        yield group
    finally:
        group.stop()


def start_workers(
    group: Processes, bench_db: BenchDatabase, count: int, *, name: str = "worker", **env: str
) -> list[Proc]:
    """`python -m worker --jobs bench.noop_jobs --jobs shared.shop.jobs`, `count` times."""
    return [
        group.spawn(f"{name}-{i}", [sys.executable, "-m", "worker", *WORKER_ARGS], bench_db.env(**env))
        for i in range(count)
    ]


def wait_workers_ready(bench_db: BenchDatabase, count: int, group: Processes, timeout: float = 30) -> None:
    wait_until(
        lambda: int(bench_db.scalar("SELECT COUNT(*) FROM workers WHERE status = 'running'")) >= count,
        timeout,
        f"{count} workers to register",
        group=group,
    )


def start_api(group: Processes, bench_db: BenchDatabase, **env: str) -> tuple[Proc, str]:
    """`python -m api` (uvicorn) on a free loopback port; returns it and its base URL once /health is 200."""
    port = free_port()
    proc = group.spawn(
        f"api-{port}", [sys.executable, "-m", "api"], bench_db.env(HOST="127.0.0.1", PORT=str(port), **env)
    )
    url = f"http://127.0.0.1:{port}"
    wait_http_ok(url + "/health", proc.service)
    return proc, url


def wait_until(
    predicate: Callable[[], bool], timeout: float, what: str, *, interval: float = 0.05, group: Processes | None = None
) -> float:
    """Poll `predicate` every `interval` s; return the seconds it took. Raises on timeout or a dead child."""
    start = time.monotonic()
    while True:
        if predicate():
            return time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise TimeoutError(f"timed out after {timeout:g} s waiting for {what}")
        if group is not None:
            group.check_alive()
        time.sleep(interval)


# ==== /proc: CPU and memory ======================================================================


def cpu_seconds(pid: int) -> float:
    """user + system CPU of one process so far (0.0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def peak_rss_mb(pid: int) -> float:
    """VmHWM (peak resident set) of a live process, in MiB; NaN if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return math.nan


def children_of(pid: int) -> list[int]:
    """Direct children (every thread's), e.g. huey's worker processes under its consumer."""
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                found.extend(int(p) for p in (task / "children").read_text().split())
    return found


def process_tree(pid: int) -> list[int]:
    pids = [pid]
    for child in children_of(pid):
        pids.extend(process_tree(child))
    return pids


class CpuSampler:
    """Samples the CPU seconds of some processes every `interval` s on a thread, so a run can tell
    how much CPU was spent after a moment (each process's first job) rather than since start-up."""

    def __init__(self, pids: Callable[[], Sequence[int]], interval: float = 0.01) -> None:
        self._pids = pids
        self._interval = interval
        self.samples: list[tuple[float, dict[int, float]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cpu-sampler", daemon=True)

    def __enter__(self) -> CpuSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def sample(self) -> dict[int, float]:
        values = {pid: cpu_seconds(pid) for pid in self._pids()}
        self.samples.append((time.time(), values))
        return values

    def stop(self) -> None:
        if not self._stop.is_set():
            self._stop.set()
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.sample()

    def at(self, pid: int, moment: float) -> float:
        """The process's CPU seconds at the last sample taken before `moment`."""
        value = 0.0
        for taken, values in self.samples:
            if taken > moment:
                break
            value = values.get(pid, value)
        return value

    def last(self, pid: int) -> float:
        for _, values in reversed(self.samples):
            if pid in values:
                return values[pid]
        return 0.0


def idle_cpu_percent(pids: Sequence[int], seconds: float) -> tuple[float, list[float]]:
    """CPU used by `pids` over a window of `seconds`, as % of one core: (total, per process)."""
    before = {pid: cpu_seconds(pid) for pid in pids}
    start = time.monotonic()
    time.sleep(seconds)
    elapsed = time.monotonic() - start
    per = [100 * (cpu_seconds(pid) - before[pid]) / elapsed for pid in pids]
    return sum(per), per


# ==== load generators ============================================================================


@dataclass
class Load:
    """One load-generator run against POST /orders."""

    tool: str
    command: str
    seconds: float
    requests: int
    ok: int  # 2xx
    non2xx: int
    errors: int  # connection errors, timeouts
    rate: float  # completed requests per second
    p50_ms: float
    p99_ms: float
    max_ms: float
    statuses: dict[str, int] = field(default_factory=dict)

    def failures(self) -> int:
        return self.non2xx + self.errors


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise SystemExit(f"{name} not found: apt-get install -y {name}")
    return path


def run_hey(
    url: str,
    *,
    body: str = ORDER_BODY,
    duration: float,
    clients: int,
    rate_per_client: float | None,
    until: Callable[[], bool] | None = None,
    count: int | None = None,
    tmp: Path,
) -> Load:
    """`hey -z {duration}s -c C [-q R] -m POST` with per-request CSV output (exact percentiles).

    With `until`, hey is stopped with SIGINT (it still reports) as soon as `until()` is true. With
    `count`, hey sends exactly that many requests (`-n`) instead of running for `duration`.
    """
    limit = ["-n", str(count)] if count is not None else ["-z", f"{duration:g}s"]
    args = [_tool("hey"), *limit, "-c", str(clients), "-m", "POST", "-T", "application/json"]
    if rate_per_client is not None:
        args += ["-q", f"{rate_per_client:g}"]
    args += ["-d", body, "-o", "csv", url]
    out_path = tmp / f"hey-{time.time_ns()}.csv"
    started = time.monotonic()
    with out_path.open("wb") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
        _wait_tool(process, duration, until)
    seconds = time.monotonic() - started
    text = out_path.read_text(errors="replace")
    times: list[float] = []
    statuses: dict[str, int] = {}
    errors = 0
    offsets: list[float] = []
    for row in csv.DictReader(io.StringIO(text)):
        try:
            elapsed = float(row["response-time"])
            status = row["status-code"]
            offsets.append(float(row["offset"]) + elapsed)
        except (KeyError, TypeError, ValueError):
            continue
        statuses[status] = statuses.get(status, 0) + 1
        if status in {"", "0"}:
            errors += 1
        else:
            times.append(elapsed * 1000)
    ok = sum(count for status, count in statuses.items() if status.startswith("2"))
    non2xx = sum(count for status, count in statuses.items() if status not in {"", "0"} and not status.startswith("2"))
    # Errors that never got a response are printed, not in the CSV rows.
    errors += sum(int(m) for m in re.findall(r"^\s*\[(\d+)\]\s", text, re.MULTILINE))
    span = max(offsets) if offsets else seconds
    requests = sum(statuses.values())
    return Load(
        "hey",
        " ".join(args[1:-1]).replace(body, "'<order>'") + " URL",
        span,
        requests,
        ok,
        non2xx,
        errors,
        requests / span if span else math.nan,
        percentile(times, 50),
        percentile(times, 99),
        max(times) if times else math.nan,
        statuses,
    )


WRK_SCRIPT = """wrk.method = "POST"
wrk.body = '{body}'
wrk.headers["Content-Type"] = "application/json"
"""


def run_wrk(
    url: str,
    *,
    body: str = ORDER_BODY,
    duration: float,
    clients: int,
    threads: int = 2,
    until: Callable[[], bool] | None = None,
    tmp: Path,
) -> Load:
    """`wrk -t T -c C -d {duration}s --latency -s post.lua` (saturation). With `until`, stopped with
    SIGINT (wrk still reports) as soon as `until()` is true."""
    script = tmp / "post.lua"
    script.write_text(WRK_SCRIPT.format(body=body))
    args = [
        _tool("wrk"), "-t", str(threads), "-c", str(clients), "-d", f"{duration:g}s", "--timeout", "10s",
        "--latency", "-s", str(script), url,
    ]  # fmt: skip
    started = time.monotonic()
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    _wait_tool(process, duration, until)
    seconds = time.monotonic() - started
    text = process.stdout.read() if process.stdout else ""
    return parse_wrk(text, " ".join(args[1:-3]) + " -s post.lua URL", seconds)


def _wait_tool(process: subprocess.Popen[Any], duration: float, until: Callable[[], bool] | None) -> None:
    deadline = time.monotonic() + duration + 30
    while process.poll() is None:
        if until is not None and until():
            process.send_signal(signal.SIGINT)
            until = None
        if time.monotonic() > deadline:
            process.kill()
        time.sleep(0.05)


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        return math.nan
    return float(match[1]) * _UNITS[match[2]]


def parse_wrk(text: str, command: str, seconds: float) -> Load:
    def find(pattern: str) -> re.Match[str] | None:
        return re.search(pattern, text, re.MULTILINE)

    total = find(r"^\s*(\d+) requests in ([\d.]+)(\w+)")
    requests = int(total[1]) if total else 0
    span = _ms(f"{total[2]}{total[3]}") / 1000 if total else seconds
    latency = find(r"^\s*Latency\s+(\S+)\s+(\S+)\s+(\S+)")
    p50 = find(r"^\s*50%\s+(\S+)")
    p99 = find(r"^\s*99%\s+(\S+)")
    non2xx_match = find(r"Non-2xx or 3xx responses: (\d+)")
    socket = find(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
    non2xx = int(non2xx_match[1]) if non2xx_match else 0
    errors = sum(int(socket[i]) for i in range(1, 5)) if socket else 0
    rate = find(r"^Requests/sec:\s+([\d.]+)")
    if total is None:
        raise RuntimeError(f"could not parse wrk's output:\n{text}")
    return Load(
        "wrk",
        command,
        span,
        requests,
        requests - non2xx,
        non2xx,
        errors,
        float(rate[1]) if rate else requests / span,
        _ms(p50[1]) if p50 else math.nan,
        _ms(p99[1]) if p99 else math.nan,
        _ms(latency[3]) if latency else math.nan,
    )


def tool_version(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        return "missing"
    for args in ([path, "-v"], [path, "--version"]):
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(args, capture_output=True, text=True, timeout=5, check=False)
            line = (out.stdout or out.stderr).strip().splitlines()
            found = re.search(r"\d+\.\d+(\.\d+)?", line[0]) if line else None
            if found:
                return found[0]
    return "installed"


# ==== command line, machine, tables, summary =====================================================


def parser(description: str | None) -> argparse.ArgumentParser:
    """The options every script has: --backend, --keep, --quick, --summary-json."""
    result = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    result.add_argument(
        "--backend", choices=sorted(DATABASES), default="sqlite", help="database engine (default sqlite)"
    )
    result.add_argument("--keep", action="store_true", help="keep the temp dirs (databases and logs) and print them")
    result.add_argument("--quick", action="store_true", help="smaller, shorter runs (rougher figures)")
    result.add_argument("--summary-json", type=Path, help=argparse.SUPPRESS)  # for run_all.py
    return result


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "missing"


def machine() -> str:
    """The machine and its load when the benchmark starts (other work on it skews every figure)."""
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    usable = len(os.sched_getaffinity(0))
    return (
        f"{cpu_model()}, {os.cpu_count()} cores ({usable} usable), {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"huey {package_version('huey')}, uvicorn {package_version('uvicorn')}, "
        f"hey {'yes' if shutil.which('hey') else 'missing'}, wrk {tool_version('wrk')}; load average {load}"
    )


def header(script: str, args: argparse.Namespace, settings: Mapping[str, object]) -> None:
    print(f"== {script} ==")
    print(f"machine: {machine()}")
    print(f"backend: {args.backend}; quick: {args.quick}; keep: {args.keep}")
    for name, value in settings.items():
        print(f"  {name}: {value}")
    sys.stdout.flush()


def percentile(values: Sequence[float], p: float) -> float:
    """Linear-interpolated percentile (numpy's default), p in [0, 100]."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def ratio(a: float, b: float) -> str:
    if b == 0 or math.isnan(a) or math.isnan(b):
        return "n/a"
    return f"{a / b:.2f}x"


def fmt(value: float, digits: int = 0) -> str:
    return "n/a" if math.isnan(value) else f"{value:,.{digits}f}"


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table, columns padded so it also reads well in a terminal."""
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        return "| " + " | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) + " |"

    return "\n".join([line(cells[0]), line(["-" * w for w in widths]), *(line(row) for row in cells[1:])])


@dataclass
class Figure:
    """One line of the summary: our figure, the peer's in the same run, their ratio and the target."""

    figure: str
    ours: str
    peer: str
    ratio: str
    target: str
    met: str  # "yes", "no" or "-" (no target); a reading, never an assertion

    @staticmethod
    def headers() -> list[str]:
        return ["figure", "ours", "peer", "ratio", "target", "met"]

    def row(self) -> list[str]:
        return [self.figure, self.ours, self.peer, self.ratio, self.target, self.met]


def met(ok: bool | None) -> str:
    return "-" if ok is None else ("yes" if ok else "NO")


def print_summary(figures: Sequence[Figure], path: Path | None) -> None:
    print()
    print("Summary")
    print(table(Figure.headers(), [f.row() for f in figures]))
    if path is not None:
        path.write_text(json.dumps([asdict(f) for f in figures], indent=1))


def read_summary(path: Path) -> list[Figure]:
    return [Figure(**item) for item in json.loads(path.read_text())]
