"""Errors raised when a job cannot be enqueued or decoded."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class EnqueueError(ValueError):
    """The job was refused; nothing was written."""

    def __init__(self, message: str, details: list[FieldError] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


class UnknownJobTypeError(EnqueueError):
    def __init__(self, name: str) -> None:
        super().__init__(f"unknown job type {name!r}", [FieldError("type", f"unknown job type {name!r}")])
        self.name = name


class InvalidPayloadError(EnqueueError):
    def __init__(self, name: str, problem: str, field: str) -> None:
        super().__init__(f"invalid payload for {name}: {problem} (at {field})", [FieldError(field, problem)])
