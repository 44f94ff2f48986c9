"""Placing and reading orders.

Placing an order: validate and quote (a read), authorise the payment (a remote call, awaited,
outside any transaction), then ONE short write unit takes stock, saves the order and its items at
current prices and enqueues the order's jobs. If the stock ran out in between, the authorisation
is voided and the order refused.

With an idempotency key (the caller's `Replays`), the key is claimed before anything else, so a
second request with it is refused while the first runs; the first request's answer, the order or
a refusal of it (card declined, stock short), is stored and replayed to every later request.
"""

from __future__ import annotations

import contextlib
import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from shared.clock import Clock
from shared.db import Database, Tx
from shared.errors import FieldError
from shared.ids import new_id
from shared.money import line_amount, total
from shared.queue import JobSpec, enqueue_many, queries
from shared.queue.queries import JobRow
from shared.queue.status import JobStatus
from shared.services.providers import CardDeclinedError, Providers
from shared.shop import jobs
from shared.shop.catalog import Product, products_by_id
from shared.shop.errors import (
    DomainError,
    InsufficientStockError,
    InvalidRequestError,
    NotFoundError,
    PaymentDeclinedError,
)
from shared.shop.invoices import invoice_path
from shared.shop.order_store import (
    Order,
    OrderItem,
    OrderLine,
    insert_order,
    load_order,
    raise_if_short,
    take_stock,
)

FOLLOWUP_DELAY = timedelta(hours=24)
T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


@dataclass(frozen=True)
class PlaceOrder:
    user_id: str
    lines: list[OrderLine]
    payment_token: str | None = None


class Replays(Protocol[T_co]):
    """The caller's memory of earlier answers to the same request (the API's Idempotency-Key).

    Each method is a write unit of its own, or part of one: `claim` runs first and returns the
    earlier answer, or takes the key for this request (raising RequestInFlightError while another
    request holds it). Then exactly one of `record` (inside the order's write unit, so the answer
    is stored exactly when the order is), `refuse` (a refusal worth remembering) or `release` (the
    request was wrong or failed unexpectedly: a retry may run again). All three act only while this
    request still holds the key, and `record` raises RequestInFlightError if it does not.
    """

    def claim(self, tx: Tx) -> T_co | None: ...

    def record(self, tx: Tx, placed: OrderDetails) -> None: ...

    def refuse(self, tx: Tx, refusal: DomainError) -> None: ...

    def release(self, tx: Tx) -> None: ...


# Refusals that depend on the moment, not on the request: a retry gets the same answer, as
# payment APIs do. Everything else (invalid input, unknown products) leaves the key free.
REMEMBERED_REFUSALS = (PaymentDeclinedError, InsufficientStockError)


@dataclass(frozen=True)
class OrderDetails:
    order: Order
    pipeline: list[JobRow]


@dataclass(frozen=True)
class Placed(Generic[T]):
    """An order placed now (with its pipeline as committed), or the answer an earlier request with
    the same key got."""

    order: OrderDetails | None
    replay: T | None


def check_lines(lines: list[OrderLine]) -> None:
    seen: set[str] = set()
    problems = []
    for index, line in enumerate(lines):
        if line.product_id in seen:
            problems.append(FieldError(f"items[{index}].productId", "product appears more than once"))
        seen.add(line.product_id)
    if problems:
        raise InvalidRequestError("each product may appear only once", problems)


def known_products(tx: Tx, lines: list[OrderLine]) -> dict[str, Product]:
    """The ordered products by id; NotFoundError naming every line whose product does not exist."""
    products = products_by_id(tx, [line.product_id for line in lines])
    missing = [
        FieldError(f"items[{i}].productId", f"product {line.product_id!r} not found")
        for i, line in enumerate(lines)
        if line.product_id not in products
    ]
    if missing:
        raise NotFoundError("unknown product", missing)
    return products


def quote(tx: Tx, lines: list[OrderLine]) -> Decimal:
    """Fail fast on unknown products or short stock; return the expected total."""
    products = known_products(tx, lines)
    raise_if_short(
        [
            (i, line, products[line.product_id].stock)
            for i, line in enumerate(lines)
            if products[line.product_id].stock < line.quantity
        ]
    )
    return total([line_amount(products[line.product_id].price, line.quantity) for line in lines])


async def place_order(
    db: Database,
    providers: Providers,
    command: PlaceOrder,
    *,
    clock: Clock,
    replays: Replays[T] | None = None,
    request_id: str | None = None,
) -> Placed[T]:
    check_lines(command.lines)
    if replays is None:
        return Placed(await _place(db, providers, command, clock=clock, replays=None, request_id=request_id), None)

    def claim(tx: Tx) -> T | None:
        # Unknown products leave the key free anyway: refusing them before the claim means such a
        # request commits nothing at all, instead of a claim and its release.
        known_products(tx, command.lines)
        return replays.claim(tx)

    earlier = await db.run_write(claim)
    if earlier is not None:
        return Placed(None, earlier)
    try:
        placed = await _place(db, providers, command, clock=clock, replays=replays, request_id=request_id)
    except REMEMBERED_REFUSALS as refusal:
        await db.run_write(functools.partial(replays.refuse, refusal=refusal))
        raise
    except BaseException:
        with contextlib.suppress(Exception):  # if this fails too, the claim expires on its own
            await db.run_write(replays.release)
        raise
    return Placed(placed, None)


async def _place(
    db: Database,
    providers: Providers,
    command: PlaceOrder,
    *,
    clock: Clock,
    replays: Replays[Any] | None,
    request_id: str | None,
) -> OrderDetails:
    expected = await db.run_read(lambda tx: quote(tx, command.lines))
    order_id = new_id()
    charge = f"charge:{order_id}"
    try:
        await providers.authorize_payment(key=charge, token=command.payment_token, amount=expected)
    except CardDeclinedError as exc:
        raise PaymentDeclinedError(str(exc)) from exc

    def commit(tx: Tx) -> OrderDetails:
        prices = take_stock(tx, command.lines)
        items = sorted(
            (OrderItem(line.product_id, line.quantity, prices[line.product_id]) for line in command.lines),
            key=lambda item: item.product_id,  # as GET /orders/{id} lists them
        )
        order = Order(order_id, command.user_id, "paid", total([i.amount for i in items]), clock(), items)
        insert_order(tx, order)
        ref = {"orderId": order_id}
        enqueue_many(
            tx,
            [
                JobSpec(
                    jobs.send_order_confirmation,
                    ref,
                    idempotency_key=f"send_order_confirmation:{order_id}",
                    request_id=request_id,
                ),
                JobSpec(
                    jobs.send_followup_email,
                    ref,
                    delay=FOLLOWUP_DELAY,
                    idempotency_key=f"send_followup_email:{order_id}",
                    request_id=request_id,
                ),
            ],
            clock=lambda: order.created_at,
        )
        details = OrderDetails(order, queries.jobs_in_workflow(tx, order_id))
        if replays is not None:
            replays.record(tx, details)
        return details

    try:
        return await db.run_write(commit)
    except Exception:
        # Nothing was saved (stock ran out since the quote, or the write failed): release the money.
        await providers.void_payment(key=f"void:{order_id}", authorization=charge)
        raise


@dataclass(frozen=True)
class Progress:
    """Where an order's pipeline is: `running` (steps due or under way), `waiting` (only delayed
    steps left, e.g. the follow-up email a day later), `completed`, or `stopped` at a step that
    failed for good or was cancelled (its children were never scheduled)."""

    state: str
    stopped_at: JobRow | None = None


def progress(pipeline: list[JobRow], now: datetime) -> Progress:
    stopped = [job for job in pipeline if job.status in (JobStatus.FAILED, JobStatus.CANCELLED)]
    if stopped:
        return Progress("stopped", stopped[0])
    unfinished = [job for job in pipeline if job.status in (JobStatus.PENDING, JobStatus.PROCESSING)]
    if not unfinished:
        return Progress("completed")
    if all(job.status is JobStatus.PENDING and job.scheduled_at > now for job in unfinished):
        return Progress("waiting")
    return Progress("running")


def get_order(tx: Tx, order_id: str) -> OrderDetails:
    order = load_order(tx, order_id)
    if order is None:
        raise NotFoundError(f"order {order_id!r} not found")
    return OrderDetails(order, queries.jobs_in_workflow(tx, order_id))


def get_invoice(tx: Tx, order_id: str, *, data_dir: Path) -> Path:
    """The invoice file of an existing order; NotFoundError before it is generated."""
    if tx.one("SELECT 1 FROM orders WHERE id = :id", {"id": order_id}) is None:
        raise NotFoundError(f"order {order_id!r} not found")
    path = invoice_path(data_dir, order_id)
    if not path.is_file():
        raise NotFoundError(f"the invoice of order {order_id!r} does not exist yet")
    return path
