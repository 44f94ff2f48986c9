"""The one place where exceptions become HTTP responses, always shaped `{"error": {...}}`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, SerializationException, ValidationException
from litestar.openapi import ResponseSpec
from litestar.params import ParameterKwarg
from litestar.types import ExceptionHandlersMap

from api.schemas import (
    BODY_REQUIRED,
    INVALID_REQUEST,
    MALFORMED_JSON,
    ErrorBody,
    ErrorDetail,
    ErrorInfo,
    field_error,
)
from shared.admin.cursors import InvalidCursorError
from shared.admin.jobs import PayloadTooLargeError
from shared.db import Database
from shared.errors import FieldError, InputError
from shared.logging import get_logger
from shared.queue.cron import InvalidScheduleError, ScheduleNotFoundError
from shared.queue.errors import EnqueueError, StateConflictError
from shared.queue.errors import NotFoundError as QueueNotFoundError
from shared.shop.errors import (
    DomainError,
    IdempotencyConflictError,
    InsufficientStockError,
    InvalidRequestError,
    NotFoundError,
    PaymentDeclinedError,
    RequestInFlightError,
)

logger = get_logger(__name__)

DOMAIN_STATUS: Mapping[type[DomainError], HTTPStatus] = {
    InvalidRequestError: HTTPStatus.BAD_REQUEST,
    PaymentDeclinedError: HTTPStatus.PAYMENT_REQUIRED,
    NotFoundError: HTTPStatus.NOT_FOUND,
    InsufficientStockError: HTTPStatus.CONFLICT,
    IdempotencyConflictError: HTTPStatus.UNPROCESSABLE_ENTITY,
    RequestInFlightError: HTTPStatus.CONFLICT,
}
# The first request with this Idempotency-Key takes about as long as a payment: try again shortly.
IN_FLIGHT_HEADERS = {"Retry-After": "1"}

# Input the queue and the operator's actions refuse (shared.queue, shared.admin): status and code.
QUEUE_ERRORS: Mapping[type[InputError], tuple[HTTPStatus, str]] = {
    PayloadTooLargeError: (HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "PAYLOAD_TOO_LARGE"),
    EnqueueError: (HTTPStatus.BAD_REQUEST, "VALIDATION_ERROR"),
    InvalidScheduleError: (HTTPStatus.BAD_REQUEST, "VALIDATION_ERROR"),
    InvalidCursorError: (HTTPStatus.BAD_REQUEST, "VALIDATION_ERROR"),
    QueueNotFoundError: (HTTPStatus.NOT_FOUND, "NOT_FOUND"),
    ScheduleNotFoundError: (HTTPStatus.NOT_FOUND, "NOT_FOUND"),
    StateConflictError: (HTTPStatus.CONFLICT, "CONFLICT"),
}

# Codes of the HTTP contract (design.md §3) for errors Litestar raises itself.
HTTP_CODES: Mapping[int, str] = {
    HTTPStatus.BAD_REQUEST: "VALIDATION_ERROR",
    HTTPStatus.UNAUTHORIZED: "UNAUTHORIZED",
    HTTPStatus.NOT_FOUND: "NOT_FOUND",
    HTTPStatus.METHOD_NOT_ALLOWED: "METHOD_NOT_ALLOWED",
    HTTPStatus.REQUEST_ENTITY_TOO_LARGE: "PAYLOAD_TOO_LARGE",
    HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE: "HEADERS_TOO_LARGE",
}

INTERNAL_MESSAGE = "an unexpected error occurred; it has been logged"
UNAVAILABLE_MESSAGE = "the database is busy or out of space; retry shortly"
RETRY_AFTER_SECONDS = 1


def error_body(code: str, message: str, details: Iterable[FieldError] = ()) -> ErrorBody:
    return ErrorBody(
        error=ErrorInfo(
            code=code,
            message=message,
            details=[ErrorDetail(field=d.field, message=d.message) for d in details],
        )
    )


def error_response(
    status: int,
    code: str,
    message: str,
    details: Iterable[FieldError] = (),
    headers: Mapping[str, str] | None = None,
) -> Response[ErrorBody]:
    return Response(error_body(code, message, details), status_code=status, media_type=MediaType.JSON, headers=headers)


def domain_status(exc: DomainError) -> HTTPStatus:
    return next((DOMAIN_STATUS[cls] for cls in type(exc).__mro__ if cls in DOMAIN_STATUS), HTTPStatus.BAD_REQUEST)


def handle_domain_error(_: Request[Any, Any, Any], exc: DomainError) -> Response[ErrorBody]:
    headers = IN_FLIGHT_HEADERS if isinstance(exc, RequestInFlightError) else None
    return error_response(domain_status(exc), exc.code, exc.message, exc.details, headers)


def handle_queue_error(_: Request[Any, Any, Any], exc: InputError) -> Response[ErrorBody]:
    status, code = next(QUEUE_ERRORS[cls] for cls in type(exc).__mro__ if cls in QUEUE_ERRORS)
    return error_response(status, code, exc.message, exc.details)


def handle_validation_error(request: Request[Any, Any, Any], exc: ValidationException) -> Response[ErrorBody]:
    """Litestar's own parameter and body validation, with its details turned into field errors."""
    problems = exc.extra if isinstance(exc.extra, list) else []
    names = _names_sent(request)
    details = [_litestar_field_error(problem, names) for problem in problems if isinstance(problem, dict)]
    return error_response(HTTPStatus.BAD_REQUEST, "VALIDATION_ERROR", INVALID_REQUEST, details)


def _names_sent(request: Request[Any, Any, Any]) -> dict[str, str]:
    """The handler's parameter names mapped to the names clients send, where a parameter declares
    one: Litestar reports `job_type` for the query parameter `type`."""
    return {
        name: field.kwarg_definition.name
        for name, field in request.route_handler.parsed_fn_signature.parameters.items()
        if isinstance(field.kwarg_definition, ParameterKwarg) and field.kwarg_definition.name
    }


def _litestar_field_error(problem: Mapping[str, Any], names: Mapping[str, str]) -> FieldError:
    name = str(problem.get("key", ""))
    message = str(problem.get("message", "invalid value"))
    if message == repr(name):  # Litestar's wording for a missing value is the KeyError text
        message = "required"
    if name in names:
        key = names[name]
    elif problem.get("source") == "header":
        # Litestar names the handler's parameter (idempotency_key); the client knows Idempotency-Key.
        key = "-".join(part.capitalize() for part in name.split("_"))
    elif problem.get("source") == "query":
        # ... and created_from for the query parameter the client sends as createdFrom.
        head, *rest = name.split("_")
        key = head + "".join(part.capitalize() for part in rest)
    else:
        key = name
    if key == "data":  # the whole body
        key = ""
        if message == "required":
            message = BODY_REQUIRED
    return field_error(key, message)


def handle_http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[ErrorBody]:
    if exc.status_code >= HTTPStatus.INTERNAL_SERVER_ERROR:
        return handle_internal_error(request, exc)
    status = exc.status_code
    if isinstance(exc.__cause__, SerializationException):  # Litestar could not parse the JSON body
        return error_response(status, "VALIDATION_ERROR", MALFORMED_JSON, [FieldError("body", exc.detail)])
    code = HTTP_CODES.get(status) or _status_name(status)
    message = exc.detail if exc.detail != _phrase(status) else _default_message(request, status)
    return error_response(status, code, message, headers=exc.headers)


def handle_internal_error(request: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    """Log the exception with its traceback; the client learns nothing about the internals.

    The database being busy past the busy timeout, out of disk space or unreachable is not a bug
    but an outage: 503 with Retry-After, so clients retry (with their Idempotency-Key), and one
    warning line naming the cause instead of a traceback."""
    if _database_unavailable(request, exc):
        logger.warning("database unavailable", method=request.method, path=request.url.path, error=_one_line(exc))
        return error_response(
            HTTPStatus.SERVICE_UNAVAILABLE,
            "SERVICE_UNAVAILABLE",
            UNAVAILABLE_MESSAGE,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    logger.error("unhandled exception", method=request.method, path=request.url.path, exc_info=exc)
    return error_response(HTTPStatus.INTERNAL_SERVER_ERROR, "INTERNAL", INTERNAL_MESSAGE)


def _database_unavailable(request: Request[Any, Any, Any], exc: Exception) -> bool:
    database: Database | None = getattr(request.app.state, "db", None)
    return database is not None and database.backend.unavailable(exc)


def _one_line(exc: BaseException) -> str:
    """`WriteLockTimeoutError: no write lock within ...`: the driver's first line, no SQL or parameters."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


def _default_message(request: Request[Any, Any, Any], status: int) -> str:
    if status == HTTPStatus.NOT_FOUND:
        return f"no resource at {request.url.path}"
    if status == HTTPStatus.METHOD_NOT_ALLOWED:
        return f"{request.method} is not allowed on {request.url.path}"
    if status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE:
        limit = request.route_handler.resolve_request_max_body_size()
        return f"the request body is larger than the limit of {limit} bytes"
    return _phrase(status)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "error"


def _status_name(status: int) -> str:
    try:
        return HTTPStatus(status).name
    except ValueError:
        return "ERROR"


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    DomainError: handle_domain_error,
    **dict.fromkeys(QUEUE_ERRORS, handle_queue_error),
    ValidationException: handle_validation_error,
    HTTPException: handle_http_error,
    Exception: handle_internal_error,
}


# What any request may be answered before its handler runs (api/limits.py): 400 for a NUL character
# in the path, query or headers or for malformed HTTP, 431 for header fields over MAX_HEADER_BYTES.
ANY_REQUEST = (HTTPStatus.BAD_REQUEST, HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE)


def error_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI entries documenting the error envelope for these statuses, and for those any request may get."""
    return {
        status: ResponseSpec(ErrorBody, description=_phrase(status), generate_examples=False)
        for status in sorted({*statuses, *ANY_REQUEST})
    }
