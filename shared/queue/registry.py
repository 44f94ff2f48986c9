"""Job types: name, payload schema, defaults and handler, defined together in one decorator.

    jobs = JobRegistry()

    @jobs.job("send_email", SendEmail, priority=Priority.NORMAL, timeout=15)
    async def send_email(ctx: JobContext[ShopResources], payload: SendEmail) -> None: ...

A type cannot exist without its handler. A registry may also declare the resources its handlers
share (`@jobs.resources`), built once per worker process. Names are stable: queued rows outlive
deploys.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import msgspec

from shared.queue.errors import InvalidPayloadError, UnknownJobTypeError
from shared.queue.limits import (
    ConcurrencyLimit,
    FlowLimits,
    RateLimit,
    parse_concurrency_limits,
    parse_rate_limits,
    resolve,
)

if TYPE_CHECKING:
    from shared.queue.context import JobContext, WorkerEnv

P = TypeVar("P", bound=msgspec.Struct)
R = TypeVar("R")
_AT_PATH = re.compile(r" - at `\$\.?(?P<path>[^`]*)`$")
_NAME = re.compile(r"^[a-z][a-z0-9_.:-]{0,99}$")

Handler = Callable[["JobContext[Any]", Any], Awaitable[None]]
ResourceFactory = Callable[["WorkerEnv"], AbstractAsyncContextManager[Any]]


@dataclass(frozen=True, eq=False)
class JobType(Generic[P]):
    """How one kind of job is validated, scheduled by default, and run."""

    name: str
    payload_type: type[P]
    handler: Callable[[JobContext[Any], P], Awaitable[None]]
    registry: JobRegistry[Any]
    priority: int = 0
    max_attempts: int = 5
    timeout_seconds: float | None = None  # None: the worker's JOB_TIMEOUT_SECONDS
    # Derives the workflow id (e.g. the order id) stored beside the job for lookups.
    workflow: Callable[[P], str | None] | None = None
    # Flow control shared by every worker (RATE_LIMITS and CONCURRENCY_LIMITS may override).
    rate_limit: RateLimit | None = None
    concurrency: ConcurrencyLimit[P] | None = None
    # The payload of a cron tick at `fire_at`, from the schedule's stored payload (default: as stored).
    scheduled_payload: Callable[[datetime, dict[str, Any]], dict[str, Any]] | None = None

    def validate(self, payload: Mapping[str, Any] | msgspec.Struct | str | bytes) -> P:
        """Return the payload as its schema type, or raise InvalidPayloadError."""
        try:
            if isinstance(payload, str | bytes):
                return msgspec.json.decode(payload, type=self.payload_type)
            if isinstance(payload, self.payload_type):
                payload = msgspec.to_builtins(payload)
            return msgspec.convert(payload, self.payload_type)
        except msgspec.ValidationError as exc:
            problem, field = split_validation_error(str(exc))
            raise InvalidPayloadError(self.name, problem, f"payload.{field}" if field else "payload") from exc
        except msgspec.DecodeError as exc:
            raise InvalidPayloadError(self.name, f"malformed JSON: {exc}", "payload") from exc

    def encode(self, payload: P) -> str:
        return msgspec.json.encode(payload).decode()


def split_validation_error(text: str) -> tuple[str, str]:
    """Split msgspec's "Expected `int`, got `str` - at `$.items[0].quantity`" into message and path."""
    match = _AT_PATH.search(text)
    if not match:
        return text, ""
    return text[: match.start()], match.group("path")


@asynccontextmanager
async def _no_resources(_env: WorkerEnv) -> Any:
    yield None


class JobRegistry(Generic[R]):
    """A set of job types and the resources their handlers share (`R`)."""

    def __init__(self) -> None:
        self._types: dict[str, JobType[Any]] = {}
        self.resource_factory: ResourceFactory = _no_resources

    def job(
        self,
        name: str,
        payload: type[P],
        *,
        priority: int = 0,
        max_attempts: int = 5,
        timeout: float | None = None,
        workflow: Callable[[P], str | None] | None = None,
        rate_limit: RateLimit | None = None,
        concurrency: ConcurrencyLimit[P] | None = None,
        scheduled_payload: Callable[[datetime, dict[str, Any]], dict[str, Any]] | None = None,
    ) -> Callable[[Callable[[JobContext[R], P], Awaitable[None]]], JobType[P]]:
        """Define a job type by decorating its handler; the decorated name becomes the JobType."""
        if not _NAME.match(name):
            raise ValueError(f"job type name {name!r}: use lower-case letters, digits and _.:-")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

        def register(handler: Callable[[JobContext[R], P], Awaitable[None]]) -> JobType[P]:
            if name in self._types:
                raise ValueError(f"job type {name!r} is defined twice")
            job_type = JobType(
                name=name,
                payload_type=payload,
                handler=handler,
                registry=self,
                priority=priority,
                max_attempts=max_attempts,
                timeout_seconds=timeout,
                workflow=workflow,
                rate_limit=rate_limit,
                concurrency=concurrency,
                scheduled_payload=scheduled_payload,
            )
            self._types[name] = job_type
            return job_type

        return register

    def resources(
        self, factory: Callable[[WorkerEnv], AbstractAsyncContextManager[R]]
    ) -> Callable[[WorkerEnv], AbstractAsyncContextManager[R]]:
        """Declare how a worker builds the resources handlers receive as `ctx.resources`."""
        self.resource_factory = factory
        return factory

    def get(self, name: str) -> JobType[Any]:
        try:
            return self._types[name]
        except KeyError:
            raise UnknownJobTypeError(name) from None

    def __contains__(self, name: object) -> bool:
        return name in self._types

    def __iter__(self) -> Iterator[JobType[Any]]:
        return iter(self._types.values())


class JobTypes:
    """Every job type a process knows, from one or more registries (the worker's `--jobs` modules)."""

    def __init__(self, registries: list[JobRegistry[Any]]) -> None:
        self.registries = registries
        self._types: dict[str, JobType[Any]] = {}
        for registry in registries:
            for job_type in registry:
                if job_type.name in self._types:
                    raise ValueError(f"job type {job_type.name!r} is defined in two job modules")
                self._types[job_type.name] = job_type

    def get(self, name: str) -> JobType[Any]:
        try:
            return self._types[name]
        except KeyError:
            raise UnknownJobTypeError(name) from None

    def __contains__(self, name: object) -> bool:
        return name in self._types

    def __iter__(self) -> Iterator[JobType[Any]]:
        return iter(self._types.values())

    def names(self) -> list[str]:
        return sorted(self._types)

    def flow_limits(self, rate_overrides: str = "", concurrency_overrides: str = "") -> FlowLimits:
        """Every type's rate and concurrency limits, with the settings' overrides applied."""
        return resolve(
            {t.name: t.rate_limit for t in self if t.rate_limit is not None},
            {t.name: t.concurrency for t in self if t.concurrency is not None},
            parse_rate_limits(rate_overrides),
            parse_concurrency_limits(concurrency_overrides),
        )
