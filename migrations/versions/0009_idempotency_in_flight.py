"""Idempotency keys held while their request runs, and refusals remembered as well as orders.

A keyed request now claims its key before doing anything (`locked_by`, `locked_at`), so a second
request with the same key meets the claim and is told the first is still in flight, instead of
running again. `status_code` and `response_body` stay empty until the first request has its answer.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.db.types import UtcText

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Either answered (status and body, no claim) or in flight (a claim, no answer yet).
ANSWERED_OR_IN_FLIGHT = (
    "(status_code IS NOT NULL AND response_body IS NOT NULL AND locked_by IS NULL AND locked_at IS NULL) OR "
    "(status_code IS NULL AND response_body IS NULL AND locked_by IS NOT NULL AND locked_at IS NOT NULL)"
)


def upgrade() -> None:
    with op.batch_alter_table("idempotent_requests") as batch:
        batch.add_column(sa.Column("locked_by", sa.Text(), nullable=True))
        batch.add_column(sa.Column("locked_at", UtcText(), nullable=True))
        batch.alter_column("status_code", existing_type=sa.Integer(), nullable=True)
        batch.alter_column("response_body", existing_type=sa.Text(), nullable=True)
        batch.create_check_constraint(op.f("ck_idempotent_requests_answered_or_in_flight"), ANSWERED_OR_IN_FLIGHT)


def downgrade() -> None:
    op.execute("DELETE FROM idempotent_requests WHERE status_code IS NULL")  # requests still in flight
    with op.batch_alter_table("idempotent_requests") as batch:
        batch.drop_constraint(op.f("ck_idempotent_requests_answered_or_in_flight"), type_="check")
        batch.alter_column("response_body", existing_type=sa.Text(), nullable=False)
        batch.alter_column("status_code", existing_type=sa.Integer(), nullable=False)
        batch.drop_column("locked_at")
        batch.drop_column("locked_by")
