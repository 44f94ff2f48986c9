"""Workflows, claim priority, attempt start, concurrency keys, cancellation, failure history.

- `correlation_id` becomes `workflow_id` (the order, for shop jobs) and `parent_id` records the job
  that enqueued a job;
- the claim orders by `claim_priority` (the priority, raised while a job waits: aging);
- `started_at` (the current attempt), `concurrency_key` and `cancel_requested`;
- `job_failures`: every failed attempt, for a job's timeline;
- `provider_deliveries` leaves the shop's database: the simulated providers keep their own.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.db.types import UtcText

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    op.drop_index("idx_jobs_claim", table_name="jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_index("idx_jobs_correlation")
        batch.alter_column("correlation_id", new_column_name="workflow_id", existing_type=sa.Text())
        batch.add_column(sa.Column("parent_id", sa.Text(), nullable=True))
        batch.add_column(sa.Column("claim_priority", sa.Integer(), server_default=sa.text("0"), nullable=False))
        batch.add_column(sa.Column("aged_at", UtcText(), nullable=True))
        batch.add_column(sa.Column("started_at", UtcText(), nullable=True))
        batch.add_column(sa.Column("concurrency_key", sa.Text(), nullable=True))
        batch.add_column(sa.Column("cancel_requested", sa.Integer(), server_default=sa.text("0"), nullable=False))
    op.create_index("idx_jobs_workflow", "jobs", ["workflow_id"])
    op.execute("UPDATE jobs SET claim_priority = priority")
    op.create_index(
        "idx_jobs_claim",
        "jobs",
        [sa.text("claim_priority DESC"), "scheduled_at", "seq"],
        sqlite_where=PENDING,
        postgresql_where=PENDING,
    )
    op.create_table(
        "job_failures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("job_id", sa.Text(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("worker_id", sa.Text(), nullable=True),
        sa.Column("failed_at", UtcText(), nullable=False),
        sa.CheckConstraint(
            "outcome IN ('retried', 'dead_lettered', 'rescued')", name=op.f("ck_job_failures_outcome_known")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_failures")),
    )
    op.create_index("idx_job_failures_job", "job_failures", ["job_id"])
    op.drop_table("provider_deliveries")


def downgrade() -> None:
    op.create_table(
        "provider_deliveries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("provider", sa.Text(), nullable=False),
        sa.Column("idempotency_key", sa.Text(), nullable=False),
        sa.Column("job_id", sa.Text(), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("delivered_at", sa.Text(), nullable=False),
        sa.Column("repeat_calls", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.CheckConstraint(
            "provider IN ('email', 'pdf', 'inventory', 'payment')",
            name=op.f("ck_provider_deliveries_provider_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_deliveries")),
        sa.UniqueConstraint(
            "provider", "idempotency_key", name=op.f("uq_provider_deliveries_provider_idempotency_key")
        ),
    )
    op.drop_index("idx_job_failures_job", table_name="job_failures")
    op.drop_table("job_failures")
    op.drop_index("idx_jobs_claim", table_name="jobs")
    op.drop_index("idx_jobs_workflow", table_name="jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("cancel_requested")
        batch.drop_column("concurrency_key")
        batch.drop_column("started_at")
        batch.drop_column("aged_at")
        batch.drop_column("claim_priority")
        batch.drop_column("parent_id")
        batch.alter_column("workflow_id", new_column_name="correlation_id", existing_type=sa.Text())
    op.create_index("idx_jobs_correlation", "jobs", ["correlation_id"])
    op.create_index(
        "idx_jobs_claim",
        "jobs",
        [sa.text("priority DESC"), "scheduled_at", "seq"],
        sqlite_where=PENDING,
        postgresql_where=PENDING,
    )
