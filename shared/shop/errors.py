"""Domain errors; the API maps each to its HTTP status and error code in one place."""

from __future__ import annotations

from shared.errors import FieldError, InputError


class DomainError(InputError):
    code = "DOMAIN_ERROR"


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


class RequestInFlightError(DomainError):
    """Another request with the same Idempotency-Key is still running; retry once it has answered."""

    code = "IDEMPOTENCY_REQUEST_IN_FLIGHT"


__all__ = [
    "DomainError",
    "FieldError",
    "IdempotencyConflictError",
    "InsufficientStockError",
    "InvalidRequestError",
    "NotFoundError",
    "PaymentDeclinedError",
    "RequestInFlightError",
]
