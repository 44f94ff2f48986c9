"""The shop's job types (design.md §4): payload schema, defaults and handler defined together.

Every handler runs its external effect through `ctx.once(key, ...)` with a stable key that it also
passes to the provider, so a retry after a lost reply is deduplicated and the step is recorded in
`processed_jobs` with the completion. Children (the invoice and inventory sync after the
confirmation) are enqueued in the completing transaction.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import msgspec

from shared.clock import Clock
from shared.db import Database
from shared.queue import JobContext, JobRegistry, PermanentJobError, Priority, WorkerEnv
from shared.queue.limits import ConcurrencyLimit, RateLimit
from shared.services.providers import Providers
from shared.services.simulation import Simulator
from shared.shop import reports
from shared.shop.invoice_pdf import invoice_data, render_invoice
from shared.shop.invoices import invoice_path
from shared.shop.order_store import Order, load_order, product_names

OrderId = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Email = Annotated[str, msgspec.Meta(pattern=r"^[^@\s]+@[^@\s]+$", max_length=320)]


class Payload(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, rename="camel"):
    """Base of every payload: camelCase JSON, unknown fields refused."""


class OrderRef(Payload):
    order_id: OrderId


class SendEmail(Payload):
    to: Email
    subject: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    body: Annotated[str, msgspec.Meta(max_length=20_000)] = ""
    order_id: OrderId | None = None


class ReportDay(Payload):
    date: Annotated[str, msgspec.Meta(pattern=r"^\d{4}-\d{2}-\d{2}$")]


def order_of(payload: OrderRef | SendEmail) -> str | None:
    return payload.order_id


# The providers' published limits (design.md §4), global across workers; RATE_LIMITS overrides them.
EMAIL_RATE = RateLimit(120, 60.0)
WAREHOUSE_RATE = RateLimit(60, 60.0)
# The warehouse API takes a few connections at a time, whichever worker opens them.
WAREHOUSE_CONNECTIONS: ConcurrencyLimit[OrderRef] = ConcurrencyLimit(key=lambda _: "warehouse", limit=4)


@dataclass(frozen=True)
class ShopResources:
    db: Database
    providers: Providers
    clock: Clock
    data_dir: Path


jobs: JobRegistry[ShopResources] = JobRegistry()
Ctx = JobContext[ShopResources]


@jobs.resources
@asynccontextmanager
async def shop_resources(env: WorkerEnv) -> AsyncIterator[ShopResources]:
    providers_db = Database(env.settings.resolved_providers_url(), busy_timeout_ms=env.settings.busy_timeout_ms)
    try:
        providers = Providers(providers_db, Simulator(env.settings), env.clock)
        yield ShopResources(env.db, providers, env.clock, env.settings.resolved_data_dir())
    finally:
        providers_db.dispose()


def customer_address(user_id: str) -> str:
    # The shop keeps no user table yet; mail goes to a per-user mailbox of the simulated provider.
    return f"{user_id}@customers.shop.test"


async def _order(ctx: Ctx, order_id: str) -> Order:
    order = await ctx.resources.db.run_read(lambda tx: load_order(tx, order_id))
    if order is None:
        raise PermanentJobError(f"order {order_id!r} does not exist")
    return order


@jobs.job("send_order_confirmation", OrderRef, priority=Priority.HIGH, workflow=order_of, rate_limit=EMAIL_RATE)
async def send_order_confirmation(ctx: Ctx, payload: OrderRef) -> None:
    order = await _order(ctx, payload.order_id)
    key = f"order-confirmation:{order.id}"
    await ctx.once(
        key,
        lambda: ctx.resources.providers.send_email(
            key=key,
            job_id=ctx.job.id,
            to=customer_address(order.user_id),
            subject=f"Order {order.id} confirmed",
            body=f"Thank you for your order of {order.total:.2f}.",
        ),
    )
    for child in (generate_invoice, sync_inventory):
        ctx.enqueue_after(child, {"orderId": order.id}, idempotency_key=f"{child.name}:{order.id}")


@jobs.job("generate_invoice", OrderRef, priority=Priority.NORMAL, workflow=order_of)
async def generate_invoice(ctx: Ctx, payload: OrderRef) -> None:
    order = await _order(ctx, payload.order_id)
    names = await ctx.resources.db.run_read(lambda tx: product_names(tx, [i.product_id for i in order.items]))
    key = f"invoice:{order.id}"

    async def render_and_store() -> None:
        content = await asyncio.to_thread(render_invoice, invoice_data(order, names))
        path = invoice_path(ctx.resources.data_dir, order.id)
        await ctx.resources.providers.render_pdf(key=key, job_id=ctx.job.id, path=path, content=content)

    await ctx.once(key, render_and_store)


@jobs.job(
    "sync_inventory",
    OrderRef,
    priority=Priority.NORMAL,
    workflow=order_of,
    rate_limit=WAREHOUSE_RATE,
    concurrency=WAREHOUSE_CONNECTIONS,
)
async def sync_inventory(ctx: Ctx, payload: OrderRef) -> None:
    order = await _order(ctx, payload.order_id)
    key = f"inventory:{order.id}"

    async def sync_every_item() -> None:
        for item in order.items:  # one warehouse call per item, each with its own key
            await ctx.resources.providers.sync_stock(
                key=f"{key}:{item.product_id}", job_id=ctx.job.id, product_id=item.product_id, quantity=item.quantity
            )

    await ctx.once(key, sync_every_item)


@jobs.job("send_followup_email", OrderRef, priority=Priority.LOW, workflow=order_of, rate_limit=EMAIL_RATE)
async def send_followup_email(ctx: Ctx, payload: OrderRef) -> None:
    order = await _order(ctx, payload.order_id)
    key = f"followup:{order.id}"
    await ctx.once(
        key,
        lambda: ctx.resources.providers.send_email(
            key=key,
            job_id=ctx.job.id,
            to=customer_address(order.user_id),
            subject="How was your order?",
            body=f"Your order {order.id} arrived a day ago. Tell us how it went.",
        ),
    )


@jobs.job("send_email", SendEmail, priority=Priority.NORMAL, workflow=order_of, rate_limit=EMAIL_RATE)
async def send_email(ctx: Ctx, payload: SendEmail) -> None:
    key = f"email:{ctx.job.id}"  # the job id is stable across retries
    await ctx.once(
        key,
        lambda: ctx.resources.providers.send_email(
            key=key, job_id=ctx.job.id, to=payload.to, subject=payload.subject, body=payload.body
        ),
    )


def report_for_the_day_before(fire_at: datetime, stored: dict[str, Any]) -> dict[str, Any]:
    """A cron run at 00:00 reports the day that just ended (unless the schedule names a date)."""
    return {"date": (fire_at.date() - timedelta(days=1)).isoformat(), **stored}


@jobs.job("daily_sales_report", ReportDay, priority=Priority.LOW, scheduled_payload=report_for_the_day_before)
async def daily_sales_report(ctx: Ctx, payload: ReportDay) -> None:
    try:
        day = date.fromisoformat(payload.date)
    except ValueError as exc:
        raise PermanentJobError(f"{payload.date!r} is not a calendar date") from exc
    now = ctx.resources.clock()
    report = await ctx.resources.db.run_read(lambda tx: reports.compute(tx, day, now))
    ctx.on_complete(lambda tx: reports.save(tx, report))  # replaces the day's row when it commits
