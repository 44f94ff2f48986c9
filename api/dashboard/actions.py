"""What the dashboard's buttons do. Every action is a POST with the session's CSRF token; it runs one
write unit through the shared queue operations, then redirects back with a one-time message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Controller, Request, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect
from litestar.status_codes import HTTP_303_SEE_OTHER

from api.dashboard.auth import require_csrf, require_session
from api.dashboard.flash import Flash, flash_cookie
from api.dashboard.forms import BULK_LIMIT, NEXT_FIELD, dead_letter_filter, field, safe_next
from shared.clock import utcnow
from shared.db import Database, Tx
from shared.errors import InputError
from shared.queue import cron, operations, queries
from shared.queue.operations import BulkResult, CancelOutcome
from shared.queue.registry import JobTypes
from shared.queue.status import JobStatus

PAUSE_REASON = "paused from the dashboard"


async def act(
    request: Request[Any, Any, Any],
    db: Database,
    unit: Callable[[Tx], str],
    *,
    field_name: str | None = None,
    entered: str | None = None,
) -> Redirect:
    """Run `unit` (it returns the message to show) in one write transaction; a refusal (nothing was
    written) becomes an error message, with what was entered into `field_name` shown again."""
    back = safe_next(await field(request, NEXT_FIELD))
    try:
        flash = Flash(level="ok", text=await db.run_write(unit))
    except InputError as exc:
        flash = Flash(level="error", text=exc.message, field=field_name, value=entered)
    response = Redirect(back, status_code=HTTP_303_SEE_OTHER)
    response.set_cookie(flash_cookie(flash))
    return response


def bulk_message(verb: str, result: BulkResult, *, more: bool) -> str:
    text = f"{verb} {len(result.done)} {'entry' if len(result.done) == 1 else 'entries'}."
    if result.refused:
        reasons = sorted(set(result.refused.values()))
        text += f" {len(result.refused)} refused: {'; '.join(reasons[:3])}."
    if more:
        text += f" More entries match: each action takes at most {BULK_LIMIT}."
    return text


class ActionsController(Controller):
    path = "/ui"
    guards = [require_session, require_csrf]  # noqa: RUF012 - Litestar's layer attribute

    @post("/jobs/{job_id:str}/cancel")
    async def cancel_job(
        self, request: Request[Any, Any, Any], db: NamedDependency[Database], job_id: FromPath[str]
    ) -> Redirect:
        def unit(tx: Tx) -> str:
            if operations.cancel(tx, job_id, utcnow()) is CancelOutcome.CANCELLED:
                return f"Job {job_id[:8]} cancelled: it will not run."
            return f"Cancellation requested: job {job_id[:8]} stops at its next await."

        return await act(request, db, unit)

    @post("/jobs/{job_id:str}/retry")
    async def retry_job(
        self, request: Request[Any, Any, Any], db: NamedDependency[Database], job_id: FromPath[str]
    ) -> Redirect:
        def unit(tx: Tx) -> str:
            found = queries.job(tx, job_id)
            operations.retry_job(tx, job_id, utcnow())
            if found is not None and found.status is JobStatus.FAILED:
                return f"Job {job_id[:8]} is pending again, with fresh attempts."
            return f"Job {job_id[:8]} is due now."

        return await act(request, db, unit)

    @post("/dead-letter/{dead_id:str}/retry")
    async def retry_dead_letter(
        self, request: Request[Any, Any, Any], db: NamedDependency[Database], dead_id: FromPath[str]
    ) -> Redirect:
        def unit(tx: Tx) -> str:
            job_id = operations.retry_dead_letter(tx, dead_id, utcnow())
            return f"Retried: job {job_id[:8]} is pending again, with fresh attempts."

        return await act(request, db, unit)

    @post("/dead-letter/{dead_id:str}/discard")
    async def discard_dead_letter(
        self, request: Request[Any, Any, Any], db: NamedDependency[Database], dead_id: FromPath[str]
    ) -> Redirect:
        def unit(tx: Tx) -> str:
            operations.discard_dead_letter(tx, dead_id)
            return "Discarded: the entry is reviewed and its job stays failed."

        return await act(request, db, unit)

    @post("/dead-letter/retry")
    async def retry_matching(self, request: Request[Any, Any, Any], db: NamedDependency[Database]) -> Redirect:
        """Retry every entry the posted filter matches (the oldest BULK_LIMIT)."""
        where = dead_letter_filter(
            await field(request, "type"), await field(request, "error"), await field(request, "show")
        )

        def unit(tx: Tx) -> str:
            ids = queries.dead_letter_ids(tx, where, limit=BULK_LIMIT + 1)
            result = operations.retry_dead_letters(tx, ids[:BULK_LIMIT], utcnow())
            return bulk_message("Retried", result, more=len(ids) > BULK_LIMIT)

        return await act(request, db, unit)

    @post("/dead-letter/discard")
    async def discard_matching(self, request: Request[Any, Any, Any], db: NamedDependency[Database]) -> Redirect:
        """Discard every entry the posted filter matches (the oldest BULK_LIMIT)."""
        where = dead_letter_filter(
            await field(request, "type"), await field(request, "error"), await field(request, "show")
        )

        def unit(tx: Tx) -> str:
            ids = queries.dead_letter_ids(tx, where, limit=BULK_LIMIT + 1)
            result = operations.discard_dead_letters(tx, ids[:BULK_LIMIT])
            return bulk_message("Discarded", result, more=len(ids) > BULK_LIMIT)

        return await act(request, db, unit)

    @post("/queues/{job_type:str}/pause")
    async def pause_queue(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        job_types: NamedDependency[JobTypes],
        job_type: FromPath[str],
    ) -> Redirect:
        def unit(tx: Tx) -> str:
            job_types.get(job_type)  # only a known type; UnknownJobTypeError otherwise
            operations.pause_type(tx, job_type, utcnow(), PAUSE_REASON)
            return f"{job_type} paused: workers leave its jobs pending until it is resumed."

        return await act(request, db, unit)

    @post("/queues/{job_type:str}/resume")
    async def resume_queue(
        self, request: Request[Any, Any, Any], db: NamedDependency[Database], job_type: FromPath[str]
    ) -> Redirect:
        def unit(tx: Tx) -> str:
            if operations.resume_type(tx, job_type):
                return f"{job_type} resumed: workers claim its jobs again."
            return f"{job_type} was not paused."

        return await act(request, db, unit)

    @post("/schedules/{schedule_id:str}/pause")
    async def pause_schedule(
        self, request: Request[Any, Any, Any], db: NamedDependency[Database], schedule_id: FromPath[str]
    ) -> Redirect:
        def unit(tx: Tx) -> str:
            cron.set_active(tx, schedule_id, False, utcnow())
            return f"Schedule {schedule_id} paused."

        return await act(request, db, unit)

    @post("/schedules/{schedule_id:str}/resume")
    async def resume_schedule(
        self, request: Request[Any, Any, Any], db: NamedDependency[Database], schedule_id: FromPath[str]
    ) -> Redirect:
        def unit(tx: Tx) -> str:
            schedule = cron.set_active(tx, schedule_id, True, utcnow())
            return f"Schedule {schedule_id} resumed; next run {schedule.next_run_at:%Y-%m-%d %H:%M} UTC."

        return await act(request, db, unit)

    @post("/schedules/{schedule_id:str}/run")
    async def run_schedule(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        job_types: NamedDependency[JobTypes],
        schedule_id: FromPath[str],
    ) -> Redirect:
        def unit(tx: Tx) -> str:
            fired = cron.run_now(tx, job_types, schedule_id, utcnow())
            if fired.job_id is None:
                return f"Schedule {schedule_id} skipped this run: its previous run is unfinished."
            return f"Schedule {schedule_id} enqueued job {fired.job_id[:8]}."

        return await act(request, db, unit)

    @post("/schedules/{schedule_id:str}/expression")
    async def change_expression(
        self, request: Request[Any, Any, Any], db: NamedDependency[Database], schedule_id: FromPath[str]
    ) -> Redirect:
        """A new timetable, validated; a refused expression is shown again beside its error."""
        expression = await field(request, "expression") or ""

        def unit(tx: Tx) -> str:
            schedule = cron.set_expression(tx, schedule_id, expression, utcnow())
            next_run = f"{schedule.next_run_at:%Y-%m-%d %H:%M} UTC"
            return f"Schedule {schedule_id} now runs at {schedule.cron_expression!r}; next run {next_run}."

        return await act(request, db, unit, field_name=f"expression:{schedule_id}", entered=expression)
