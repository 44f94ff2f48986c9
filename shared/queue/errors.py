"""Errors of the queue: a refused enqueue, and what a handler raises when retrying cannot help."""

from __future__ import annotations

from shared.errors import FieldError, InputError


class EnqueueError(InputError):
    """The job was refused; nothing was written."""


class UnknownJobTypeError(EnqueueError):
    def __init__(self, name: str) -> None:
        super().__init__(f"unknown job type {name!r}", [FieldError("type", f"unknown job type {name!r}")])
        self.name = name


class InvalidPayloadError(EnqueueError):
    def __init__(self, name: str, problem: str, field: str) -> None:
        super().__init__(f"invalid payload for {name}: {problem} (at {field})", [FieldError(field, problem)])


class PermanentJobError(Exception):
    """Retrying cannot help (bad data, a missing row): the job goes to the dead-letter queue at once."""


class NotFoundError(InputError):
    """No job (or dead letter) with that id."""


class StateConflictError(InputError):
    """The job is not in a state that allows this action (e.g. cancelling a finished job)."""
