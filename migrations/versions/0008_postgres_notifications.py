"""New work announced by the database itself, where the engine can (PostgreSQL: LISTEN/NOTIFY).

A statement-level trigger notifies the channel `shopqueue_jobs` when jobs are inserted, and a row
trigger when a job becomes pending again or is asked to cancel; PostgreSQL delivers one notification
per transaction. SQLite needs nothing: workers watch the database file itself.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from shared.queue.backends import backend_of

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for statement in backend_of(op.get_bind().dialect.name).wake_up_ddl()[0]:
        op.execute(statement)


def downgrade() -> None:
    for statement in backend_of(op.get_bind().dialect.name).wake_up_ddl()[1]:
        op.execute(statement)
