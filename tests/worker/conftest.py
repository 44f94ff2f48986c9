"""Worker tests run real `python -m worker` processes; every one is stopped at the end."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from shared.config import Settings
from tests.support.processes import Service, start_worker

WorkerFactory = Callable[..., Service]

# How many worker processes the multi-process tests run: SQLite serves one host, where three workers
# is the bundle's documented scale; PostgreSQL is for many hosts, so its conformance runs six.
FLEET_SIZES = {"sqlite": 3, "postgres": 6}


@pytest.fixture
def workers(settings: Settings, tmp_path: Path) -> Iterator[WorkerFactory]:
    started: list[Service] = []

    def start(name: str, *args: str, **env: str) -> Service:
        service = start_worker(settings, tmp_path, name, *args, **env)
        started.append(service)
        return service

    yield start
    for service in started:
        if service.process.poll() is None:
            service.process.send_signal(signal.SIGKILL)
            service.process.wait(timeout=10)


@pytest.fixture
def fleet(backend: str) -> list[str]:
    """Names for the worker processes of a multi-process test on this backend."""
    return [f"w{i}" for i in range(1, FLEET_SIZES[backend] + 1)]


def assert_no_lock_errors(services: list[Service]) -> None:
    for service in services:
        assert "database is locked" not in service.log(), service.log()[-3000:]
