"""Signing in with the admin token, in a real browser: refused tokens, redirects, the cookie, and the
token never in a URL."""

from __future__ import annotations

from urllib.parse import unquote

from playwright.sync_api import expect

from tests.dashboard.browser import Dashboard, Screenshots

SESSION_COOKIE = "shopqueue_dashboard"


def test_sign_in_with_the_token_and_out_again(dashboard: Dashboard, screenshots: Screenshots) -> None:
    page = dashboard.page
    response = dashboard.open("/admin/ui/jobs?status=failed")
    assert response is not None
    assert response.ok
    # Without a session every page sends the browser to the login form, remembering where it was going.
    assert page.url == dashboard.url("/admin/ui/login?next=%2Fadmin%2Fui%2Fjobs%3Fstatus%3Dfailed")
    page.get_by_label("Admin token").fill("not-the-token")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("[data-login-error]")).to_have_text("That token is not valid.")
    assert page.url == dashboard.url("/admin/ui/login")  # the form posted to itself, nothing in the URL
    assert not [c for c in page.context.cookies() if c["name"] == SESSION_COOKIE]
    screenshots.take(page, "login-refused")

    page.get_by_label("Admin token").fill(dashboard.token)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(dashboard.url("/admin/ui/jobs?status=failed"))
    expect(page.get_by_role("heading", name="Jobs")).to_be_visible()
    (cookie,) = [c for c in page.context.cookies() if c["name"] == SESSION_COOKIE]
    assert cookie["httpOnly"]
    assert cookie["sameSite"] == "Strict"
    assert cookie["path"] == "/admin"
    assert dashboard.token not in cookie["value"]
    assert page.evaluate("document.cookie") == ""  # invisible to scripts

    for path, heading in (
        ("/admin", "Overview"),
        ("/admin/ui/dead-letter", "Dead letters"),
        ("/admin/ui/queues", "Queues"),
        ("/admin/ui/schedules", "Schedules"),
    ):
        page.get_by_role("navigation").get_by_role("link", name=heading).click()
        page.wait_for_url(dashboard.url(path))
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(dashboard.url("/admin/ui/login"))
    expect(page.locator("[data-flash]")).to_have_text("Signed out.")
    assert not [c for c in page.context.cookies() if c["name"] == SESSION_COOKIE]
    dashboard.open("/admin")
    assert page.url == dashboard.url("/admin/ui/login?next=%2Fadmin")

    visited = [unquote(url) for url in dashboard.urls]
    assert visited
    assert not [url for url in visited if dashboard.token in url]
