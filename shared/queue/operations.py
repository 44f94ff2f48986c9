"""What operators (and the shop) can do to jobs: cancel, retry, review dead letters, pause types.

Each function runs in the caller's write transaction and changes nothing when it refuses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from shared.db.tx import Tx
from shared.errors import FieldError
from shared.queue.errors import NotFoundError, StateConflictError
from shared.queue.status import JobStatus


class CancelOutcome(Enum):
    CANCELLED = "cancelled"  # it was waiting: it will never run
    # It is running: its worker stops it at the next await. Unless it completes first, it ends
    # cancelled however its attempt ends (failed, handed back, or its worker died): it never runs again.
    REQUESTED = "cancel_requested"


def cancel(tx: Tx, job_id: str, now: datetime) -> CancelOutcome:
    status = tx.scalar("SELECT status FROM jobs WHERE id = :id", {"id": job_id})
    if status is None:
        raise NotFoundError(f"job {job_id!r} not found")
    params = {"id": job_id, "now": tx.ts(now)}
    if status == JobStatus.PENDING and tx.rowcount(
        "UPDATE jobs SET status = 'cancelled', last_error = 'cancelled before it ran', updated_at = :now "
        "WHERE id = :id AND status = 'pending'",
        params,
    ):
        return CancelOutcome.CANCELLED
    if status == JobStatus.PROCESSING and tx.rowcount(
        "UPDATE jobs SET cancel_requested = 1, updated_at = :now WHERE id = :id AND status = 'processing'", params
    ):
        return CancelOutcome.REQUESTED
    raise StateConflictError(
        f"job {job_id!r} is {status}: only a pending or running job can be cancelled",
        [FieldError("status", f"is {status}")],
    )


_REQUEUE = (
    "UPDATE jobs SET status = 'pending', attempts = 0, scheduled_at = :now, claim_priority = priority, "
    "aged_at = NULL, locked_by = NULL, locked_at = NULL, cancel_requested = 0, updated_at = :now "
    "WHERE id = :id AND status = 'failed'"
)
_KEY_TAKEN = (
    "SELECT 1 FROM jobs WHERE idempotency_key = (SELECT idempotency_key FROM jobs WHERE id = :id) "
    "AND status IN ('pending', 'processing') AND id != :id"
)


@dataclass(frozen=True)
class DeadLetter:
    id: str
    original_job_id: str
    reviewed: bool


def _dead_letter(tx: Tx, dead_id: str) -> DeadLetter:
    row = tx.one("SELECT id, original_job_id, reviewed FROM dead_letter_jobs WHERE id = :id", {"id": dead_id})
    if row is None:
        raise NotFoundError(f"dead letter {dead_id!r} not found")
    return DeadLetter(row[0], row[1], bool(row[2]))


def retry_dead_letter(tx: Tx, dead_id: str, now: datetime, *, note: str = "retried") -> str:
    """Put the failed job back to pending with fresh attempts and mark the entry reviewed. A workflow
    resumes from there: the job's children are enqueued when it completes."""
    dead = _dead_letter(tx, dead_id)
    retry_job(tx, dead.original_job_id, now)
    review_dead_letter(tx, dead_id, note)
    return dead.original_job_id


def retry_job(tx: Tx, job_id: str, now: datetime) -> None:
    """Run a job now: a failed job goes back to pending with fresh attempts (its dead-letter entries
    stay for the record); a waiting job (delayed, or out on a retry's backoff) becomes due at once."""
    status = tx.scalar("SELECT status FROM jobs WHERE id = :id", {"id": job_id})
    if status is None:
        raise NotFoundError(f"job {job_id!r} not found")
    params = {"id": job_id, "now": tx.ts(now)}
    if status == JobStatus.PENDING:
        tx.execute(
            "UPDATE jobs SET scheduled_at = :now, updated_at = :now WHERE id = :id AND scheduled_at > :now", params
        )
        return
    if status != JobStatus.FAILED:
        raise StateConflictError(f"job {job_id!r} is {status}: only a failed or waiting job can be retried", [])
    if tx.one(_KEY_TAKEN, {"id": job_id}):
        raise StateConflictError(f"job {job_id!r}: another unfinished job holds its idempotency key", [])
    tx.execute(_REQUEUE, params)


def review_dead_letter(tx: Tx, dead_id: str, notes: str | None) -> None:
    _dead_letter(tx, dead_id)
    tx.execute(
        "UPDATE dead_letter_jobs SET reviewed = 1, notes = COALESCE(:notes, notes) WHERE id = :id",
        {"id": dead_id, "notes": notes},
    )


def discard_dead_letter(tx: Tx, dead_id: str, notes: str | None = None) -> None:
    """Give up on the entry for good: reviewed, the job stays failed."""
    review_dead_letter(tx, dead_id, f"discarded: {notes}" if notes else "discarded")


@dataclass(frozen=True)
class BulkResult:
    done: list[str]  # dead-letter ids acted on
    refused: dict[str, str]  # dead-letter id -> why not (e.g. the job was retried already)


def retry_dead_letters(tx: Tx, ids: list[str], now: datetime) -> BulkResult:
    """Retry each entry (see retry_dead_letter); one that cannot be retried is skipped, not fatal."""
    done, refused = [], {}
    for dead_id in ids:
        try:
            with tx.savepoint():
                retry_dead_letter(tx, dead_id, now)
            done.append(dead_id)
        except (NotFoundError, StateConflictError) as exc:
            refused[dead_id] = exc.message
    return BulkResult(done, refused)


def discard_dead_letters(tx: Tx, ids: list[str], notes: str | None = None) -> BulkResult:
    done, refused = [], {}
    for dead_id in ids:
        try:
            discard_dead_letter(tx, dead_id, notes)
            done.append(dead_id)
        except NotFoundError as exc:
            refused[dead_id] = exc.message
    return BulkResult(done, refused)


def pause_type(tx: Tx, job_type: str, now: datetime, reason: str | None = None) -> None:
    """No worker claims jobs of this type until it is resumed; they stay pending, in order."""
    tx.execute(
        "INSERT INTO queue_pauses (type, paused_at, reason) VALUES (:type, :now, :reason) "
        "ON CONFLICT (type) DO NOTHING",
        {"type": job_type, "now": tx.ts(now), "reason": reason},
    )


def resume_type(tx: Tx, job_type: str) -> bool:
    return tx.rowcount("DELETE FROM queue_pauses WHERE type = :type", {"type": job_type}) == 1


def paused_types(tx: Tx) -> list[str]:
    return [row[0] for row in tx.all("SELECT type FROM queue_pauses ORDER BY type")]
