"""GET /admin/jobs (filters, cursor pages) and GET /admin/jobs/{id} (detail and timeline)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

from shared.clock import to_api, utcnow
from shared.db import Database
from shared.queue.store import Kind
from tests.api.helpers import assert_error
from tests.support.operator import add_job, finish, take

JOB_KEYS = {
    "id",
    "type",
    "status",
    "priority",
    "attempts",
    "maxAttempts",
    "lastError",
    "scheduledAt",
    "createdAt",
    "updatedAt",
    "startedAt",
    "completedAt",
    "lockedBy",
    "workflowId",
    "parentId",
    "idempotencyKey",
}


def ids(page: dict[str, Any]) -> list[str]:
    return [job["id"] for job in page["jobs"]]


def listing(client: TestClient[Litestar], **params: Any) -> dict[str, Any]:
    response = client.get("/admin/jobs", params=params)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


def test_two_pages_newest_first_without_overlap(client: TestClient[Litestar], db: Database) -> None:
    created = [add_job(db) for _ in range(5)]

    first = listing(client, limit=3)
    second = listing(client, limit=3, cursor=first["nextCursor"])

    assert ids(first) == created[::-1][:3]
    assert ids(second) == created[::-1][3:]
    assert second["nextCursor"] is None
    assert set(first["jobs"][0]) == JOB_KEYS
    assert listing(client)["nextCursor"] is None  # the default page (50) holds them all


def test_filters(client: TestClient[Litestar], db: Database) -> None:
    old = add_job(db, at=utcnow() - timedelta(days=2))
    due = add_job(db)
    later = add_job(db, delay=3600)
    invoice = add_job(db, "generate_invoice", {"orderId": "order-7"})
    finish(db, take(db), Kind.COMPLETED)  # the oldest due job: `old`

    assert ids(listing(client, status="pending")) == [invoice, due]
    assert ids(listing(client, status="scheduled")) == [later]
    assert ids(listing(client, status="completed")) == [old]
    assert ids(listing(client, type="generate_invoice")) == [invoice]
    assert ids(listing(client, workflowId="order-7")) == [invoice]
    assert ids(listing(client, type="send_email", status="pending")) == [due]
    since = to_api(utcnow() - timedelta(days=1))
    assert ids(listing(client, createdFrom=since)) == [invoice, later, due]
    assert ids(listing(client, createdTo=since)) == [old]
    naive_since = (utcnow() - timedelta(days=1)).replace(tzinfo=None).isoformat()  # read as UTC
    assert ids(listing(client, createdFrom=naive_since)) == [invoice, later, due]


def test_workflow_filter_finds_an_orders_pipeline(client: TestClient[Litestar]) -> None:
    order = client.post("/orders", json={"userId": "u1", "items": [{"productId": "prod-1", "quantity": 1}]})
    assert order.status_code == 201, order.text

    page = listing(client, workflowId=order.json()["id"])

    assert sorted(job["type"] for job in page["jobs"]) == ["send_followup_email", "send_order_confirmation"]


def test_listing_refuses_bad_parameters(client: TestClient[Litestar]) -> None:
    for params, field in (
        ({"status": "stuck"}, "status"),
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"createdFrom": "yesterday"}, "createdFrom"),
        ({"cursor": "not-a-cursor"}, "cursor"),
    ):
        error = assert_error(client.get("/admin/jobs", params=params), 400, "VALIDATION_ERROR")
        assert [d["field"] for d in error["details"]] == [field], params


def test_a_dead_letter_cursor_is_not_a_job_cursor(client: TestClient[Litestar], db: Database) -> None:
    for _ in range(2):
        add_job(db)
        finish(db, take(db), Kind.DEAD, "boom")
    letters = client.get("/admin/dead-letter", params={"limit": 1}).json()

    assert_error(client.get("/admin/jobs", params={"cursor": letters["nextCursor"]}), 400, "VALIDATION_ERROR")


def test_detail_of_a_job_that_failed_once(client: TestClient[Litestar], db: Database) -> None:
    job_id = add_job(db)
    finish(db, take(db), Kind.FAILED, "SMTP timeout")
    waiting = client.get(f"/admin/jobs/{job_id}").json()
    assert client.post(f"/admin/jobs/{job_id}/retry").status_code == 200  # due now, not after the backoff

    response = client.get(f"/admin/jobs/{job_id}")

    assert response.status_code == 200, response.text
    detail = response.json()
    assert waiting["scheduledAt"] > detail["scheduledAt"] > detail["createdAt"]
    assert set(detail) == JOB_KEYS | {
        "payload",
        "requestId",
        "cancelRequested",
        "failures",
        "timeline",
        "children",
        "deadLetters",
    }
    assert detail["payload"] == {"to": "ops@shop.test", "subject": "hello", "body": "", "orderId": None}
    assert (detail["status"], detail["attempts"], detail["lastError"]) == ("pending", 1, "SMTP timeout")
    assert [(f["attempt"], f["error"], f["outcome"]) for f in detail["failures"]] == [(1, "SMTP timeout", "retried")]
    assert [(e["event"], e["attempt"], e["detail"]) for e in detail["timeline"]] == [
        ("created", None, None),
        ("started", 1, None),
        ("failed", 1, "SMTP timeout"),
        ("scheduled", None, None),  # retried by hand: due again at once
    ]
    times = [e["at"] for e in detail["timeline"]]
    assert times == sorted(times)
    assert (detail["children"], detail["deadLetters"], detail["requestId"]) == ([], [], None)


def test_detail_of_a_dead_letter_with_its_entry(client: TestClient[Litestar], db: Database) -> None:
    job_id = add_job(db)
    finish(db, take(db), Kind.DEAD, "invalid address")

    detail = client.get(f"/admin/jobs/{job_id}").json()

    assert [e["event"] for e in detail["timeline"]] == ["created", "started", "dead_lettered"]
    [entry] = detail["deadLetters"]
    assert (entry["originalJobId"], entry["lastError"], entry["reviewed"]) == (job_id, "invalid address", False)


def test_detail_of_an_unknown_job_is_404(client: TestClient[Litestar]) -> None:
    assert "nope" in assert_error(client.get("/admin/jobs/nope"), 404, "NOT_FOUND")["message"]
