"""Driving the dashboard in Debian's headless Chromium through Playwright's sync API."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from playwright.sync_api import Page, Response, ViewportSize

from tests.support.processes import ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Debian's Chromium on a closed network: no background connections, no sandbox (we may run as root).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}
PUBLISHED = ROOT / "docs" / "screenshots"


@dataclass
class Dashboard:
    """One signed-out browser context on a running API, recording every URL it asks for."""

    page: Page
    base_url: str
    token: str
    urls: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base_url + path

    def open(self, path: str) -> Response | None:
        return self.page.goto(self.url(path))

    def sign_in(self, path: str = "/admin", token: str | None = None) -> None:
        """Open `path`, get sent to the login form, post the token, land back on `path`."""
        self.open(path)
        self.page.get_by_label("Admin token").fill(self.token if token is None else token)
        self.page.get_by_role("button", name="Sign in").click()
        self.page.wait_for_url(self.url(path))

    def place_order(self, user: str = "dashboard-user", product: str = "prod-2") -> str:
        """POST /orders on the running API (the shop's front door); returns the order id."""
        body = {"userId": user, "items": [{"productId": product, "quantity": 1}]}
        response = httpx.post(self.url("/orders"), json=body, timeout=30)
        assert response.status_code == 201, response.text
        order_id: str = response.json()["id"]
        return order_id


@dataclass
class Screenshots:
    """Screenshots into the test's own directory; with UPDATE_SCREENSHOTS=1 the published ones also
    go to docs/screenshots (the README shows them)."""

    directory: Path
    publish: bool = False

    def take(self, page: Page, name: str, *, full_page: bool = False) -> Path:
        path = self.directory / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        if self.publish and os.environ.get("UPDATE_SCREENSHOTS") == "1":
            PUBLISHED.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, PUBLISHED / path.name)
        return path
