"""Request bodies, the error envelope, and strict decoding of JSON bodies."""

from __future__ import annotations

import re
from typing import Annotated, Any, TypeVar

import msgspec
from litestar.params import PathParameter

from shared.errors import FieldError
from shared.shop.errors import InvalidRequestError

MAX_ORDER_LINES = 100
MAX_ID_LENGTH = 100  # ids, product ids, job types, schedule ids: every name the API looks up
_EXACT_INTEGERS = 2**53  # past this a float no longer tells one integer from the next

T = TypeVar("T")
INVALID_REQUEST = "the request is invalid"
MALFORMED_JSON = "the request body is not valid JSON"
BODY_REQUIRED = "the request body is required (a JSON object)"
NUL = "\x00"
NUL_REFUSED = "must not contain the NUL character"
_NAMED_KEY = re.compile(r"(?:unknown|missing required) field `([^`]+)`")


# A path parameter naming something to look up; a longer one cannot name anything.
PathId = Annotated[str, PathParameter(max_length=MAX_ID_LENGTH)]


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


def not_utf8(exc: UnicodeDecodeError) -> FieldError:
    return FieldError("body", f"not UTF-8: {exc.reason}")


def decode_strict(body: bytes, type_: type[T]) -> T:
    """Decode a JSON body into `type_` with msgspec's strict rules, or raise InvalidRequestError.

    Strict: `"2"` is not accepted where an integer is expected, nor `2.5`. `2.0` is: JSON has one
    number type, and JSON Schema (so the OpenAPI document) calls a number without a fraction an
    integer, however it is spelled. No text may hold a NUL character (`\\u0000`): PostgreSQL
    cannot store one, and on SQLite it would cut the text short for C code reading it.
    """
    if not body.strip():
        raise InvalidRequestError(INVALID_REQUEST, [FieldError("body", BODY_REQUIRED)])
    try:
        value = msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise InvalidRequestError(MALFORMED_JSON, [FieldError("body", str(exc))]) from None
    except UnicodeDecodeError as exc:
        raise InvalidRequestError(MALFORMED_JSON, [not_utf8(exc)]) from None
    try:
        return msgspec.convert(_normalized(value, ""), type_)
    except msgspec.ValidationError as exc:
        message, _, where = str(exc).partition(" - at `")
        path = where.rstrip("`").removeprefix("$").removeprefix(".")
        raise InvalidRequestError(INVALID_REQUEST, [field_error(path, message)]) from None


def _normalized(value: Any, path: str) -> Any:
    """`value` with every float that is a whole number (and exactly one) as an int; refused if any
    key or string holds a NUL character."""
    if isinstance(value, float) and value.is_integer() and abs(value) <= _EXACT_INTEGERS:
        return int(value)
    if isinstance(value, str) and NUL in value:
        raise InvalidRequestError(INVALID_REQUEST, [FieldError(path or "body", NUL_REFUSED)])
    if isinstance(value, list):
        return [_normalized(item, f"{path}[{index}]") for index, item in enumerate(value)]
    if isinstance(value, dict):
        normalized = {}
        for key, item in value.items():
            where = f"{path}.{key}" if path else key
            if NUL in key:
                raise InvalidRequestError(INVALID_REQUEST, [FieldError(where, NUL_REFUSED)])
            normalized[key] = _normalized(item, where)
        return normalized
    return value


def decode_optional(body: bytes, type_: type[T]) -> T:
    """Like decode_strict, for a body that may be left out: then every field has its default."""
    return decode_strict(body, type_) if body.strip() else type_()
