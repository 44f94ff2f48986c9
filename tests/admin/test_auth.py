"""Every admin route answers 401 in the error envelope unless the request carries ADMIN_TOKEN;
with no token configured the admin API is closed to everyone."""

from __future__ import annotations

from collections.abc import Iterator

import msgspec
import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import TestClient

from api.app import create_app
from shared.config import Settings
from shared.db import Database
from tests.admin.conftest import TOKEN
from tests.api.helpers import assert_error
from tests.support.operator import add_job, job_count

CHALLENGE = 'Bearer realm="shopqueue admin"'


DASHBOARD = ("/admin/ui", "/admin/static")  # HTML pages with a login session of their own (tests/dashboard)


def admin_requests(app: Litestar) -> list[tuple[str, str]]:
    """(method, path) of every admin API route, with a placeholder for each path parameter."""
    found: list[tuple[str, str]] = []
    for route in app.routes:
        if isinstance(route, HTTPRoute) and route.path.startswith("/admin/") and not route.path.startswith(DASHBOARD):
            path = route.path_format.format(**dict.fromkeys(route.path_parameters, "x"))
            for handler in route.route_handlers:
                found.extend((method, path) for method in sorted(handler.http_methods))
    return found


def test_every_admin_route_refuses_a_request_without_a_token(anonymous: TestClient[Litestar]) -> None:
    requests = admin_requests(anonymous.app)
    assert len(requests) >= 20
    assert ("POST", "/admin/dead-letter/retry") in requests

    for method, path in requests:
        response = anonymous.request(method, path, json={})
        error = assert_error(response, 401, "UNAUTHORIZED")
        assert "token" in error["message"], (method, path)
        assert response.headers["www-authenticate"] == CHALLENGE


@pytest.mark.parametrize(
    "authorization",
    [f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", TOKEN, f"Basic {TOKEN}", "Bearer "],
    ids=["longer", "shorter", "no-scheme", "basic", "empty"],
)
def test_a_wrong_token_is_refused_and_changes_nothing(
    anonymous: TestClient[Litestar], db: Database, authorization: str
) -> None:
    response = anonymous.post(
        "/admin/jobs",
        json={"type": "send_email", "payload": {"to": "a@b.test", "subject": "x"}},
        headers={"Authorization": authorization},
    )

    assert_error(response, 401, "UNAUTHORIZED")
    assert job_count(db) == 0


def test_the_right_token_is_let_through(anonymous: TestClient[Litestar]) -> None:
    response = anonymous.get("/admin/queue/stats", headers={"Authorization": f"bearer {TOKEN}"})

    assert response.status_code == 200, response.text


@pytest.fixture
def closed(settings: Settings) -> Iterator[TestClient[Litestar]]:
    """The app with no ADMIN_TOKEN set."""
    assert settings.admin_token == ""
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.mark.parametrize("authorization", ["", "Bearer ", f"Bearer {TOKEN}"])
def test_without_a_configured_token_the_admin_api_is_closed(
    closed: TestClient[Litestar], db: Database, authorization: str
) -> None:
    job_id = add_job(db)
    headers = {"Authorization": authorization} if authorization else {}

    listing = closed.get("/admin/jobs", headers=headers)
    cancel = closed.post(f"/admin/jobs/{job_id}/cancel", headers=headers)

    assert "disabled" in assert_error(listing, 401, "UNAUTHORIZED")["message"]
    assert_error(cancel, 401, "UNAUTHORIZED")
    with db.read() as tx:
        assert tx.scalar("SELECT status FROM jobs WHERE id = :id", {"id": job_id}) == "pending"


def test_the_token_is_not_needed_by_the_shop(closed: TestClient[Litestar]) -> None:
    assert closed.get("/products").status_code == 200


def test_settings_with_a_token_still_refuse_other_tokens(settings: Settings) -> None:
    open_app = create_app(msgspec.structs.replace(settings, admin_token=TOKEN))
    with TestClient(open_app) as test_client:
        response = test_client.get("/admin/queues", headers={"Authorization": "Bearer something-else"})

    assert_error(response, 401, "UNAUTHORIZED")
