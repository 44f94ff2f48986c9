"""Handlers of the shop's job types. Each passes a stable key to its provider, so a retry after a
lost reply is deduplicated, and records the step in `processed_jobs` when it completes."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from shared.clock import Clock, to_api
from shared.db import Database
from shared.db.sql import Executor, upsert
from shared.jobs import enqueue
from shared.jobs.catalog import (
    GENERATE_INVOICE,
    SEND_EMAIL,
    SEND_FOLLOWUP_EMAIL,
    SEND_ORDER_CONFIRMATION,
    SYNC_INVENTORY,
    OrderRef,
    SendEmail,
)
from shared.queue.handlers import CompletionHook, Handler, JobContext, PermanentJobError
from shared.queue.models import ProcessedJob
from shared.services.providers import Providers
from shared.shop.invoice_pdf import InvoiceData, InvoiceLine, render_invoice
from shared.shop.invoices import invoice_path
from shared.shop.models import Order, OrderItem, Product


@dataclass(frozen=True)
class JobDeps:
    db: Database
    providers: Providers
    clock: Clock
    data_dir: Path


@dataclass(frozen=True)
class LoadedOrder:
    id: str
    user_id: str
    total: float
    created_at: str
    lines: list[InvoiceLine]


def customer_address(user_id: str) -> str:
    # The shop keeps no user table yet; mail goes to a per-user mailbox of the simulated provider.
    return f"{user_id}@customers.shop.test"


class ShopHandlers:
    """The handlers, bound to their dependencies."""

    def __init__(self, deps: JobDeps) -> None:
        self.deps = deps

    def table(self) -> dict[str, Handler]:
        return {
            SEND_ORDER_CONFIRMATION.name: self.send_order_confirmation,
            GENERATE_INVOICE.name: self.generate_invoice,
            SYNC_INVENTORY.name: self.sync_inventory,
            SEND_FOLLOWUP_EMAIL.name: self.send_followup_email,
            SEND_EMAIL.name: self.send_email,
        }

    async def send_order_confirmation(self, ctx: JobContext, payload: OrderRef) -> None:
        order = await self._load_order(payload.order_id)
        key = f"order-confirmation:{order.id}"
        if not await self._already_done(key):
            await self.deps.providers.send_email(
                key=key,
                job_id=ctx.job.id,
                to=customer_address(order.user_id),
                subject=f"Order {order.id} confirmed",
                body=f"Thank you for your order of {order.total:.2f}.",
            )
        ctx.on_complete(self._record(ctx, key))
        ctx.on_complete(self._fan_out(order.id))

    async def generate_invoice(self, ctx: JobContext, payload: OrderRef) -> None:
        order = await self._load_order(payload.order_id)
        key = f"invoice:{order.id}"
        if not await self._already_done(key):
            invoice = InvoiceData(order.id, order.user_id, order.created_at, order.lines, order.total)
            content = await asyncio.to_thread(render_invoice, invoice)
            await self.deps.providers.render_pdf(
                key=key, job_id=ctx.job.id, path=invoice_path(self.deps.data_dir, order.id), content=content
            )
        ctx.on_complete(self._record(ctx, key))

    async def sync_inventory(self, ctx: JobContext, payload: OrderRef) -> None:
        order = await self._load_order(payload.order_id)
        key = f"inventory:{order.id}"
        if not await self._already_done(key):
            for line in order.lines:  # one warehouse call per item, each with its own key
                await self.deps.providers.sync_stock(
                    key=f"{key}:{line.product_id}",
                    job_id=ctx.job.id,
                    product_id=line.product_id,
                    quantity=line.quantity,
                )
        ctx.on_complete(self._record(ctx, key))

    async def send_followup_email(self, ctx: JobContext, payload: OrderRef) -> None:
        order = await self._load_order(payload.order_id)
        key = f"followup:{order.id}"
        if not await self._already_done(key):
            await self.deps.providers.send_email(
                key=key,
                job_id=ctx.job.id,
                to=customer_address(order.user_id),
                subject="How was your order?",
                body=f"Your order {order.id} arrived a day ago. Tell us how it went.",
            )
        ctx.on_complete(self._record(ctx, key))

    async def send_email(self, ctx: JobContext, payload: SendEmail) -> None:
        key = f"email:{ctx.job.id}"  # the job id is stable across retries
        if not await self._already_done(key):
            await self.deps.providers.send_email(
                key=key, job_id=ctx.job.id, to=payload.to, subject=payload.subject, body=payload.body
            )
        ctx.on_complete(self._record(ctx, key))

    async def _load_order(self, order_id: str) -> LoadedOrder:
        return await asyncio.to_thread(self._load_order_sync, order_id)

    def _load_order_sync(self, order_id: str) -> LoadedOrder:
        with self.deps.db.read() as session:
            order = session.get(Order, order_id)
            if order is None:
                raise PermanentJobError(f"order {order_id!r} does not exist")
            rows = session.execute(
                select(OrderItem, Product.name)
                .join(Product, Product.id == OrderItem.product_id)
                .where(OrderItem.order_id == order_id)
                .order_by(OrderItem.product_id)
            ).all()
            lines = [InvoiceLine(item.product_id, name, item.quantity, item.price) for item, name in rows]
            return LoadedOrder(order.id, order.user_id, order.total, to_api(order.created_at) or "", lines)

    async def _already_done(self, key: str) -> bool:
        def check() -> bool:
            with self.deps.db.read_conn() as connection:
                found = connection.execute(select(ProcessedJob.job_id).where(ProcessedJob.idempotency_key == key))
                return found.first() is not None

        return await asyncio.to_thread(check)

    def _record(self, ctx: JobContext, key: str) -> CompletionHook:
        def hook(session: Executor) -> None:
            session.execute(
                upsert(session, ProcessedJob)
                .values(job_id=ctx.job.id, idempotency_key=key, type=ctx.job.type, processed_at=self.deps.clock())
                .on_conflict_do_nothing()
            )

        return hook

    def _fan_out(self, order_id: str) -> CompletionHook:
        def hook(session: Executor) -> None:
            ref = {"orderId": order_id}
            for job_type in (GENERATE_INVOICE, SYNC_INVENTORY):
                enqueue(
                    session, job_type.name, ref, clock=self.deps.clock, idempotency_key=f"{job_type.name}:{order_id}"
                )

        return hook
