"""`shopqueue jobs list|show|retry|cancel`."""

from __future__ import annotations

from datetime import timedelta

from shared.clock import utcnow
from shared.db import Database
from shared.queue.store import Kind
from tests.cli.conftest import Shopqueue, failed, ok, ok_json
from tests.support.operator import add_job, finish, job_row, run, take


def test_list_pages_as_json(shopqueue: Shopqueue, db: Database) -> None:
    created = [add_job(db) for _ in range(3)]

    first = ok_json(shopqueue("jobs", "list", "--limit", "2", "--json"))
    second = ok_json(shopqueue("jobs", "list", "--limit", "2", "--cursor", first["nextCursor"], "--json"))

    assert [j["id"] for j in first["jobs"] + second["jobs"]] == created[::-1]
    assert second["nextCursor"] is None
    assert {"id", "type", "status", "maxAttempts", "scheduledAt"} <= set(first["jobs"][0])


def test_list_filters_as_text(shopqueue: Shopqueue, db: Database) -> None:
    old = add_job(db, at=utcnow() - timedelta(days=3))
    later = add_job(db, delay=600)
    invoice = add_job(db, "generate_invoice", {"orderId": "o-9"})

    scheduled = ok(shopqueue("jobs", "list", "--status", "scheduled"))
    invoices = ok(shopqueue("jobs", "list", "--type", "generate_invoice"))
    of_order = ok(shopqueue("jobs", "list", "--workflow", "o-9"))
    recent = ok(shopqueue("jobs", "list", "--created-from", (utcnow() - timedelta(days=1)).date().isoformat()))
    paged = ok(shopqueue("jobs", "list", "--limit", "1"))

    assert scheduled.splitlines()[0].split()[:3] == ["ID", "TYPE", "STATUS"]
    assert [line.split()[0] for line in scheduled.splitlines()[1:]] == [later]
    assert [line.split()[0] for line in invoices.splitlines()[1:]] == [invoice]
    assert [line.split()[0] for line in of_order.splitlines()[1:]] == [invoice]
    assert old not in recent
    assert later in recent
    assert paged.splitlines()[-1].startswith("more: --cursor ")
    assert ok(shopqueue("jobs", "list", "--status", "failed")).strip() == "no jobs"


def test_list_refuses_bad_options(shopqueue: Shopqueue) -> None:
    assert "--status" in failed(shopqueue("jobs", "list", "--status", "stuck"), 2)
    assert "--limit" in failed(shopqueue("jobs", "list", "--limit", "0"), 2)
    assert "ISO 8601" in failed(shopqueue("jobs", "list", "--created-to", "soon"), 2)
    assert "cursor" in failed(shopqueue("jobs", "list", "--cursor", "garbage"), 2)


def test_show(shopqueue: Shopqueue, db: Database) -> None:
    job_id = add_job(db)
    finish(db, take(db), Kind.FAILED, "SMTP timeout")

    text = ok(shopqueue("jobs", "show", job_id))
    detail = ok_json(shopqueue("jobs", "show", job_id, "--json"))

    assert f"id:              {job_id}" in text
    assert "last error:      SMTP timeout" in text
    assert '"to":"ops@shop.test"' in text
    assert [line.split()[1] for line in text.split("\n\nAT")[1].splitlines()[1:]] == [
        "created",
        "started",
        "failed",
        "scheduled",
    ]
    assert [e["event"] for e in detail["timeline"]] == ["created", "started", "failed", "scheduled"]
    assert detail["failures"][0]["error"] == "SMTP timeout"
    assert "job 'nope' not found" in failed(shopqueue("jobs", "show", "nope"), 1)


def test_retry(shopqueue: Shopqueue, db: Database) -> None:
    dead = run(db, Kind.DEAD, "down")
    done = run(db, Kind.COMPLETED)

    text = ok(shopqueue("jobs", "retry", dead))

    assert text.startswith(f"job {dead} is pending, due ")
    assert (job_row(db, dead).status, job_row(db, dead).attempts) == ("pending", 0)
    assert ok_json(shopqueue("jobs", "retry", dead, "--json"))["status"] == "pending"  # waiting: due now
    assert "completed" in failed(shopqueue("jobs", "retry", done), 1)


def test_cancel(shopqueue: Shopqueue, db: Database) -> None:
    waiting = add_job(db, delay=600)
    running = add_job(db)
    take(db)

    assert ok(shopqueue("jobs", "cancel", waiting)).strip() == f"job {waiting} cancelled"
    result = ok_json(shopqueue("jobs", "cancel", running, "--json"))
    assert (result["outcome"], result["job"]["status"]) == ("cancel_requested", "processing")
    assert "its worker was asked to stop it" in ok(shopqueue("jobs", "cancel", running))
    assert "only a pending or running job can be cancelled" in failed(shopqueue("jobs", "cancel", waiting), 1)
    assert job_row(db, waiting).status == "cancelled"
