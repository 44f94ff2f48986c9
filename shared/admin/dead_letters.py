"""The dead-letter queue for operators: browse, retry, review, discard, one by one or by filter."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.admin import cursors
from shared.admin.common import View, stored_json
from shared.clock import to_api
from shared.db import Tx
from shared.queue import operations, queries
from shared.queue.errors import NotFoundError

MAX_BULK = 1000  # entries one bulk action takes at most (one short write transaction)


class DeadLetterView(View):
    id: str
    original_job_id: str
    type: str
    payload: Any
    attempts: int
    last_error: str | None
    failed_at: str
    reviewed: bool
    notes: str | None


class DeadLetterPage(View):
    dead_letters: list[DeadLetterView]  # most recent failure first
    next_cursor: str | None


class BulkView(View):
    done: int
    refused: dict[str, str]  # dead-letter id -> why it was left alone
    more: bool  # more entries matched the filter than this call took


def dead_letter_view(row: queries.DeadLetterRow) -> DeadLetterView:
    return DeadLetterView(
        id=row.id,
        original_job_id=row.original_job_id,
        type=row.type,
        payload=stored_json(row.payload),
        attempts=row.attempts,
        last_error=row.last_error,
        failed_at=to_api(row.failed_at) or "",
        reviewed=row.reviewed,
        notes=row.notes,
    )


def get_dead_letter(tx: Tx, dead_id: str) -> DeadLetterView:
    found = queries.dead_letter(tx, dead_id)
    if found is None:
        raise NotFoundError(f"dead letter {dead_id!r} not found")
    return dead_letter_view(found)


def list_dead_letters(tx: Tx, where: queries.DeadLetterFilter, *, limit: int, cursor: str | None) -> DeadLetterPage:
    page = queries.list_dead_letters(tx, where, limit=limit, before=cursors.dead_letter_position(cursor))
    return DeadLetterPage(
        dead_letters=[dead_letter_view(row) for row in page.entries],
        next_cursor=None if page.next_cursor is None else cursors.dead_letter_cursor(page.next_cursor),
    )


def retry_dead_letter(tx: Tx, dead_id: str, now: datetime) -> DeadLetterView:
    """The job goes back to pending with fresh attempts; the entry is marked reviewed."""
    operations.retry_dead_letter(tx, dead_id, now)
    return get_dead_letter(tx, dead_id)


def review_dead_letter(tx: Tx, dead_id: str, notes: str | None) -> DeadLetterView:
    operations.review_dead_letter(tx, dead_id, notes)
    return get_dead_letter(tx, dead_id)


def discard_dead_letter(tx: Tx, dead_id: str, notes: str | None) -> DeadLetterView:
    """Give up on it: reviewed, noted as discarded; the job stays failed."""
    operations.discard_dead_letter(tx, dead_id, notes)
    return get_dead_letter(tx, dead_id)


def retry_many(tx: Tx, ids: list[str], now: datetime, *, more: bool = False) -> BulkView:
    return _bulk(operations.retry_dead_letters(tx, ids, now), more)


def discard_many(tx: Tx, ids: list[str], notes: str | None, *, more: bool = False) -> BulkView:
    return _bulk(operations.discard_dead_letters(tx, ids, notes), more)


def retry_matching(tx: Tx, where: queries.DeadLetterFilter, limit: int, now: datetime) -> BulkView:
    """Retry up to `limit` (at most MAX_BULK) entries matching the filter, oldest first."""
    ids, more = _matching(tx, where, limit)
    return retry_many(tx, ids, now, more=more)


def discard_matching(tx: Tx, where: queries.DeadLetterFilter, limit: int, notes: str | None) -> BulkView:
    ids, more = _matching(tx, where, limit)
    return discard_many(tx, ids, notes, more=more)


def _matching(tx: Tx, where: queries.DeadLetterFilter, limit: int) -> tuple[list[str], bool]:
    taken = min(limit, MAX_BULK)
    ids = queries.dead_letter_ids(tx, where, limit=taken + 1)
    return ids[:taken], len(ids) > taken


def _bulk(result: operations.BulkResult, more: bool) -> BulkView:
    return BulkView(done=len(result.done), refused=result.refused, more=more)
