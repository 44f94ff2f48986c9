"""Worker tests run real `python -m worker` processes; every one is stopped at the end."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from shared.config import Settings
from tests.support.processes import Service, start_worker

WorkerFactory = Callable[..., Service]


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


def assert_no_lock_errors(services: list[Service]) -> None:
    for service in services:
        assert "database is locked" not in service.log(), service.log()[-3000:]
