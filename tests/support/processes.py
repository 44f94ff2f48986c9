"""Start the real programs (alembic, uvicorn via `python -m api`, `python -m worker`) for tests."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from shared.config import Settings

ROOT = Path(__file__).resolve().parents[2]


def child_env(settings: Settings, **extra: str) -> dict[str, str]:
    """A clean environment for a child process: the test's database and data directory, no
    latency, JSON logs, plus what the test sets; nothing from the developer's shell."""
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "TMPDIR") if key in os.environ}
    env.update(
        DATABASE_URL=settings.database_url,
        DATA_DIR=str(settings.resolved_data_dir()),
        PROVIDERS_DATABASE_URL=settings.resolved_providers_url(),
        PYTHONUNBUFFERED="1",
        SIMULATED_LATENCY_SCALE="0",
        LOG_FORMAT="json",
        # The shop's providers allow 60-120 calls a minute; tests that are not about limits lift them.
        RATE_LIMITS="none",
    )
    env.update(extra)
    return env


def run_alembic(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "TMPDIR") if key in os.environ}
    env["DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "alembic", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Service:
    """A child process whose output goes to a log file (read it with `log()`)."""

    process: subprocess.Popen[bytes]
    log_path: Path
    base_url: str = ""
    stop_signal: int = signal.SIGTERM

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def signal(self, sig: int) -> None:
        self.process.send_signal(sig)

    def wait(self, timeout: float) -> int:
        return self.process.wait(timeout=timeout)

    def stop(self, timeout: float = 30) -> int:
        """Send the stop signal, wait, and kill if it does not exit in time; return the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(self.stop_signal)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        return self.process.returncode


def spawn(args: list[str], env: Mapping[str, str], log_path: Path) -> Service:
    log_file = log_path.open("wb")
    process = subprocess.Popen(args, cwd=ROOT, env=dict(env), stdout=log_file, stderr=subprocess.STDOUT)
    log_file.close()
    return Service(process, log_path)


def wait_http_ok(url: str, service: Service, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            raise RuntimeError(f"process exited with {service.process.returncode}:\n{service.log()}")
        with (
            contextlib.suppress(urllib.error.URLError, ConnectionError, TimeoutError),
            urllib.request.urlopen(url, timeout=2) as response,  # noqa: S310 - loopback only
        ):
            if response.status == 200:
                return
        time.sleep(0.1)
    raise TimeoutError(f"{url} not ready after {timeout}s:\n{service.log()}")


@contextlib.contextmanager
def running_api(settings: Settings, log_dir: Path, **env: str) -> Iterator[Service]:
    """`python -m api` (uvicorn) on a free loopback port; stopped with SIGTERM afterwards."""
    port = free_port()
    service = spawn(
        [sys.executable, "-m", "api"],
        child_env(settings, HOST="127.0.0.1", PORT=str(port), **env),
        log_dir / f"api-{port}.log",
    )
    service.base_url = f"http://127.0.0.1:{port}"
    try:
        wait_http_ok(service.base_url + "/health", service)
        yield service
    finally:
        service.stop()


def start_worker(settings: Settings, log_dir: Path, name: str, *args: str, **env: str) -> Service:
    """`python -m worker [args]` as a subprocess; the caller stops or kills it."""
    return spawn([sys.executable, "-m", "worker", *args], child_env(settings, **env), log_dir / f"worker-{name}.log")


def run_worker_burst(
    settings: Settings, *args: str, timeout: float = 120, **env: str
) -> subprocess.CompletedProcess[str]:
    """`python -m worker --burst`: runs until no job is due, then exits."""
    return subprocess.run(
        [sys.executable, "-m", "worker", "--burst", *args],
        cwd=ROOT,
        env=child_env(settings, **env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
