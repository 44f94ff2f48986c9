"""Error types shared by the domain, the queue and the HTTP layer (which maps them to responses)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    """What is wrong with one input field (`items[0].quantity`, `payload.to`)."""

    field: str
    message: str


class InputError(ValueError):
    """Input was refused; nothing was written. `details` names the fields."""

    def __init__(self, message: str, details: list[FieldError] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []
