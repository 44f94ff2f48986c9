"""The operator's side: counters the workers report for metrics, request ids on jobs, time indexes.

- `queue_counters`: monotonic totals and histogram buckets added to by every worker, read by the
  API's /metrics at scrape time;
- `jobs.request_id`: the HTTP request that enqueued a job (logged by the worker that runs it);
- partial index on completed jobs' `completed_at` (throughput, rates, cleanup) and an index on
  `job_failures.failed_at` (failure rate).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COMPLETED = sa.text("status = 'completed'")


def upgrade() -> None:
    op.create_table(
        "queue_counters",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("le", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("value", sa.Float(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("name", "type", "le", name=op.f("pk_queue_counters")),
    )
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("request_id", sa.Text(), nullable=True))
    op.create_index(
        "idx_jobs_completed_at", "jobs", ["completed_at"], sqlite_where=COMPLETED, postgresql_where=COMPLETED
    )
    op.create_index("idx_job_failures_failed_at", "job_failures", ["failed_at"])


def downgrade() -> None:
    op.drop_index("idx_job_failures_failed_at", table_name="job_failures")
    op.drop_index("idx_jobs_completed_at", table_name="jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("request_id")
    op.drop_table("queue_counters")
