"""Bounds on what one request may make the API read, each refused in the error envelope.

- body: MAX_BODY_BYTES (Litestar's request_max_body_size, 413), as bytes arrive;
- JSON nesting: MAX_JSON_DEPTH levels (400), checked before any JSON parser recurses into it;
- header fields: MAX_HEADER_BYTES (431), here for every request that reaches the app, and in
  uvicorn's parser (api/server.py) for a request head too large to reach it;
- no NUL character in any text: path, query and headers here (after the admin guard), JSON strings
  in api.schemas.decode_strict.

Lengths, counts and page sizes are bounds of the request schemas themselves (api/schemas.py,
api/controllers), so the OpenAPI document states them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from http import HTTPStatus
from itertools import accumulate
from typing import Any

import msgspec
from litestar import Request
from litestar.enums import ScopeType
from litestar.types import (
    ASGIApp,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    HTTPScope,
    Receive,
    Scope,
    Send,
)

from api.errors import HTTP_CODES
from api.schemas import (
    INVALID_REQUEST,
    MALFORMED_JSON,
    NUL,
    NUL_REFUSED,
    ErrorBody,
    ErrorDetail,
    ErrorInfo,
    not_utf8,
)
from shared.errors import FieldError
from shared.shop.errors import InvalidRequestError

MAX_JSON_DEPTH = 32

# A JSON string (escapes included) or one bracket. A string token also matches when its closing
# quote never comes, so no quote makes the scan start over: it stays linear on any input.
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*+(?:"|\\?\Z)|[\[\]{}]', re.DOTALL)
_DEPTH_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def nested_deeper_than(body: bytes, levels: int) -> bool:
    """Whether arrays and objects nest more than `levels` deep in `body` (brackets in strings do not count)."""
    if body.count(b"[") + body.count(b"{") <= levels:  # the common case: too few brackets to tell apart
        return False
    brackets = (token[0] for token in _TOKENS.findall(body) if token[0] != ord('"'))
    return max(accumulate(_DEPTH_STEP[bracket] for bracket in brackets), default=0) > levels


class LimitedRequest(Request[Any, Any, Any]):
    """Litestar's Request, refusing JSON nested deeper than MAX_JSON_DEPTH before parsing it: msgspec
    (and every other parser) recurses once per level, and ~1000 levels raised RecursionError (a 500).
    A body that is not UTF-8 is malformed JSON too (msgspec's UnicodeDecodeError was a 500)."""

    async def json(self) -> Any:
        if nested_deeper_than(await self.body(), MAX_JSON_DEPTH):
            problem = FieldError("body", f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
            raise InvalidRequestError(INVALID_REQUEST, [problem])
        try:
            return await super().json()
        except UnicodeDecodeError as exc:
            raise InvalidRequestError(MALFORMED_JSON, [not_utf8(exc)]) from None


def header_bytes(headers: Iterable[tuple[bytes, bytes]]) -> int:
    """Size of the header fields as on the wire: `name: value` and CRLF for each."""
    return sum(len(name) + len(value) + 4 for name, value in headers)


def error_body(status: HTTPStatus, message: str, details: Iterable[FieldError] = ()) -> bytes:
    """The envelope for a refusal made before Litestar routes the request."""
    problems = [ErrorDetail(field=detail.field, message=detail.message) for detail in details]
    return msgspec.json.encode(ErrorBody(error=ErrorInfo(code=HTTP_CODES[status], message=message, details=problems)))


def headers_too_large_body(limit: int) -> bytes:
    return error_body(
        HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
        f"the request's header fields are larger than the limit of {limit} bytes",
    )


def limit_headers(app: ASGIApp, max_header_bytes: int) -> ASGIApp:
    """Refuse header fields over `max_header_bytes` with 431, before routing."""

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP and header_bytes(scope["headers"]) > max_header_bytes:
            await _refuse(send, HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, headers_too_large_body(max_header_bytes))
        else:
            await app(scope, receive, send)

    return guarded


async def refuse_nul(request: Request[Any, Any, Any]) -> None:
    """Litestar's before_request hook (after the guards, so the admin API says 401 first): a NUL
    character in the path, query or a header is refused with 400. No id, filter or key holds one, and
    PostgreSQL cannot even compare text with it (uvicorn's parser refuses a NUL in a header itself;
    other servers and test clients may not)."""
    where = _nul_in(request.scope)
    if where is not None:
        raise InvalidRequestError(INVALID_REQUEST, [FieldError(where, NUL_REFUSED)])


def _nul_in(scope: HTTPScope) -> str | None:
    """Where the request holds a NUL character: `path`, `query` or a header's name; None if nowhere."""
    if NUL in scope["path"]:
        return "path"
    if b"%00" in scope["query_string"] or b"\x00" in scope["query_string"]:
        return "query"
    return next((name.decode("latin-1") for name, value in scope["headers"] if b"\x00" in value), None)


async def _refuse(send: Send, status: HTTPStatus, body: bytes) -> None:
    start: HTTPResponseStartEvent = {
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
    }
    end: HTTPResponseBodyEvent = {"type": "http.response.body", "body": body, "more_body": False}
    await send(start)
    await send(end)
