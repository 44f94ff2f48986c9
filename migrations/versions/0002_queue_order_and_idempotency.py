"""Enqueue order, unique enqueue, correlation ids, status/stock CHECKs, and idempotent requests.

The seed's TEXT ids carry no order, so `seq` gives FIFO inside a priority.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.db.types import JobNumber, UtcText, utc_now
from shared.queue.backends import backend_of

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = "status IN ('pending', 'processing', 'completed', 'failed', 'cancelled')"
UNFINISHED = sa.text("status IN ('pending', 'processing')")


def upgrade() -> None:
    with op.batch_alter_table("products") as batch:
        batch.create_check_constraint(op.f("ck_products_stock_not_negative"), "stock >= 0")

    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("seq", JobNumber(), nullable=True))
        batch.add_column(sa.Column("idempotency_key", sa.Text(), nullable=True))
        batch.add_column(sa.Column("correlation_id", sa.Text(), nullable=True))
    # Number existing jobs in the order they were created.
    op.execute(
        "UPDATE jobs SET seq = (SELECT COUNT(*) FROM jobs AS j2 "
        "WHERE j2.created_at < jobs.created_at OR (j2.created_at = jobs.created_at AND j2.id <= jobs.id))"
    )
    for statement in backend_of(op.get_bind().dialect.name).numbering_ddl():  # a sequence, where there are any
        op.execute(statement)
    with op.batch_alter_table("jobs") as batch:
        batch.alter_column("seq", existing_type=JobNumber(), nullable=False)
        batch.create_check_constraint(op.f("ck_jobs_status_known"), STATUSES)
        batch.create_index("idx_jobs_seq", ["seq"], unique=True)
        batch.create_index("idx_jobs_correlation", ["correlation_id"])
        batch.create_index(
            "idx_jobs_idempotency_unfinished",
            ["idempotency_key"],
            unique=True,
            sqlite_where=UNFINISHED,
            postgresql_where=UNFINISHED,
        )

    op.create_table(
        "idempotent_requests",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("request_hash", sa.Text(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response_body", sa.Text(), nullable=False),
        sa.Column("created_at", UtcText(), server_default=utc_now(), nullable=False),
        sa.PrimaryKeyConstraint("key", "scope", name=op.f("pk_idempotent_requests")),
    )


def downgrade() -> None:
    op.drop_table("idempotent_requests")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_index("idx_jobs_idempotency_unfinished")
        batch.drop_index("idx_jobs_correlation")
        batch.drop_index("idx_jobs_seq")
        batch.drop_constraint(op.f("ck_jobs_status_known"), type_="check")
        batch.drop_column("correlation_id")
        batch.drop_column("idempotency_key")
        batch.drop_column("seq")
    with op.batch_alter_table("products") as batch:
        batch.drop_constraint(op.f("ck_products_stock_not_negative"), type_="check")
