"""Dead-letter queue, processed jobs, provider deliveries and the worker registry.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.db.types import UtcText, utc_now

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dead_letter_jobs",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("original_job_id", sa.Text(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("failed_at", UtcText(), server_default=utc_now(), nullable=False),
        sa.Column("reviewed", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dead_letter_jobs")),
    )
    op.create_index("idx_dead_letter_reviewed", "dead_letter_jobs", ["reviewed", "failed_at"])
    op.create_index("idx_dead_letter_original", "dead_letter_jobs", ["original_job_id"])
    op.create_table(
        "processed_jobs",
        sa.Column("job_id", sa.Text(), nullable=False),
        sa.Column("processed_at", UtcText(), server_default=utc_now(), nullable=False),
        sa.Column("idempotency_key", sa.Text(), nullable=True),
        sa.Column("type", sa.Text(), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("job_id", name=op.f("pk_processed_jobs")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_processed_jobs_idempotency_key")),
    )
    op.create_table(
        "provider_deliveries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("provider", sa.Text(), nullable=False),
        sa.Column("idempotency_key", sa.Text(), nullable=False),
        sa.Column("job_id", sa.Text(), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("delivered_at", UtcText(), nullable=False),
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
    op.create_table(
        "workers",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("hostname", sa.Text(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("concurrency", sa.Integer(), nullable=False),
        sa.Column("running", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("started_at", UtcText(), nullable=False),
        sa.Column("last_seen_at", UtcText(), nullable=False),
        sa.CheckConstraint("status IN ('running', 'stopping', 'stopped')", name=op.f("ck_workers_status_known")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workers")),
    )


def downgrade() -> None:
    op.drop_table("workers")
    op.drop_table("provider_deliveries")
    op.drop_table("processed_jobs")
    op.drop_index("idx_dead_letter_original", table_name="dead_letter_jobs")
    op.drop_index("idx_dead_letter_reviewed", table_name="dead_letter_jobs")
    op.drop_table("dead_letter_jobs")
