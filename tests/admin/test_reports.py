"""GET /admin/reports/daily/{date}: 404 until the day's report exists, then the report."""

from __future__ import annotations

from datetime import date

from litestar import Litestar
from litestar.testing import TestClient

from shared.clock import utcnow
from shared.db import Database
from shared.shop import reports
from tests.api.helpers import assert_error


def test_a_report_once_saved(client: TestClient[Litestar], db: Database) -> None:
    for _ in range(2):
        order = client.post("/orders", json={"userId": "u1", "items": [{"productId": "prod-1", "quantity": 2}]})
        assert order.status_code == 201, order.text
    today = utcnow().date()
    path = f"/admin/reports/daily/{today.isoformat()}"
    assert_error(client.get(path), 404, "NOT_FOUND")

    with db.write() as tx:
        reports.save(tx, reports.compute(tx, today, utcnow()))
    response = client.get(path)

    assert response.status_code == 200, response.text
    report = response.json()
    assert set(report) == {"date", "orderCount", "revenue", "unitsSold", "topProducts", "generatedAt"}
    assert (report["date"], report["orderCount"], report["unitsSold"]) == (today.isoformat(), 2, 4)
    [top] = report["topProducts"]
    assert (top["productId"], top["units"]) == ("prod-1", 4)
    assert top["revenue"] == report["revenue"] == 4 * order.json()["items"][0]["price"]
    assert report["generatedAt"].endswith("Z")


def test_an_empty_day_has_a_report_too(client: TestClient[Litestar], db: Database) -> None:
    day = date(2026, 1, 1)
    with db.write() as tx:
        reports.save(tx, reports.compute(tx, day, utcnow()))

    report = client.get("/admin/reports/daily/2026-01-01").json()

    assert (report["orderCount"], report["revenue"], report["topProducts"]) == (0, 0.0, [])


def test_a_bad_date_is_400(client: TestClient[Litestar]) -> None:
    for text in ("2026-13-01", "yesterday", "2026-1-1x"):
        error = assert_error(client.get(f"/admin/reports/daily/{text}"), 400, "VALIDATION_ERROR")
        assert [d["field"] for d in error["details"]] == ["date"]
