"""What every admin controller shares: the guard, the bearer scheme, documented errors, optional bodies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from litestar import Controller
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import Operation, RequestBody
from litestar.params import Parameter

from api.errors import error_responses
from api.security import SECURITY, admin_guard

# Listings page with an opaque cursor: the previous page's nextCursor, passed back unchanged.
Cursor = Annotated[str | None, Parameter(max_length=500, description="nextCursor of the previous page")]


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
