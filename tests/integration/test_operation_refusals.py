"""What an operator's refused action says (the admin API and the CLI show it as is)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.db import Database
from shared.errors import FieldError
from shared.queue import enqueue, operations
from shared.queue.errors import NotFoundError, StateConflictError
from tests.model import jobs as model_jobs

T0 = datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)


def finished(db: Database) -> str:
    with db.write() as tx:
        job_id = enqueue(tx, model_jobs.plain, {"n": 1}, clock=lambda: T0)
        tx.execute("UPDATE jobs SET status = 'completed' WHERE id = :id", {"id": job_id})
    return job_id


def test_cancelling_a_finished_job_is_refused_naming_its_status(db: Database) -> None:
    job_id = finished(db)
    with db.write() as tx, pytest.raises(StateConflictError) as refused:
        operations.cancel(tx, job_id, T0)
    assert (str(refused.value), refused.value.details) == (
        f"job {job_id!r} is completed: only a pending or running job can be cancelled",
        [FieldError("status", "is completed")],
    )


def test_retrying_a_finished_job_is_refused_naming_its_status(db: Database) -> None:
    job_id = finished(db)
    with db.write() as tx, pytest.raises(StateConflictError) as refused:
        operations.retry_job(tx, job_id, T0)
    assert str(refused.value) == f"job {job_id!r} is completed: only a failed or waiting job can be retried"


def test_actions_on_a_missing_job_say_which(db: Database) -> None:
    with db.write() as tx:
        for action in (operations.cancel, operations.retry_job):
            with pytest.raises(NotFoundError) as refused:
                action(tx, "nope", T0)
            assert str(refused.value) == "job 'nope' not found"
