"""`jobs.claims`: how many times a job was claimed, the token every write on a claimed job is fenced on.

(locked_by, attempts) did not name one claim: a hand-back takes the attempt back and a dead-letter
retry starts the attempts again, so a worker that claimed the job once more got the same token as a
claim it had lost, and its late outcome for the lost claim would have counted. The count only grows.
Existing rows start from their attempts.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ALTER TABLE on both engines: a batch operation would make SQLite copy the table, and the copy
# loses the DESC of the claim index.
def upgrade() -> None:
    op.add_column("jobs", sa.Column("claims", sa.Integer(), server_default=sa.text("0"), nullable=False))
    op.execute("UPDATE jobs SET claims = attempts")


def downgrade() -> None:
    op.drop_column("jobs", "claims")
