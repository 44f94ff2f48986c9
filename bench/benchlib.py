"""Helpers shared by the benchmark scripts (not a benchmark itself).

Imported as `benchlib` by the scripts in this directory: `python bench/<script>.py` puts `bench/` first
on `sys.path`. Everything here starts real processes on a real SQLite file that `alembic upgrade head`
migrated, talks only to 127.0.0.1 and local files, and cleans up after itself.
"""

from __future__ import annotations

import contextlib
import math
import os
import platform
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The child-process environment and the SQLite queries are the tests' own helpers (tests/support).
sys.path.insert(0, str(ROOT))
from shared.clock import to_db  # noqa: E402
from tests.support.processes import Service, base_env, run_alembic  # noqa: E402
from tests.support.queue import query, scalar  # noqa: E402

__all__ = ["base_env", "query", "scalar"]
BENCH_DIR = Path(__file__).resolve().parent


# ---- environment and temp dirs -------------------------------------------------------------------


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


def migrate(db_path: Path) -> None:
    """`alembic upgrade head` on a fresh file."""
    run_alembic(db_path, "upgrade", "head")


# ---- child processes ---------------------------------------------------------------------------


@dataclass
class Proc(Service):
    """A named child process whose output goes to a log file (the tests' Service, plus a name)."""

    name: str = ""

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def alive(self) -> bool:
        return self.process.poll() is None


@dataclass
class Processes:
    """Every child a benchmark started; `stop_all()` stops them in reverse order (also on errors)."""

    procs: list[Proc] = field(default_factory=list)

    def spawn(
        self,
        name: str,
        args: Sequence[str],
        env: Mapping[str, str],
        log_dir: Path,
        *,
        stop_signal: int = signal.SIGTERM,
        cwd: Path = ROOT,
    ) -> Proc:
        log_path = log_dir / f"{name}.log"
        with log_path.open("wb") as log_file:
            process = subprocess.Popen(list(args), cwd=cwd, env=dict(env), stdout=log_file, stderr=subprocess.STDOUT)
        proc = Proc(process, log_path, stop_signal=stop_signal, name=name)
        self.procs.append(proc)
        return proc

    def check_alive(self) -> None:
        for proc in self.procs:
            if not proc.alive():
                raise RuntimeError(f"{proc.name} exited with {proc.process.returncode}:\n{proc.log_tail()}")

    def stop_all(self) -> None:
        while self.procs:
            self.procs.pop().stop()


@contextlib.contextmanager
def processes() -> Iterator[Processes]:
    group = Processes()
    try:
        yield group
    finally:
        group.stop_all()


def start_workers(group: Processes, db_path: Path, log_dir: Path, count: int, **env: str) -> list[Proc]:
    """`python -m worker` x count on the file."""
    return [
        group.spawn(f"worker-{i}", [sys.executable, "-m", "worker"], base_env(db_path, **env), log_dir)
        for i in range(count)
    ]


def parse_env(items: Sequence[str]) -> dict[str, str]:
    """NAME=VALUE pairs from the command line (for --worker-env)."""
    env = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise SystemExit(f"expected NAME=VALUE, got {item!r}")
        env[name] = value
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_api(group: Processes, db_path: Path, log_dir: Path, **env: str) -> str:
    """`python -m api` (uvicorn) on a free loopback port; returns its base URL once /health is 200."""
    port = free_port()
    proc = group.spawn(
        f"api-{port}",
        [sys.executable, "-m", "api"],
        base_env(db_path, HOST="127.0.0.1", PORT=str(port), **env),
        log_dir,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"api exited with {proc.process.returncode}:\n{proc.log_tail()}")
        with (
            contextlib.suppress(urllib.error.URLError, ConnectionError, TimeoutError),
            urllib.request.urlopen(url + "/health", timeout=2) as response,  # noqa: S310 - loopback only
        ):
            if response.status == 200:
                return url
        time.sleep(0.1)
    raise TimeoutError(f"api not ready after 30 s:\n{proc.log_tail()}")


def wait_workers_registered(db_path: Path, count: int, group: Processes, timeout: float = 30) -> None:
    """Until `count` workers have registered themselves in the `workers` table (start-up done)."""
    wait_until(
        lambda: scalar(db_path, "SELECT COUNT(*) FROM workers WHERE status = 'running'") >= count,
        timeout,
        f"{count} workers to register",
        group=group,
    )


# ---- SQLite from outside -----------------------------------------------------------------------


def connect(db_path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(db_path, timeout=10, isolation_level=None)
    conn.execute("PRAGMA busy_timeout=10000")
    return conn


def wait_until(
    predicate: Callable[[], bool],
    timeout: float,
    what: str,
    *,
    interval: float = 0.05,
    group: Processes | None = None,
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


def utc_text(moment: datetime | None = None) -> str:
    """The database's timestamp format: UTC `YYYY-MM-DD HH:MM:SS.SSS`."""
    return to_db(moment or datetime.now(UTC))


# ---- SQLite write-lock tracing (strace) ----------------------------------------------------------

# In WAL mode a write transaction holds an fcntl lock on byte 120 of the `-shm` file (WAL_WRITE_LOCK).
# F_SETLK F_WRLCK = 0 is an acquisition, = -1 EAGAIN a busy attempt (the busy handler then sleeps),
# F_UNLCK is the release.
_SHM_LOCK = re.compile(
    r"^(?P<tid>\d+)\s+(?P<ts>\d+\.\d+) "
    r"(?:fcntl\(\d+, F_SETLK, \{l_type=(?P<kind>F_WRLCK|F_UNLCK), l_whence=SEEK_SET, "
    r"l_start=(?P<start>\d+), l_len=(?P<len>\d+)\}(?P<rest>.*)"
    r"|<\.\.\. fcntl resumed>(?P<resumed>.*))$"
)


@dataclass
class LockStats:
    """What one traced process did with the WAL write lock during a window."""

    acquired: int = 0
    busy: int = 0  # attempts refused with EAGAIN: each one costs a busy-handler sleep
    holds_ms: list[float] = field(default_factory=list)

    @staticmethod
    def total(items: Sequence[LockStats]) -> LockStats:
        return LockStats(
            sum(item.acquired for item in items),
            sum(item.busy for item in items),
            [ms for item in items for ms in item.holds_ms],
        )


def strace_available() -> bool:
    return shutil.which("strace") is not None


class LockTracer:
    """strace -f on some processes, counting write-lock acquisitions, busy attempts and hold times.

    Only fcntl is traced (with --seccomp-bpf, so other syscalls run untraced), but tracing still slows
    every transaction: use the counts and the shape, not the timings taken meanwhile.
    """

    def __init__(self, group: Processes, pids: Sequence[int], tmp: Path) -> None:
        strace = shutil.which("strace")
        if strace is None:
            raise RuntimeError("strace not found")
        self._traces: list[tuple[Proc, Path]] = []
        for pid in pids:
            out = tmp / f"strace-{pid}.txt"
            args = [strace, "--seccomp-bpf", "-f", "-qq", "-ttt", "-e", "trace=fcntl", "-e", "signal=none"]
            proc = group.spawn(f"strace-{pid}", [*args, "-o", str(out), "-p", str(pid)], os.environ, tmp)
            proc.stop_signal = signal.SIGINT
            self._traces.append((proc, out))
        time.sleep(1.0)  # attaching takes a moment; callers count only their own window

    def stop(self, start: float, end: float) -> list[LockStats]:
        """Detach; per traced process, what happened between the time.time() stamps start and end."""
        results = []
        for proc, out in self._traces:
            proc.stop()
            if not out.exists():
                raise RuntimeError(f"strace failed ({proc.process.returncode}): {proc.log_tail(3)}")
            results.append(_parse_trace(out.read_text(errors="replace").splitlines(), start, end))
        return results


def _parse_trace(lines: Sequence[str], start: float, end: float) -> LockStats:
    stats = LockStats()
    held: dict[str, float] = {}
    pending: dict[str, tuple[str, float]] = {}  # tid -> (kind, ts) of an "<unfinished ...>" call
    for line in lines:
        match = _SHM_LOCK.match(line)
        if match is None:
            continue
        tid, ts = match["tid"], float(match["ts"])
        if match["resumed"] is not None:
            if tid not in pending:
                continue
            kind, ts = pending.pop(tid)
            rest = match["resumed"].lstrip(") ")
        else:
            if (match["start"], match["len"]) != ("120", "1"):
                continue
            kind, rest = match["kind"], match["rest"].lstrip(") ")
            if "<unfinished" in rest:
                pending[tid] = (kind, ts)
                continue
        inside = start <= ts <= end
        if kind == "F_WRLCK" and rest.startswith("= 0"):
            held[tid] = ts
            stats.acquired += int(inside)
        elif kind == "F_WRLCK" and "EAGAIN" in rest:
            stats.busy += int(inside)
        elif kind == "F_UNLCK" and tid in held:
            began = held.pop(tid)
            if inside:
                stats.holds_ms.append((ts - began) * 1000)
    return stats


# ---- figures -----------------------------------------------------------------------------------


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


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table, columns padded so it also reads well in a terminal."""
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        return "| " + " | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) + " |"

    return "\n".join([line(cells[0]), line(["-" * w for w in widths]), *(line(row) for row in cells[1:])])


def machine() -> str:
    """The machine, and its load when the benchmark starts (other work on it skews every figure)."""
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, load average {load}"
    )
