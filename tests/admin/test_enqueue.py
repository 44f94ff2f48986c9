"""POST /admin/jobs: a known type with a validated payload and options, or 400 and nothing written."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from shared.db import Database
from tests.api.helpers import assert_error
from tests.support.operator import email, job_count, job_row


def test_enqueue_with_options(client: TestClient[Litestar], db: Database) -> None:
    response = client.post(
        "/admin/jobs",
        json={
            "type": "send_email",
            "payload": email("team@shop.test"),
            "priority": 20,
            "delaySeconds": 600,
            "maxAttempts": 2,
            "idempotencyKey": "weekly-digest",
        },
    )

    assert response.status_code == 201, response.text
    job = response.json()
    row = job_row(db, job["id"])
    assert (row.type, row.status, row.priority, row.max_attempts) == ("send_email", "pending", 20, 2)
    assert row.idempotency_key == "weekly-digest"
    assert timedelta(seconds=599) < row.scheduled_at - row.created_at < timedelta(seconds=601)
    assert (job["priority"], job["maxAttempts"], job["status"]) == (20, 2, "pending")
    assert job["scheduledAt"].endswith("Z")


def test_defaults_come_from_the_type(client: TestClient[Litestar], db: Database) -> None:
    response = client.post("/admin/jobs", json={"type": "cleanup_completed_jobs"})

    assert response.status_code == 201, response.text
    row = job_row(db, response.json()["id"])
    assert (row.priority, row.max_attempts, row.payload) == (0, 5, '{"olderThanDays":null}')
    assert row.scheduled_at == row.created_at


def test_scheduled_at(client: TestClient[Litestar], db: Database) -> None:
    response = client.post(
        "/admin/jobs", json={"type": "send_email", "payload": email(), "scheduledAt": "2031-01-02T03:04:05+01:00"}
    )

    assert response.status_code == 201, response.text
    assert response.json()["scheduledAt"] == "2031-01-02T02:04:05.000Z"
    assert job_row(db, response.json()["id"]).scheduled_at == datetime.fromisoformat("2031-01-02T02:04:05+00:00")


def test_a_time_long_past_is_due_now(client: TestClient[Litestar], db: Database) -> None:
    """Found by the fuzzer: the year 60 was stored as `60-...` on SQLite, which sorts after `2026-...`
    (never due) and did not parse back (a 500)."""
    response = client.post(
        "/admin/jobs", json={"type": "send_email", "payload": email(), "scheduledAt": "0060-10-27T04:12:20+08:29"}
    )

    assert response.status_code == 201, response.text
    assert response.json()["scheduledAt"] == "0060-10-26T19:43:20.000Z"
    due = client.get("/admin/jobs", params={"status": "pending"}).json()["jobs"]
    assert [job["id"] for job in due] == [response.json()["id"]]


@pytest.mark.parametrize("moment", ["9999-12-31T23:00:00-05:00", "0001-01-01T00:30:00+01:00"], ids=["after", "before"])
def test_a_time_outside_the_years_1_to_9999_in_utc_is_400(
    client: TestClient[Litestar], db: Database, moment: str
) -> None:
    """Found by the fuzzer: valid RFC 3339 that no UTC datetime can hold was a 500 (OverflowError)."""
    enqueue = client.post("/admin/jobs", json={"type": "send_email", "payload": email(), "scheduledAt": moment})
    listing = client.get("/admin/jobs", params={"createdTo": moment})
    bulk = client.post("/admin/dead-letter/retry", json={"failedFrom": moment})

    for response, field in ((enqueue, "scheduledAt"), (listing, "createdTo"), (bulk, "failedFrom")):
        error = assert_error(response, 400, "VALIDATION_ERROR")
        assert error["details"] == [{"field": field, "message": "out of range in UTC: years 1 to 9999"}]
    assert job_count(db) == 0


def test_an_idempotency_key_held_by_an_unfinished_job_returns_that_job(
    client: TestClient[Litestar], db: Database
) -> None:
    body = {"type": "send_email", "payload": email(), "idempotencyKey": "once"}

    first = client.post("/admin/jobs", json=body)
    again = client.post("/admin/jobs", json=body)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert job_count(db) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "launch_rocket", "payload": {}}, "type"),
        ({"type": "send_email", "payload": {"to": "not-an-address", "subject": "x"}}, "payload.to"),
        # The job type names the object holding a missing or unknown key, and the key in its message.
        ({"type": "send_email", "payload": {"subject": "x"}}, "payload"),
        ({"type": "send_email", "payload": {**email(), "cc": "x@y.z"}}, "payload"),
        ({"type": "send_email", "payload": email(), "scheduledAt": "2031-01-01T00:00:00Z", "delaySeconds": 5}, None),
        ({"type": "send_email", "payload": email(), "maxAttempts": 0}, "maxAttempts"),
        ({"type": "send_email", "payload": email(), "maxAttempts": "3"}, "maxAttempts"),
        ({"type": "send_email", "payload": email(), "delaySeconds": -1}, "delaySeconds"),
        ({"type": "send_email", "payload": email(), "scheduledAt": "2031-01-01T00:00:00"}, "scheduledAt"),
        ({"type": "send_email", "payload": email(), "priority": 1000}, "priority"),
        ({"type": "send_email", "payload": email(), "idempotencyKey": ""}, "idempotencyKey"),
        ({"type": "send_email", "payload": email(), "queue": "fast"}, "queue"),
        ({"payload": email()}, "type"),
    ],
    ids=[
        "unknown-type",
        "bad-payload",
        "missing-field",
        "unknown-payload-field",
        "both-times",
        "max-attempts-0",
        "max-attempts-string",
        "negative-delay",
        "naive-time",
        "priority",
        "blank-key",
        "unknown-field",
        "no-type",
    ],
)
def test_invalid_requests_change_nothing(
    client: TestClient[Litestar], db: Database, body: dict[str, Any], field: str | None
) -> None:
    response = client.post("/admin/jobs", json=body)

    error = assert_error(response, 400, "VALIDATION_ERROR")
    fields = [detail["field"] for detail in error["details"]]
    assert fields == [field or "delaySeconds"]
    assert job_count(db) == 0


def test_a_missing_or_malformed_body_is_400(client: TestClient[Litestar], db: Database) -> None:
    headers = {"Content-Type": "application/json"}

    assert_error(client.post("/admin/jobs", content=b"", headers=headers), 400, "VALIDATION_ERROR")
    assert_error(client.post("/admin/jobs", content=b"{", headers=headers), 400, "VALIDATION_ERROR")
    assert job_count(db) == 0
