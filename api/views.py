"""Response bodies (camelCase JSON), built from domain objects by explicit functions."""

from __future__ import annotations

from datetime import datetime

import msgspec

from shared.clock import to_api
from shared.queue.queries import JobRow, UnfinishedCounts
from shared.shop.catalog import Product
from shared.shop.orders import OrderDetails, Progress, progress


class View(msgspec.Struct, kw_only=True, rename="camel"):
    pass


class ProductView(View):
    id: str
    name: str
    price: float
    stock: int
    created_at: str


class OrderItemView(View):
    product_id: str
    quantity: int
    price: float


class PipelineJobView(View):
    id: str
    parent_id: str | None
    type: str
    status: str
    priority: int
    attempts: int
    max_attempts: int
    last_error: str | None
    scheduled_at: str
    created_at: str
    updated_at: str
    completed_at: str | None


class StoppedAtView(View):
    job_id: str
    type: str
    status: str
    error: str | None


class ProgressView(View):
    state: str  # running, waiting, completed or stopped
    stopped_at: StoppedAtView | None


class OrderView(View):
    id: str
    user_id: str
    status: str
    total: float
    items: list[OrderItemView]
    created_at: str
    pipeline: list[PipelineJobView]
    progress: ProgressView
    invoice_url: str | None = None


class QueueCounts(View):
    pending: int  # due now
    scheduled: int  # waiting for a later time (the follow-up email a day after an order, retries)
    processing: int


class Health(View, omit_defaults=True):
    status: str
    database: str
    queue: QueueCounts | None = None
    live_workers: int | None = None  # workers that heartbeated within three heartbeat periods


def product_view(product: Product) -> ProductView:
    return ProductView(
        id=product.id,
        name=product.name,
        price=float(product.price),
        stock=product.stock,
        created_at=to_api(product.created_at) or "",
    )


def pipeline_job_view(job: JobRow) -> PipelineJobView:
    return PipelineJobView(
        id=job.id,
        parent_id=job.parent_id,
        type=job.type,
        status=job.status.value,
        priority=job.priority,
        attempts=job.attempts,
        max_attempts=job.max_attempts,
        last_error=job.last_error,
        scheduled_at=to_api(job.scheduled_at) or "",
        created_at=to_api(job.created_at) or "",
        updated_at=to_api(job.updated_at) or "",
        completed_at=to_api(job.completed_at),
    )


def progress_view(state: Progress) -> ProgressView:
    stopped = state.stopped_at
    return ProgressView(
        state=state.state,
        stopped_at=None
        if stopped is None
        else StoppedAtView(job_id=stopped.id, type=stopped.type, status=stopped.status.value, error=stopped.last_error),
    )


def order_view(details: OrderDetails, invoice_url: str | None, now: datetime) -> OrderView:
    order = details.order
    return OrderView(
        id=order.id,
        user_id=order.user_id,
        status=order.status,
        total=float(order.total),
        items=[
            OrderItemView(product_id=i.product_id, quantity=i.quantity, price=float(i.unit_price)) for i in order.items
        ],
        created_at=to_api(order.created_at) or "",
        pipeline=[pipeline_job_view(job) for job in details.pipeline],
        progress=progress_view(progress(details.pipeline, now)),
        invoice_url=invoice_url,
    )


def queue_counts(counts: UnfinishedCounts) -> QueueCounts:
    return QueueCounts(pending=counts.pending, scheduled=counts.scheduled, processing=counts.processing)
