"""Job types: a name, a msgspec payload schema, defaults, and (in the worker) a handler."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import msgspec

from shared.queue.errors import InvalidPayloadError, UnknownJobTypeError

_AT_PATH = re.compile(r" - at `\$\.?(?P<path>[^`]*)`$")


@dataclass(frozen=True)
class JobType:
    """How one kind of job is validated and scheduled by default."""

    name: str
    payload_type: type[msgspec.Struct]
    priority: int = 0
    max_attempts: int = 5
    timeout_seconds: float | None = None  # None: the worker's JOB_TIMEOUT_SECONDS
    # Derives the correlation id (e.g. the order id) stored beside the job for lookups.
    correlate: Callable[[Any], str | None] | None = None

    def validate(self, payload: Mapping[str, Any] | msgspec.Struct | str | bytes) -> msgspec.Struct:
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

    def encode(self, payload: msgspec.Struct) -> str:
        return msgspec.json.encode(payload).decode()


def split_validation_error(text: str) -> tuple[str, str]:
    """Split msgspec's "Expected `int`, got `str` - at `$.items[0].quantity`" into message and path."""
    match = _AT_PATH.search(text)
    if not match:
        return text, ""
    return text[: match.start()], match.group("path")


class JobRegistry:
    """The set of job types a process knows. Names are stable: queued rows outlive deploys."""

    def __init__(self) -> None:
        self._types: dict[str, JobType] = {}

    def define(self, job_type: JobType) -> JobType:
        if job_type.name in self._types:
            raise ValueError(f"job type {job_type.name!r} is defined twice")
        self._types[job_type.name] = job_type
        return job_type

    def get(self, name: str) -> JobType:
        try:
            return self._types[name]
        except KeyError:
            raise UnknownJobTypeError(name) from None

    def __contains__(self, name: object) -> bool:
        return name in self._types
