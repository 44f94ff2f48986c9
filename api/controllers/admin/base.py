"""What every admin controller shares: the guard, the bearer scheme, documented errors, optional bodies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

import msgspec
from litestar import Controller
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import Operation, RequestBody
from litestar.params import Parameter, QueryParameter

from api.errors import error_responses
from api.schemas import INVALID_REQUEST
from api.security import SECURITY, admin_guard
from shared.admin.common import as_utc
from shared.errors import FieldError
from shared.shop.errors import InvalidRequestError

# Listings page with an opaque cursor: the previous page's nextCursor, passed back unchanged.
Cursor = Annotated[str | None, Parameter(max_length=500, description="nextCursor of the previous page")]
MOMENT_EXPECTED = "expected an RFC 3339 date-time, e.g. 2026-11-28T09:00:00Z"


def moment_parameter(name: str, description: str) -> QueryParameter:
    """A time filter in the query, taken as text and read by `query_moment`: Litestar would also take
    a bare number as seconds since 1970 (`createdTo=2026` meaning 00:33:46 on 1 January 1970)."""
    return QueryParameter(name=name, description=f"{description}; without an offset, UTC", format="date-time")


def query_moment(name: str, text: str | None) -> datetime | None:
    """The RFC 3339 date-time in a query parameter, in UTC (taken as UTC without an offset); else 400."""
    if text is None:
        return None
    try:
        moment = msgspec.convert(text, datetime)
    except msgspec.ValidationError:
        raise InvalidRequestError(INVALID_REQUEST, [FieldError(name, MOMENT_EXPECTED)]) from None
    return utc_moment(name, moment)


def utc_moment(name: str, moment: datetime | None) -> datetime | None:
    """`moment` in UTC (taken as UTC without an offset), or 400 naming the field: an offset can carry a
    time past the years 1 to 9999 (9999-12-31T23:00:00-05:00), where no datetime exists (a 500 before)."""
    if moment is None:
        return None
    try:
        return as_utc(moment).astimezone(UTC)
    except OverflowError:
        problem = FieldError(name, "out of range in UTC: years 1 to 9999")
        raise InvalidRequestError(INVALID_REQUEST, [problem]) from None


class AdminController(Controller):
    """Base of the admin controllers: `Authorization: Bearer $ADMIN_TOKEN` or 401, and so documented."""

    guards = [admin_guard]  # noqa: RUF012 - Litestar's own attribute, read once at registration
    security = SECURITY


def admin_errors(*statuses: int) -> dict[int, ResponseSpec]:
    """The error envelope for these statuses, and for 401 (every admin route can answer it)."""
    return error_responses(401, *statuses)


@dataclass
class OptionalBody(Operation):
    """The operation of a handler whose JSON body may be left out (Litestar marks every body required)."""

    def __post_init__(self) -> None:
        if isinstance(self.request_body, RequestBody):
            self.request_body.required = False
