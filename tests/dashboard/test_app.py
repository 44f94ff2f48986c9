"""The dashboard's protections in-process (the real app through Litestar's TestClient): sessions,
CSRF, headers, redirects and what stays out of the OpenAPI document."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from api.app import create_app
from api.dashboard.auth import SESSION_COOKIE, SESSION_SECONDS, new_session, session_valid
from shared.clock import utcnow
from shared.config import Settings
from shared.db import Database
from tests.support.queue import query

ADMIN = "admin-token-of-these-tests"
PAGES = ("/admin", "/admin/ui/jobs", "/admin/ui/dead-letter", "/admin/ui/queues", "/admin/ui/schedules")


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient[Litestar]]:
    with TestClient(create_app(msgspec.structs.replace(settings, admin_token=ADMIN))) as test_client:
        yield test_client


def sign_in(client: TestClient[Litestar]) -> None:
    response = client.post("/admin/ui/login", data={"token": ADMIN, "next": "/admin"}, follow_redirects=False)
    assert response.status_code == 303


def csrf_of(client: TestClient[Litestar], page: str) -> str:
    html = client.get(page).text
    marker = 'name="csrf" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


@pytest.mark.parametrize("path", [*PAGES, "/admin/ui/jobs/x", "/admin/ui/orders/x"])
def test_every_page_needs_a_session(client: TestClient[Litestar], path: str) -> None:
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/admin/ui/login?next=")
    fragment = client.get(path, headers={"X-Dashboard-Fragment": "1"}, follow_redirects=False)
    assert fragment.status_code == 401  # the refresh script reloads the page, which then redirects


def test_the_session_cookie_is_derived_from_the_token(client: TestClient[Litestar]) -> None:
    response = client.post("/admin/ui/login", data={"token": ADMIN, "next": "/admin"}, follow_redirects=False)
    cookie = response.headers["set-cookie"]
    assert ADMIN not in cookie
    for attribute in ("HttpOnly", "SameSite=strict", "Path=/admin", f"Max-Age={SESSION_SECONDS}"):
        assert attribute in cookie
    for path in PAGES:
        assert client.get(path).status_code == 200


def test_sessions_end_when_the_token_rotates_or_they_expire() -> None:
    now = utcnow()
    session = new_session(ADMIN, now)
    assert session_valid(ADMIN, session, now)
    assert not session_valid("a-rotated-token", session, now)
    assert not session_valid(ADMIN, session, now + timedelta(seconds=SESSION_SECONDS + 1))
    assert not session_valid("", session, now)
    issued, _, mac = session.partition(".")
    assert not session_valid(ADMIN, f"{int(issued) + 1}.{mac}", now)  # the time is signed too
    assert not session_valid(ADMIN, "garbage", now)
    assert not session_valid(ADMIN, f"{issued}.ü", now)
    assert not session_valid(ADMIN, f"{issued}²." + mac, now)  # a digit to str.isdigit, not to int()


def test_a_rotated_token_signs_everyone_out(settings: Settings) -> None:
    with TestClient(create_app(msgspec.structs.replace(settings, admin_token=ADMIN))) as before:
        sign_in(before)
        cookie = before.cookies[SESSION_COOKIE]
    with TestClient(create_app(msgspec.structs.replace(settings, admin_token=ADMIN + "-rotated"))) as after:
        after.cookies.set(SESSION_COOKIE, cookie, path="/admin")
        assert after.get("/admin", follow_redirects=False).status_code == 303


def test_without_admin_token_the_login_always_fails(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        form = client.get("/admin/ui/login")
        assert "ADMIN_TOKEN is not set" in form.text
        refused = client.post("/admin/ui/login", data={"token": ""}, follow_redirects=False)
        assert refused.status_code == 403
        assert "ADMIN_TOKEN is not set" in refused.text
        assert SESSION_COOKIE not in refused.headers.get("set-cookie", "")
        assert client.get("/admin", follow_redirects=False).status_code == 303


def test_the_token_in_a_url_signs_nobody_in(client: TestClient[Litestar]) -> None:
    for url in (f"/admin?token={ADMIN}", f"/admin/ui/login?token={ADMIN}"):
        client.get(url)
        assert SESSION_COOKIE not in client.cookies
    assert client.get("/admin", follow_redirects=False).status_code == 303


def test_after_login_only_dashboard_paths_are_followed(client: TestClient[Litestar]) -> None:
    for target, expected in (
        ("/admin/ui/queues", "/admin/ui/queues"),
        ("https://evil.example/", "/admin"),
        ("//evil.example/admin", "/admin"),
        ("/admin\r\nSet-Cookie: x=1", "/admin"),
    ):
        response = client.post("/admin/ui/login", data={"token": ADMIN, "next": target}, follow_redirects=False)
        assert response.headers["location"] == expected


def test_actions_need_the_csrf_token_of_the_session(client: TestClient[Litestar], db: Database) -> None:
    sign_in(client)
    action = "/admin/ui/queues/send_email/pause"
    assert client.post(action, data={"next": "/admin/ui/queues"}).status_code == 403
    assert client.post(action, data={"csrf": "x" * 64}).status_code == 403
    assert client.get(action).status_code == 405  # never a GET
    assert query(db, "SELECT type FROM queue_pauses") == []
    token = csrf_of(client, "/admin/ui/queues")
    assert client.post(action, data={"csrf": token}, follow_redirects=False).status_code == 303
    assert query(db, "SELECT type FROM queue_pauses") == [("send_email",)]
    client.cookies.delete(SESSION_COOKIE)
    refused = client.post("/admin/ui/queues/send_email/resume", data={"csrf": token}, follow_redirects=False)
    assert refused.status_code == 303
    assert refused.headers["location"].startswith("/admin/ui/login")
    assert query(db, "SELECT type FROM queue_pauses") == [("send_email",)]


def test_security_headers_on_pages_redirects_errors_and_static_files(client: TestClient[Litestar]) -> None:
    responses = [client.get("/admin", follow_redirects=False), client.get("/admin/static/dashboard.js")]
    sign_in(client)
    responses += [client.get(path) for path in PAGES]
    responses += [client.get("/admin/ui/jobs/nope"), client.get("/admin/ui/jobs?status=bogus")]
    assert [r.status_code for r in responses] == [303, 200, 200, 200, 200, 200, 200, 404, 400]
    for response in responses:
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy
        assert "'unsafe-inline'" not in policy
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["cache-control"] == "no-store"
    for error in responses[-2:]:  # HTML pages, not the API's JSON envelope
        assert error.headers["content-type"].startswith("text/html")
    assert "There is no job &#39;nope&#39;." in responses[-2].text
    assert "unknown status &#39;bogus&#39;" in responses[-1].text


def test_dashboard_routes_stay_out_of_the_openapi_document(client: TestClient[Litestar]) -> None:
    paths = client.get("/schema/openapi.json").json()["paths"]
    assert not [path for path in paths if path == "/admin" or path.startswith(("/admin/ui", "/admin/static"))]
