"""Request bodies, the error envelope, and strict decoding of JSON bodies."""

from __future__ import annotations

import re
from typing import Annotated, TypeVar

import msgspec

from shared.errors import FieldError
from shared.shop.errors import InvalidRequestError

MAX_ORDER_LINES = 100

T = TypeVar("T")
INVALID_REQUEST = "the request is invalid"
MALFORMED_JSON = "the request body is not valid JSON"
BODY_REQUIRED = "the request body is required (a JSON object)"
_NAMED_KEY = re.compile(r"(?:unknown|missing required) field `([^`]+)`")


class RequestBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, rename="camel"):
    """Base of request bodies: camelCase JSON, unknown fields refused rather than silently dropped."""


class OrderLineIn(RequestBody, frozen=True):
    product_id: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    quantity: Annotated[int, msgspec.Meta(gt=0, le=1_000_000)]


class CreateOrder(RequestBody, frozen=True):
    user_id: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    items: Annotated[list[OrderLineIn], msgspec.Meta(min_length=1, max_length=MAX_ORDER_LINES)]
    payment_token: Annotated[str, msgspec.Meta(max_length=200)] | None = None


class ResponseBody(msgspec.Struct, kw_only=True, rename="camel"):
    pass


class ErrorDetail(ResponseBody):
    field: str
    message: str


class ErrorInfo(ResponseBody):
    code: str
    message: str
    details: list[ErrorDetail]


class ErrorBody(ResponseBody):
    """Every error response: `{"error": {"code", "message", "details": [{"field", "message"}]}}`."""

    error: ErrorInfo


def field_error(path: str, message: str) -> FieldError:
    """A FieldError for a value at `path` (`items[0].quantity`; empty for the whole body).

    msgspec reports an unknown or missing key at its parent object; point at the key itself.
    """
    named = _NAMED_KEY.search(message)
    if named:
        path = f"{path}.{named[1]}" if path else named[1]
    return FieldError(path or "body", message)


def decode_strict(body: bytes, type_: type[T]) -> T:
    """Decode a JSON body into `type_` with msgspec's strict rules, or raise InvalidRequestError.

    Strict: `"2"` and `2.0` are not accepted where an integer is expected.
    """
    if not body.strip():
        raise InvalidRequestError(INVALID_REQUEST, [FieldError("body", BODY_REQUIRED)])
    try:
        return msgspec.json.decode(body, type=type_)
    except msgspec.ValidationError as exc:
        message, _, where = str(exc).partition(" - at `")
        path = where.rstrip("`").removeprefix("$").removeprefix(".")
        raise InvalidRequestError(INVALID_REQUEST, [field_error(path, message)]) from None
    except msgspec.DecodeError as exc:
        raise InvalidRequestError(MALFORMED_JSON, [FieldError("body", str(exc))]) from None


def decode_optional(body: bytes, type_: type[T]) -> T:
    """Like decode_strict, for a body that may be left out: then every field has its default."""
    return decode_strict(body, type_) if body.strip() else type_()
