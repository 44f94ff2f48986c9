"""Response bodies (camelCase JSON) built from rows by explicit functions."""

from __future__ import annotations

import msgspec

from shared.clock import to_api
from shared.queue.models import Job
from shared.shop.models import Order, OrderItem, Product


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


class OrderView(View):
    id: str
    user_id: str
    status: str
    total: float
    items: list[OrderItemView]
    created_at: str
    pipeline: list[PipelineJobView]
    invoice_url: str | None = None


def product_view(product: Product) -> ProductView:
    return ProductView(
        id=product.id,
        name=product.name,
        price=product.price,
        stock=product.stock,
        created_at=to_api(product.created_at) or "",
    )


def pipeline_job_view(job: Job) -> PipelineJobView:
    return PipelineJobView(
        id=job.id,
        type=job.type,
        status=job.status,
        priority=job.priority,
        attempts=job.attempts,
        max_attempts=job.max_attempts,
        last_error=job.last_error,
        scheduled_at=to_api(job.scheduled_at) or "",
        created_at=to_api(job.created_at) or "",
        updated_at=to_api(job.updated_at) or "",
        completed_at=to_api(job.completed_at),
    )


def order_view(order: Order, items: list[OrderItem], jobs: list[Job], invoice_url: str | None) -> OrderView:
    return OrderView(
        id=order.id,
        user_id=order.user_id,
        status=order.status,
        total=order.total,
        items=[OrderItemView(product_id=i.product_id, quantity=i.quantity, price=i.price) for i in items],
        created_at=to_api(order.created_at) or "",
        pipeline=[pipeline_job_view(job) for job in jobs],
        invoice_url=invoice_url,
    )
