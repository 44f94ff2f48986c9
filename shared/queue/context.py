"""What a handler receives: the claimed job, its registry's resources, and ways to act on completion."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import msgspec

from shared.clock import Clock
from shared.db import Database, Tx

if TYPE_CHECKING:
    from shared.config import Settings
    from shared.queue.registry import JobType

R = TypeVar("R")
CompletionHook = Callable[[Tx], None]


@dataclass(frozen=True)
class WorkerEnv:
    """What a registry's resource factory may use to build its resources."""

    settings: Settings
    db: Database
    clock: Clock


@dataclass(slots=True)
class ClaimedJob:
    """A job this worker holds; the claim token is (locked_by, claims)."""

    id: str
    type: str
    payload: str
    priority: int
    attempts: int
    max_attempts: int
    scheduled_at: datetime
    seq: int
    workflow_id: str | None
    parent_id: str | None
    concurrency_key: str | None
    locked_by: str
    started_at: datetime
    claims: int  # the job's claim count with this claim: names the claim, unlike attempts
    request_id: str | None = None


@dataclass(frozen=True)
class Child:
    job_type: JobType[Any]
    payload: Mapping[str, Any] | msgspec.Struct
    delay: float | timedelta | None
    idempotency_key: str | None


@dataclass(slots=True)
class Completion:
    """What commits with the job's completion: its step key, children, and custom hooks."""

    processed_key: str | None = None
    children: list[Child] = field(default_factory=list)
    hooks: list[CompletionHook] = field(default_factory=list)


class JobContext(Generic[R]):
    """The running job. Work registered here commits in the transaction that marks it completed,
    or not at all: children exist exactly when their parent completed."""

    __slots__ = ("_already_done", "completion", "job", "resources")

    def __init__(self, job: ClaimedJob, resources: R, already_done: Callable[[str], Awaitable[bool]]) -> None:
        self.job = job
        self.resources = resources
        self.completion = Completion()
        self._already_done = already_done

    async def once(self, key: str, call: Callable[[], Awaitable[Any]]) -> None:
        """Run the job's external effect unless a completed job already did it under `key`.

        `key` is recorded in `processed_jobs` with the completion; pass the same key to the
        provider so that a retry after a lost reply is deduplicated there. One step per job.
        """
        if self.completion.processed_key is not None:
            raise RuntimeError("a job records one step; call once() a single time")
        if not await self._already_done(key):
            await call()
        self.completion.processed_key = key

    def enqueue_after(
        self,
        job_type: JobType[Any],
        payload: Mapping[str, Any] | msgspec.Struct,
        *,
        delay: float | timedelta | None = None,
        idempotency_key: str | None = None,
    ) -> None:
        """Enqueue a child (same workflow, this job as parent) when this job completes."""
        self.completion.children.append(Child(job_type, payload, delay, idempotency_key))

    def on_complete(self, hook: CompletionHook) -> None:
        """Run `hook(tx)` inside the completing transaction."""
        self.completion.hooks.append(hook)
