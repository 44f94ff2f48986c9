"""Payload schemas and defaults of every shop job type (design.md §4)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from shared.queue import JobRegistry, JobType, Priority

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


def _order_of(payload: OrderRef | SendEmail) -> str | None:
    return payload.order_id


JOBS = JobRegistry()
SEND_ORDER_CONFIRMATION = JOBS.define(
    JobType("send_order_confirmation", OrderRef, priority=Priority.HIGH, correlate=_order_of)
)
GENERATE_INVOICE = JOBS.define(JobType("generate_invoice", OrderRef, priority=Priority.NORMAL, correlate=_order_of))
SYNC_INVENTORY = JOBS.define(JobType("sync_inventory", OrderRef, priority=Priority.NORMAL, correlate=_order_of))
SEND_FOLLOWUP_EMAIL = JOBS.define(JobType("send_followup_email", OrderRef, priority=Priority.LOW, correlate=_order_of))
SEND_EMAIL = JOBS.define(JobType("send_email", SendEmail, priority=Priority.NORMAL, correlate=_order_of))
