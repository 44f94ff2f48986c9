"""Who may use the dashboard: a session cookie derived from ADMIN_TOKEN, and a CSRF token derived from
the session.

The cookie holds `<issued>.<HMAC(ADMIN_TOKEN, issued)>`, never the token itself: it expires after
SESSION_SECONDS, and rotating ADMIN_TOKEN invalidates every session at once. Each state-changing form
carries HMAC(ADMIN_TOKEN, session), which another site can neither read nor compute.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from shared.clock import utcnow
from shared.config import Settings

SESSION_COOKIE = "shopqueue_dashboard"
SESSION_SECONDS = 12 * 3600
CLOCK_SKEW_SECONDS = 60
COOKIE_PATH = "/admin"
LOGIN_PATH = "/admin/ui/login"
CSRF_FIELD = "csrf"


class LoginRequiredError(NotAuthorizedException):
    """No valid session: pages redirect to the login form."""


class CsrfRejectedError(PermissionDeniedException):
    """A state-changing request without the session's CSRF token."""


def _mac(token: str, purpose: str, message: str) -> str:
    return hmac.new(token.encode(), f"shopqueue-dashboard:{purpose}:{message}".encode(), hashlib.sha256).hexdigest()


def new_session(token: str, now: datetime) -> str:
    issued = str(int(now.timestamp()))
    return f"{issued}.{_mac(token, 'session', issued)}"


def session_valid(token: str, value: str, now: datetime) -> bool:
    """True for a session issued with this token within SESSION_SECONDS (constant-time comparison)."""
    issued, _, mac = value.partition(".")
    if not token or not (issued.isascii() and issued.isdigit()) or not mac:
        return False
    age = now.timestamp() - int(issued)
    return -CLOCK_SKEW_SECONDS <= age <= SESSION_SECONDS and hmac.compare_digest(
        mac.encode(), _mac(token, "session", issued).encode()
    )


def csrf_token(token: str, session: str) -> str:
    return _mac(token, "csrf", session)


def current_session(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The request's session cookie if it is valid now, else None."""
    settings: Settings = connection.app.state.settings
    value = connection.cookies.get(SESSION_COOKIE, "")
    return value if session_valid(settings.admin_token, value, utcnow()) else None


def csrf_for(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The CSRF token forms on this page must carry (None without a session)."""
    session = current_session(connection)
    settings: Settings = connection.app.state.settings
    return None if session is None else csrf_token(settings.admin_token, session)


def session_cookie(value: str, *, secure: bool) -> Cookie:
    return Cookie(
        key=SESSION_COOKIE,
        value=value,
        path=COOKIE_PATH,
        max_age=SESSION_SECONDS,
        httponly=True,
        samesite="strict",
        secure=secure,
    )


async def require_session(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if current_session(connection) is None:
        raise LoginRequiredError("sign in to use the dashboard")


async def require_csrf(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """A POST must carry the CSRF token of the session it comes with."""
    expected = csrf_for(connection)
    form = await Request(connection.scope, connection.receive).form()
    presented = form.get(CSRF_FIELD)
    if (
        expected is None
        or not isinstance(presented, str)
        or not hmac.compare_digest(presented.encode(), expected.encode())
    ):
        raise CsrfRejectedError("the form's CSRF token is missing or wrong; reload the page and try again")
