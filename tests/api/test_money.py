"""Money is exact from the price list to the invoice: properties over random carts (Hypothesis).

Prices have two decimals and are stored in the engine's money column (the seed's REAL on SQLite,
NUMERIC on PostgreSQL), converted to Decimal at one boundary. For any cart, the order's total is the
sum of its lines, to the cent, in the JSON response, in the database, in the amount the payment
processor authorised and on the invoice PDF (parsed back with pypdf); a day's report revenue is the
sum of that day's orders, and only of that day's.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from litestar import Litestar
from litestar.testing import TestClient
from pypdf import PdfReader

from shared.clock import utcnow
from shared.config import Settings
from shared.db import Database
from shared.ids import new_id
from shared.services.providers import Providers
from shared.services.simulation import Simulator
from shared.shop import reports
from shared.shop.invoice_pdf import invoice_data, render_invoice
from shared.shop.order_store import OrderLine, load_order, product_names
from shared.shop.orders import Placed, PlaceOrder, place_order

# A cart: one to six products, each with its own price (0.01 to 9,999.99) and quantity.
PRICES = st.integers(min_value=1, max_value=999_999).map(lambda cents: Decimal(cents).scaleb(-2))
CARTS = st.lists(st.tuples(PRICES, st.integers(min_value=1, max_value=1000)), min_size=1, max_size=6)
PROPERTY = hypothesis_settings(
    max_examples=40,
    deadline=None,  # database round trips, PostgreSQL's included, vary with the machine's load
    suppress_health_check=[HealthCheck.function_scoped_fixture],  # the database is meant to outlive examples
)
INVOICE_LINE = re.compile(r"^Item (\d+) (\d+) (\d+\.\d\d) (\d+\.\d\d)$", re.MULTILINE)
INVOICE_TOTAL = re.compile(r"^Total (\d+\.\d\d)$", re.MULTILINE)


def stock_cart(db: Database, cart: list[tuple[Decimal, int]]) -> list[str]:
    """New products with these prices and enough stock, named `Item <n>` in cart order; their ids."""
    ids = [f"money-{new_id()}" for _ in cart]
    with db.write() as tx:
        for n, (product_id, (price, quantity)) in enumerate(zip(ids, cart, strict=True)):
            tx.execute(
                "INSERT INTO products (id, name, price, stock) VALUES (:id, :name, :price, :stock)",
                {"id": product_id, "name": f"Item {n}", "price": tx.money(price), "stock": quantity},
            )
    return ids


def payment_amount(settings: Settings, order_id: str) -> str:
    providers = Database(settings.resolved_providers_url())
    try:
        with providers.read() as tx:
            payload = tx.scalar(
                "SELECT payload FROM provider_deliveries WHERE provider = 'payment' AND idempotency_key = :key",
                {"key": f"charge:{order_id}"},
            )
    finally:
        providers.dispose()
    amount: str = json.loads(payload)["amount"]
    return amount


@PROPERTY
@given(cart=CARTS)
def test_an_order_total_is_the_sum_of_its_lines_everywhere_it_is_shown(
    client: TestClient[Litestar], db: Database, settings: Settings, cart: list[tuple[Decimal, int]]
) -> None:
    ids = stock_cart(db, cart)
    expected_lines = {
        pid: (price, quantity, price * quantity) for pid, (price, quantity) in zip(ids, cart, strict=True)
    }
    expected_total = sum((amount for _, _, amount in expected_lines.values()), Decimal(0))

    response = client.post(
        "/orders",
        json={"userId": "u1", "items": [{"productId": p, "quantity": q} for p, (_, q) in zip(ids, cart, strict=True)]},
    )

    assert response.status_code == 201, response.text
    body = json.loads(response.text, parse_float=Decimal)  # the numbers exactly as written
    assert body["total"] == expected_total
    assert {i["productId"]: (i["price"], i["quantity"]) for i in body["items"]} == {
        pid: (price, quantity) for pid, (price, quantity, _) in expected_lines.items()
    }
    with db.read() as tx:
        order = load_order(tx, body["id"])
        names = product_names(tx, ids)
    assert order is not None
    assert order.total == expected_total
    assert sum((item.amount for item in order.items), Decimal(0)) == order.total
    assert payment_amount(settings, order.id) == f"{expected_total:.2f}"

    text = PdfReader(io.BytesIO(render_invoice(invoice_data(order, names)))).pages[0].extract_text()
    shown = {
        int(n): (Decimal(price), int(qty), Decimal(amount)) for n, qty, price, amount in INVOICE_LINE.findall(text)
    }
    assert shown == {n: expected_lines[pid] for n, pid in enumerate(ids)}
    assert INVOICE_TOTAL.findall(text) == [f"{expected_total:.2f}"]


_days = itertools.count()


@pytest.fixture
def providers(settings: Settings) -> Iterator[Providers]:
    providers_db = Database(settings.resolved_providers_url())
    yield Providers(providers_db, Simulator(settings), utcnow)
    providers_db.dispose()


def place_at(db: Database, providers: Providers, product_id: str, quantity: int, at: datetime) -> Decimal:
    """Place an order at `at` through the shop's own use case; its total as saved."""
    command = PlaceOrder("u1", [OrderLine(product_id, quantity)])
    placed: Placed[None] = asyncio.run(place_order(db, providers, command, clock=lambda: at))
    assert placed.order is not None
    return placed.order.order.total


# When in its day an order is placed: the first and last millisecond, or anywhere in between.
DAY_START, DAY_LAST = timedelta(0), timedelta(days=1, milliseconds=-1)
IN_THE_DAY = st.one_of(st.sampled_from([DAY_START, DAY_LAST]), st.timedeltas(min_value=DAY_START, max_value=DAY_LAST))
# Orders just outside the day, which its report must leave out.
OUTSIDE = st.lists(st.sampled_from([timedelta(milliseconds=-1), timedelta(days=1)]), max_size=2)


@PROPERTY
@given(orders=st.lists(st.tuples(PRICES, st.integers(1, 50), IN_THE_DAY), min_size=1, max_size=5), outside=OUTSIDE)
def test_a_days_revenue_is_the_sum_of_that_days_orders(
    db: Database,
    providers: Providers,
    orders: list[tuple[Decimal, int, timedelta]],
    outside: list[timedelta],
) -> None:
    # Each example reports a day of its own, two days clear of the previous example's neighbours.
    day = date(2030, 1, 1) + timedelta(days=3 * next(_days))
    start = datetime.combine(day, time(0), UTC)
    ids = stock_cart(db, [(price, quantity) for price, quantity, _ in orders] + [(Decimal("1.99"), 1)] * len(outside))

    inside = zip(ids[: len(orders)], orders, strict=True)
    totals = [place_at(db, providers, pid, q, start + when) for pid, (_, q, when) in inside]
    for pid, when in zip(ids[len(orders) :], outside, strict=True):
        place_at(db, providers, pid, 1, start + when)
    with db.write() as tx:
        reports.save(tx, reports.compute(tx, day, start + timedelta(days=1)))
        report = reports.get_report(tx, day)

    assert totals == [price * quantity for price, quantity, _ in orders]
    assert report.order_count == len(orders)
    assert report.revenue == sum(totals, Decimal(0))
    assert report.units_sold == sum(quantity for _, quantity, _ in orders)
    assert sum((t.revenue for t in report.top_products), Decimal(0)) == report.revenue  # at most 5 products
