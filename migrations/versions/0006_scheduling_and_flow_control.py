"""Recurring jobs, rate-limit windows, paused job types, sales reports, cancellation requests.

- `cron_schedules` (the course's table, plus overlap and the last job) seeded with the daily sales
  report at 00:00 UTC and the cleanup of completed jobs at 03:00 UTC; `cron_runs` makes each tick
  fire once across workers;
- `rate_limit_starts`: the sliding window of every rate-limited job type, shared by all workers;
- `queue_pauses`: job types no worker claims until resumed;
- `sales_reports`: one row per UTC day, and an index on `orders.created_at` to read a day;
- a partial index on running jobs whose cancellation was requested.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from cronsim import CronSim

from shared.db.types import Money, UtcText, utc_now

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEDULES = [
    ("daily_sales_report", "daily_sales_report", "0 0 * * *"),
    ("cleanup_completed_jobs", "cleanup_completed_jobs", "0 3 * * *"),
]


def upgrade() -> None:
    schedules = op.create_table(
        "cron_schedules",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("cron_expression", sa.Text(), nullable=False),
        sa.Column("last_run_at", UtcText(), nullable=True),
        sa.Column("next_run_at", UtcText(), nullable=False),
        sa.Column("is_active", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("created_at", UtcText(), server_default=utc_now(), nullable=False),
        sa.Column("overlap", sa.Text(), server_default=sa.text("'skip'"), nullable=False),
        sa.Column("last_job_id", sa.Text(), nullable=True),
        sa.CheckConstraint("overlap IN ('skip', 'allow')", name=op.f("ck_cron_schedules_overlap_known")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cron_schedules")),
    )
    op.create_index("idx_cron_schedules_due", "cron_schedules", ["is_active", "next_run_at"])
    now = datetime.now(UTC)
    op.bulk_insert(
        schedules,
        [
            {
                "id": schedule_id,
                "type": job_type,
                "payload": "{}",
                "cron_expression": expression,
                "next_run_at": next(CronSim(expression, now)),
                "is_active": 1,
                "created_at": now,
                "overlap": "skip",
            }
            for schedule_id, job_type, expression in SCHEDULES
        ],
    )
    op.create_table(
        "cron_runs",
        sa.Column("schedule_id", sa.Text(), nullable=False),
        sa.Column("fire_at", UtcText(), nullable=False),
        sa.Column("job_id", sa.Text(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("recorded_at", UtcText(), nullable=False),
        sa.CheckConstraint("outcome IN ('enqueued', 'skipped', 'manual')", name=op.f("ck_cron_runs_outcome_known")),
        sa.PrimaryKeyConstraint("schedule_id", "fire_at", name=op.f("pk_cron_runs")),
    )
    op.create_table(
        "rate_limit_starts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("limit_key", sa.Text(), nullable=False),
        sa.Column("started_at", UtcText(), nullable=False),
        sa.Column("job_id", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rate_limit_starts")),
    )
    op.create_index("idx_rate_limit_starts_key", "rate_limit_starts", ["limit_key", "started_at"])
    op.create_table(
        "queue_pauses",
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("paused_at", UtcText(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("type", name=op.f("pk_queue_pauses")),
    )
    op.create_table(
        "sales_reports",
        sa.Column("date", sa.Text(), nullable=False),
        sa.Column("order_count", sa.Integer(), nullable=False),
        sa.Column("revenue", Money(), nullable=False),
        sa.Column("units_sold", sa.Integer(), nullable=False),
        sa.Column("top_products", sa.Text(), nullable=False),
        sa.Column("generated_at", UtcText(), nullable=False),
        sa.PrimaryKeyConstraint("date", name=op.f("pk_sales_reports")),
    )
    op.create_index("idx_orders_created", "orders", ["created_at"])
    requested = sa.text("cancel_requested = 1")
    op.create_index(
        "idx_jobs_cancel_requested", "jobs", ["locked_by"], sqlite_where=requested, postgresql_where=requested
    )


def downgrade() -> None:
    op.drop_index("idx_jobs_cancel_requested", table_name="jobs")
    op.drop_index("idx_orders_created", table_name="orders")
    op.drop_table("sales_reports")
    op.drop_table("queue_pauses")
    op.drop_index("idx_rate_limit_starts_key", table_name="rate_limit_starts")
    op.drop_table("rate_limit_starts")
    op.drop_table("cron_runs")
    op.drop_index("idx_cron_schedules_due", table_name="cron_schedules")
    op.drop_table("cron_schedules")
