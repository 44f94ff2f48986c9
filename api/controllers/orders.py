"""POST /orders, GET /orders/{id} and GET /orders/{id}/invoice."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Any

import msgspec
from litestar import Controller, MediaType, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import HeaderParameter, JSONBody, RawBody
from litestar.response import File

from api.errors import error_responses
from api.idempotency import IdempotentRequest, StoredResponse, request_hash
from api.schemas import CreateOrder, PathId, decode_strict
from api.views import OrderView, order_view
from shared.clock import utcnow
from shared.config import Settings
from shared.db import Database
from shared.services.providers import Providers
from shared.shop import orders
from shared.shop.invoices import invoice_path, invoice_url
from shared.shop.order_store import OrderLine

PLACE_ORDER_SCOPE = "POST /orders"
REPLAYED_HEADER = "Idempotent-Replayed"

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        required=False,
        min_length=1,
        max_length=255,
        description=(
            "Makes retries safe: a repeat with the same key and body gets the first answer again (the order, "
            "or its refusal: 402, 409 INSUFFICIENT_STOCK); while the first is still running, 409 "
            "IDEMPOTENCY_REQUEST_IN_FLIGHT."
        ),
    ),
]


class OrderController(Controller):
    path = "/orders"
    tags = ("orders",)

    @post(
        operation_id="PlaceOrder",
        summary="Place an order",
        status_code=HTTPStatus.CREATED,
        responses={
            HTTPStatus.CREATED: ResponseSpec(OrderView, description="The order (on a replay, as first placed)"),
            # 503: the database is busy or full; retry with the same Idempotency-Key.
            **error_responses(400, 402, 404, 409, 413, 422, 503),
        },
    )
    async def place_order(
        self,
        *,
        data: JSONBody[CreateOrder],
        body: RawBody,
        db: NamedDependency[Database],
        providers: NamedDependency[Providers],
        request_id: NamedDependency[str | None],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Any]:
        """Authorise the payment, then take stock, save the order and enqueue its jobs in one transaction."""
        # `data` gives the OpenAPI schema and a first check, but Litestar converts leniently ("2"
        # would become 2), so the order itself is decoded again from the raw body with strict rules.
        request = decode_strict(body, CreateOrder)
        replays = (
            None
            if idempotency_key is None
            else IdempotentRequest(
                idempotency_key, PLACE_ORDER_SCOPE, request_hash(request), HTTPStatus.CREATED, _render, utcnow
            )
        )
        command = orders.PlaceOrder(
            user_id=request.user_id,
            lines=[OrderLine(line.product_id, line.quantity) for line in request.items],
            payment_token=request.payment_token,
        )
        placed = await orders.place_order(db, providers, command, clock=utcnow, replays=replays, request_id=request_id)
        if placed.replay is not None:
            return replay(placed.replay)
        assert placed.order is not None  # noqa: S101 - one of the two is set
        return Response(_created(placed.order), status_code=HTTPStatus.CREATED)

    @get(
        "/{order_id:str}",
        operation_id="GetOrder",
        summary="Get an order with its pipeline",
        responses=error_responses(400, 404),
    )
    async def get_order(
        self, db: NamedDependency[Database], settings: NamedDependency[Settings], order_id: PathId
    ) -> OrderView:
        """The order, its items, every job of its pipeline and, once generated, its invoice URL."""
        details = await db.run_read(lambda tx: orders.get_order(tx, order_id))
        has_invoice = invoice_path(settings.resolved_data_dir(), order_id).is_file()
        return order_view(details, invoice_url(order_id) if has_invoice else None, utcnow())

    @get(
        "/{order_id:str}/invoice",
        operation_id="GetOrderInvoice",
        summary="Download an order's invoice",
        media_type="application/pdf",
        responses={
            200: ResponseSpec(
                bytes, description="The invoice PDF", media_type="application/pdf", generate_examples=False
            ),
            **error_responses(400, 404),
        },
    )
    async def get_invoice(
        self, db: NamedDependency[Database], settings: NamedDependency[Settings], order_id: PathId
    ) -> File:
        """The invoice PDF; 404 until the worker has generated it."""
        data_dir = settings.resolved_data_dir()
        path = await db.run_read(lambda tx: orders.get_invoice(tx, order_id, data_dir=data_dir))
        return File(
            path=path,
            filename=f"invoice-{order_id}.pdf",
            media_type="application/pdf",
            content_disposition_type="inline",
        )


def _created(placed: orders.OrderDetails) -> OrderView:
    """The 201 body: the order as its transaction committed it (the same bytes on every replay)."""
    return order_view(placed, None, placed.order.created_at)


def _render(placed: orders.OrderDetails) -> bytes:
    return msgspec.json.encode(_created(placed))


def replay(stored: StoredResponse) -> Response[Any]:
    """The first answer to this Idempotency-Key (an order or a refusal), byte for byte."""
    return Response(
        stored.body,
        status_code=stored.status_code,
        media_type=MediaType.JSON,
        headers={REPLAYED_HEADER: "true"},
    )
