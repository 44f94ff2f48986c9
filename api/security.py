"""Who may use the admin surface: whoever presents ADMIN_TOKEN, compared in constant time.

With no token configured the admin surface is closed to everyone (401), never open.
"""

from __future__ import annotations

import hmac
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler

from shared.config import Settings

SCHEME = "BearerToken"  # the OpenAPI security scheme of every admin route
SECURITY: list[dict[str, list[str]]] = [{SCHEME: []}]
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="shopqueue admin"'}


def token_matches(configured: str, presented: str) -> bool:
    """True only for the configured token; an unset token matches nothing."""
    if not configured or not presented:
        return False
    return hmac.compare_digest(configured.encode(), presented.encode())


def bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


async def admin_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Litestar guard of the admin API: `Authorization: Bearer <ADMIN_TOKEN>`, else 401."""
    settings: Settings = connection.app.state.settings
    if not settings.admin_token:
        raise NotAuthorizedException("the admin API is disabled: set ADMIN_TOKEN to enable it", headers=CHALLENGE)
    if not token_matches(settings.admin_token, bearer_token(connection)):
        raise NotAuthorizedException(
            "a valid admin token is required (Authorization: Bearer <token>)", headers=CHALLENGE
        )
