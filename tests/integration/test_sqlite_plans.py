"""SQLite's query plans: the queue's statements walk the indexes they were written for."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.db import Database

T0 = datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def backend() -> str:
    return "sqlite"


def test_claim_walks_the_claim_order_index_without_sorting_the_backlog(db: Database) -> None:
    with db.read() as tx:
        sql = "EXPLAIN QUERY PLAN " + tx.backend.claim_candidates.format(exclude="")
        plan = tx.all(sql, {"now": tx.ts(T0), "limit": 10})
    details = [row[-1] for row in plan]
    assert any("USING INDEX idx_jobs_claim" in d for d in details), details
    assert not any("TEMP B-TREE" in d for d in details), details


def test_claim_and_bulk_completion_find_rows_by_primary_key(db: Database) -> None:
    """Without statistics SQLite would walk every pending or processing row through the status index."""
    with db.read() as tx:
        for sql, params in (
            (tx.backend.claim_update, {"worker": "w", "now": tx.ts(T0), "ids": tx.list_param(["a"])}),
            (tx.backend.complete_many, {"worker": "w", "now": tx.ts(T0), "held": "[]"}),
        ):
            details = " ".join(row[-1] for row in tx.all("EXPLAIN QUERY PLAN " + sql, params))
            assert "sqlite_autoindex_jobs_1 (id=?)" in details, details
            assert "idx_jobs_status_scheduled" not in details, details
