"""Dashboard tests: the real API (`python -m api` on uvicorn) and real workers on a migrated SQLite
file, driven in Debian's headless Chromium. Without Chromium the browser tests skip with the reason
(and fail under CI=true, where .ci/run installs it)."""

from __future__ import annotations

import os
import secrets
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from shared.config import Settings
from tests.dashboard.browser import CHROMIUM, CHROMIUM_ARGS, VIEWPORT, Dashboard, Screenshots
from tests.support.processes import Service, running_api, start_worker

WorkerFactory = Callable[..., Service]
WAIT_MS = 30_000  # how long a browser waits for a condition: generous for a loaded 2-core machine


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One Chromium per test module. Not per session: Playwright's sync API keeps an event loop
    running in this thread while it is active, and other tests call asyncio.run()."""
    if not os.access(CHROMIUM, os.X_OK):
        message = f"the dashboard tests need Chromium at {CHROMIUM} (Debian: apt-get install chromium)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)  # in CI a missing browser is a broken run, not a reason to skip
        pytest.skip(message)
    expect.set_options(timeout=WAIT_MS)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def admin_token() -> str:
    return secrets.token_urlsafe(24)


@pytest.fixture
def api(settings: Settings, tmp_path: Path, admin_token: str) -> Iterator[Service]:
    with running_api(settings, tmp_path, ADMIN_TOKEN=admin_token) as service:
        yield service


@pytest.fixture
def dashboard(browser: Browser, api: Service, admin_token: str) -> Iterator[Dashboard]:
    """A fresh browser context (no cookies) at 1280x800 on the running API."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    board = Dashboard(page, api.base_url, admin_token)
    page.on("request", lambda request: board.urls.append(request.url))
    yield board
    context.close()


@pytest.fixture
def screenshots(tmp_path: Path) -> Screenshots:
    directory = tmp_path / "screenshots"
    directory.mkdir()
    return Screenshots(directory)


@pytest.fixture
def workers(settings: Settings, tmp_path: Path) -> Iterator[WorkerFactory]:
    """Start `python -m worker` processes; each is killed at the end of the test."""
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
