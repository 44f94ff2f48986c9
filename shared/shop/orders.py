"""Placing and reading orders.

Placing an order commits everything in ONE short write transaction: stock decrements, the order
and its items at current prices, the payment capture and the order's jobs. The processor's
latency is waited out before that transaction begins, so no write lock is ever held across it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import msgspec
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shared.clock import Clock
from shared.db import Database
from shared.jobs import enqueue
from shared.jobs.catalog import SEND_FOLLOWUP_EMAIL, SEND_ORDER_CONFIRMATION
from shared.queue.errors import FieldError
from shared.queue.models import Job
from shared.services import payment
from shared.services.deliveries import record_delivery
from shared.services.simulation import Simulator
from shared.shop.errors import (
    InsufficientStockError,
    InvalidRequestError,
    NotFoundError,
    PaymentDeclinedError,
)
from shared.shop.idempotency import IdempotencyClaim, StoredResponse, find_response, store_response
from shared.shop.invoices import invoice_path, invoice_url
from shared.shop.models import Order, OrderItem, Product
from shared.shop.views import OrderView, order_view

FOLLOWUP_DELAY = timedelta(hours=24)
CREATED = 201


@dataclass(frozen=True)
class OrderLine:
    product_id: str
    quantity: int


@dataclass(frozen=True)
class PlaceOrder:
    user_id: str
    lines: list[OrderLine]
    payment_token: str | None = None


def _check_lines(lines: list[OrderLine]) -> None:
    seen: set[str] = set()
    problems = []
    for index, line in enumerate(lines):
        if line.product_id in seen:
            problems.append(FieldError(f"items[{index}].productId", "product appears more than once"))
        seen.add(line.product_id)
    if problems:
        raise InvalidRequestError("each product may appear only once", problems)


def _quote(session: Session, lines: list[OrderLine]) -> Decimal:
    """Fail fast on unknown products or short stock; return the expected total."""
    products = {
        p.id: p for p in session.scalars(select(Product).where(Product.id.in_([line.product_id for line in lines])))
    }
    missing = [
        FieldError(f"items[{i}].productId", f"product {line.product_id!r} not found")
        for i, line in enumerate(lines)
        if line.product_id not in products
    ]
    if missing:
        raise NotFoundError("unknown product", missing)
    _raise_if_short(
        [
            (i, line, products[line.product_id].stock)
            for i, line in enumerate(lines)
            if products[line.product_id].stock < line.quantity
        ]
    )
    return _total((Decimal(str(products[line.product_id].price)), line.quantity) for line in lines)


def _raise_if_short(short: list[tuple[int, OrderLine, int]]) -> None:
    if short:
        raise InsufficientStockError(
            "not enough stock",
            [FieldError(f"items[{i}].quantity", f"only {stock} left of {line.product_id}") for i, line, stock in short],
        )


def _total(priced: Iterable[tuple[Decimal, int]]) -> Decimal:
    return sum((price * quantity for price, quantity in priced), Decimal(0)).quantize(Decimal("0.01"))


def place_order(
    db: Database,
    simulator: Simulator,
    command: PlaceOrder,
    *,
    clock: Clock,
    idempotency: IdempotencyClaim | None = None,
) -> OrderView | StoredResponse:
    """Place an order, or return the stored response of an earlier request with the same key."""
    _check_lines(command.lines)
    with db.read() as session:
        if idempotency is not None and (stored := find_response(session, idempotency)):
            return stored
        expected_total = _quote(session, command.lines)

    try:
        payment.authorize(simulator, command.payment_token, float(expected_total))
    except payment.CardDeclinedError as exc:
        raise PaymentDeclinedError(str(exc)) from exc

    order_id = str(uuid.uuid4())
    with db.write() as session:
        # A concurrent request with the same key may have committed while we waited on payment.
        if idempotency is not None and (stored := find_response(session, idempotency)):
            return stored
        now = clock()
        prices = _take_stock(session, command.lines)
        total = _total((Decimal(str(prices[line.product_id])), line.quantity) for line in command.lines)
        order = Order(id=order_id, user_id=command.user_id, status="paid", total=float(total), created_at=now)
        session.add(order)
        session.flush()
        items = [
            OrderItem(
                order_id=order_id, product_id=line.product_id, quantity=line.quantity, price=prices[line.product_id]
            )
            # Sorted as GET /orders/{id} lists them, so both responses agree.
            for line in sorted(command.lines, key=lambda line: line.product_id)
        ]
        session.add_all(items)
        record_delivery(
            session,
            provider="payment",
            key=f"charge:{order_id}",
            payload={"orderId": order_id, "amount": float(total), "token": command.payment_token},
            now=now,
        )
        ref = {"orderId": order_id}
        enqueue(
            session,
            SEND_ORDER_CONFIRMATION.name,
            ref,
            clock=clock,
            idempotency_key=f"send_order_confirmation:{order_id}",
        )
        enqueue(
            session,
            SEND_FOLLOWUP_EMAIL.name,
            ref,
            delay=FOLLOWUP_DELAY,
            clock=clock,
            idempotency_key=f"send_followup_email:{order_id}",
        )
        session.flush()
        view = order_view(order, items, _pipeline(session, order_id), None)
        if idempotency is not None:
            store_response(session, idempotency, CREATED, msgspec.json.encode(view), now)
    return view


def _take_stock(session: Session, lines: list[OrderLine]) -> dict[str, float]:
    """Decrement stock for every line, only where enough is left; return each product's price."""
    prices: dict[str, float] = {}
    short: list[tuple[int, OrderLine, int]] = []
    for index, line in enumerate(lines):
        price = session.execute(
            update(Product)
            .where(Product.id == line.product_id, Product.stock >= line.quantity)
            .values(stock=Product.stock - line.quantity)
            .returning(Product.price)
        ).scalar_one_or_none()
        if price is None:
            stock = session.execute(select(Product.stock).where(Product.id == line.product_id)).scalar_one()
            short.append((index, line, stock))
        else:
            prices[line.product_id] = price
    _raise_if_short(short)  # raising rolls the whole transaction back: nothing is decremented
    return prices


def _pipeline(session: Session, order_id: str) -> list[Job]:
    return list(session.scalars(select(Job).where(Job.correlation_id == order_id).order_by(Job.seq)))


def get_order(session: Session, order_id: str, *, data_dir: Path) -> OrderView:
    order = session.get(Order, order_id)
    if order is None:
        raise NotFoundError(f"order {order_id!r} not found")
    items = list(
        session.scalars(select(OrderItem).where(OrderItem.order_id == order_id).order_by(OrderItem.product_id))
    )
    has_invoice = invoice_path(data_dir, order_id).is_file()
    return order_view(order, items, _pipeline(session, order_id), invoice_url(order_id) if has_invoice else None)


def get_invoice(session: Session, order_id: str, *, data_dir: Path) -> Path:
    """The invoice file of an existing order; NotFoundError before it is generated."""
    if session.get(Order, order_id) is None:
        raise NotFoundError(f"order {order_id!r} not found")
    path = invoice_path(data_dir, order_id)
    if not path.is_file():
        raise NotFoundError(f"the invoice of order {order_id!r} does not exist yet")
    return path
