"""POST /orders, GET /orders/{id} and GET /orders/{id}/invoice."""

from __future__ import annotations

import hashlib
from http import HTTPStatus
from typing import Annotated, Any

import msgspec
from litestar import Controller, MediaType, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, HeaderParameter, JSONBody, RawBody
from litestar.response import File

from api.errors import error_responses
from api.schemas import CreateOrder, decode_strict
from shared.clock import utcnow
from shared.config import Settings
from shared.db import Database
from shared.services.simulation import Simulator
from shared.shop import orders
from shared.shop.idempotency import IdempotencyClaim, StoredResponse
from shared.shop.views import OrderView

PLACE_ORDER_SCOPE = "POST /orders"
REPLAYED_HEADER = "Idempotent-Replayed"

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        required=False,
        min_length=1,
        max_length=255,
        description="Makes retries safe: a repeat with the same key and body returns the first response.",
    ),
]


class OrderController(Controller):
    path = "/orders"
    tags = ("orders",)

    @post(
        operation_id="PlaceOrder",
        summary="Place an order",
        status_code=HTTPStatus.CREATED,
        sync_to_thread=True,
        responses=error_responses(400, 402, 404, 409, 413, 422),
    )
    def place_order(
        self,
        *,
        data: JSONBody[CreateOrder],
        body: RawBody,
        db: NamedDependency[Database],
        simulator: NamedDependency[Simulator],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[OrderView]:
        """Check and take stock, charge the payment and enqueue the order's jobs, in one transaction."""
        # `data` gives the OpenAPI schema and a first check, but Litestar converts leniently ("2"
        # would become 2), so the order itself is decoded again from the raw body with strict rules.
        request = decode_strict(body, CreateOrder)
        claim = (
            None
            if idempotency_key is None
            else IdempotencyClaim(idempotency_key, PLACE_ORDER_SCOPE, request_hash(request))
        )
        command = orders.PlaceOrder(
            user_id=request.user_id,
            lines=[orders.OrderLine(line.product_id, line.quantity) for line in request.items],
            payment_token=request.payment_token,
        )
        result = orders.place_order(db, simulator, command, clock=utcnow, idempotency=claim)
        if isinstance(result, StoredResponse):
            return replay(result)
        return Response(result, status_code=HTTPStatus.CREATED)

    @get(
        "/{order_id:str}",
        operation_id="GetOrder",
        summary="Get an order with its pipeline",
        sync_to_thread=True,
        responses=error_responses(404),
    )
    def get_order(
        self, db: NamedDependency[Database], settings: NamedDependency[Settings], order_id: FromPath[str]
    ) -> OrderView:
        """The order, its items, every job of its pipeline and, once generated, its invoice URL."""
        with db.read() as session:
            return orders.get_order(session, order_id, data_dir=settings.resolved_data_dir())

    @get(
        "/{order_id:str}/invoice",
        operation_id="GetOrderInvoice",
        summary="Download an order's invoice",
        media_type="application/pdf",
        sync_to_thread=True,
        responses={
            200: ResponseSpec(None, description="The invoice PDF", media_type="application/pdf"),
            **error_responses(404),
        },
    )
    def get_invoice(
        self, db: NamedDependency[Database], settings: NamedDependency[Settings], order_id: FromPath[str]
    ) -> File:
        """The invoice PDF; 404 until the worker has generated it."""
        with db.read() as session:
            path = orders.get_invoice(session, order_id, data_dir=settings.resolved_data_dir())
        return File(
            path=path,
            filename=f"invoice-{order_id}.pdf",
            media_type="application/pdf",
            content_disposition_type="inline",
        )


def request_hash(request: CreateOrder) -> str:
    """SHA-256 of the decoded request as canonical JSON: same order, same hash, however it was spelled."""
    canonical = msgspec.json.encode(msgspec.to_builtins(request), order="sorted")
    return hashlib.sha256(canonical).hexdigest()


def replay(stored: StoredResponse) -> Response[Any]:
    """The first response to this Idempotency-Key, byte for byte."""
    return Response(
        stored.body,
        status_code=stored.status_code,
        media_type=MediaType.JSON,
        headers={REPLAYED_HEADER: "true"},
    )
