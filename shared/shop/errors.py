"""Domain errors; the API maps each to its HTTP status and error code in one place."""

from __future__ import annotations

from shared.queue.errors import FieldError


class DomainError(Exception):
    code = "DOMAIN_ERROR"

    def __init__(self, message: str, details: list[FieldError] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


class NotFoundError(DomainError):
    code = "NOT_FOUND"


class InvalidRequestError(DomainError):
    code = "VALIDATION_ERROR"


class InsufficientStockError(DomainError):
    code = "INSUFFICIENT_STOCK"


class PaymentDeclinedError(DomainError):
    code = "PAYMENT_DECLINED"


class IdempotencyConflictError(DomainError):
    """The Idempotency-Key was used before with a different request."""

    code = "IDEMPOTENCY_KEY_REUSED"
