"""GET /orders/{id} and GET /orders/{id}/invoice."""

from __future__ import annotations

from pathlib import Path

from litestar import Litestar
from litestar.testing import TestClient

from shared.config import Settings
from shared.shop.invoices import invoice_path
from tests.api.helpers import assert_error

# The smallest file a PDF reader accepts is beside the point: the API serves whatever the worker wrote.
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def place(client: TestClient[Litestar]) -> str:
    response = client.post("/orders", json={"userId": "u1", "items": [{"productId": "prod-2", "quantity": 1}]})
    assert response.status_code == 201, response.text
    order_id: str = response.json()["id"]
    return order_id


def test_unknown_order_is_404(client: TestClient[Litestar]) -> None:
    assert_error(client.get("/orders/no-such-order"), 404, "NOT_FOUND")


def test_invoice_is_404_before_the_worker_wrote_it(client: TestClient[Litestar]) -> None:
    order_id = place(client)

    error = assert_error(client.get(f"/orders/{order_id}/invoice"), 404, "NOT_FOUND")

    assert "invoice" in error["message"]
    assert client.get(f"/orders/{order_id}").json()["invoiceUrl"] is None


def test_invoice_of_an_unknown_order_is_404(client: TestClient[Litestar]) -> None:
    assert_error(client.get("/orders/no-such-order/invoice"), 404, "NOT_FOUND")


def test_serves_the_invoice_pdf_once_it_exists(client: TestClient[Litestar], settings: Settings) -> None:
    order_id = place(client)
    path: Path = invoice_path(settings.resolved_data_dir(), order_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(PDF)

    response = client.get(f"/orders/{order_id}/invoice")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content == PDF
    assert client.get(f"/orders/{order_id}").json()["invoiceUrl"] == f"/orders/{order_id}/invoice"


def test_the_read_order_matches_the_placed_one(client: TestClient[Litestar]) -> None:
    placed = client.post(
        "/orders",
        json={
            "userId": "u1",
            "items": [{"productId": "prod-3", "quantity": 1}, {"productId": "prod-1", "quantity": 2}],
        },
    ).json()
    read = client.get(f"/orders/{placed['id']}").json()
    assert [item["productId"] for item in placed["items"]] == ["prod-1", "prod-3"]
    assert read["items"] == placed["items"]
    assert {k: v for k, v in read.items() if k != "pipeline"} == {k: v for k, v in placed.items() if k != "pipeline"}
