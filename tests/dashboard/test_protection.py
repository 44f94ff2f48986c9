"""In the browser: a state-changing POST without the page's CSRF token is refused and changes
nothing; every page is served with a strict Content-Security-Policy that our own script lives with."""

from __future__ import annotations

from playwright.sync_api import ConsoleMessage, expect

from shared.db import Database
from tests.dashboard.browser import Dashboard
from tests.support.queue import query

PAUSE = "/admin/ui/queues/send_email/pause"


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(dashboard: Dashboard, db: Database) -> None:
    dashboard.sign_in("/admin/ui/queues")
    page = dashboard.page
    # The browser's own request context carries the session cookie, exactly as a forged form would.
    forms: list[dict[str, str | float | bool]] = [
        {"next": "/admin/ui/queues"},
        {"next": "/admin/ui/queues", "csrf": "0" * 64},
    ]
    for form in forms:
        refused = page.request.post(dashboard.url(PAUSE), form=form, max_redirects=0)
        assert refused.status == 403
        assert "CSRF token" in refused.text()
    assert query(db, "SELECT type FROM queue_pauses") == []
    page.reload()
    expect(page.locator("[data-queue='send_email'] [data-queue-state]")).to_have_text("active")

    # The same request with the token the page carries goes through: the token was all that was missing.
    token = page.locator(f"form[action='{PAUSE}'] input[name='csrf']").input_value()
    accepted = page.request.post(
        dashboard.url(PAUSE), form={"csrf": token, "next": "/admin/ui/queues"}, max_redirects=0
    )
    assert accepted.status == 303
    assert query(db, "SELECT type FROM queue_pauses") == [("send_email",)]


def test_pages_carry_a_strict_content_security_policy(dashboard: Dashboard) -> None:
    violations: list[str] = []

    def watch(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            violations.append(message.text)

    dashboard.page.on("console", watch)
    dashboard.sign_in("/admin")
    response = dashboard.open("/admin")
    assert response is not None
    headers = response.headers
    policy = headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert "frame-ancestors 'none'" in policy
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["cache-control"] == "no-store"
    # The script runs under that policy: it marks the page live, then refreshes the live region.
    expect(dashboard.page.locator("[data-live-status]")).to_have_text("live")
    first = dashboard.page.locator("[data-stamp]").inner_text()
    expect(dashboard.page.locator("[data-stamp]")).not_to_have_text(first)
    assert violations == []
