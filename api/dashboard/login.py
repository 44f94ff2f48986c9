"""Signing in with the admin token (posted in a form, never in a URL) and signing out."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from api.dashboard.auth import (
    COOKIE_PATH,
    LOGIN_PATH,
    SESSION_COOKIE,
    current_session,
    new_session,
    require_csrf,
    require_session,
    session_cookie,
)
from api.dashboard.flash import Flash, flash_cookie
from api.dashboard.forms import NEXT_FIELD, field, safe_next
from api.dashboard.rendering import full_page
from api.security import token_matches
from shared.clock import utcnow
from shared.config import Settings
from shared.logging import get_logger

logger = get_logger(__name__)

DISABLED = "The dashboard is disabled: ADMIN_TOKEN is not set on the server."
REFUSED = "That token is not valid."


def login_page(
    request: Request[Any, Any, Any], settings: Settings, back: str, error: str | None, status: int = HTTPStatus.OK
) -> Template:
    message = error or (DISABLED if not settings.admin_token else None)
    return full_page(request, "login.html", None, "Sign in", {"next": back, "error": message}, status=status)


class LoginController(Controller):
    path = "/ui"

    @get("/login")
    async def login_form(
        self,
        request: Request[Any, Any, Any],
        settings: NamedDependency[Settings],
        back: Annotated[str | None, QueryParameter(name="next", required=False)] = None,
    ) -> Template | Redirect:
        if current_session(request) is not None:
            return Redirect(safe_next(back), status_code=HTTP_303_SEE_OTHER)
        return login_page(request, settings, safe_next(back), None)

    @post("/login")
    async def login(self, request: Request[Any, Any, Any], settings: NamedDependency[Settings]) -> Template | Redirect:
        """A correct token gets a session cookie derived from it; anything else gets the form again."""
        presented = await field(request, "token") or ""
        back = safe_next(await field(request, NEXT_FIELD))
        if not settings.admin_token:
            return login_page(request, settings, back, DISABLED, HTTPStatus.FORBIDDEN)
        if not token_matches(settings.admin_token, presented):
            logger.warning("dashboard.login_refused", client=request.client.host if request.client else None)
            return login_page(request, settings, back, REFUSED, HTTPStatus.UNAUTHORIZED)
        response = Redirect(back, status_code=HTTP_303_SEE_OTHER)
        session = new_session(settings.admin_token, utcnow())
        response.set_cookie(session_cookie(session, secure=request.url.scheme == "https"))
        return response

    @post("/logout", guards=[require_session, require_csrf])
    async def logout(self) -> Redirect:
        response = Redirect(LOGIN_PATH, status_code=HTTP_303_SEE_OTHER)
        response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH)
        response.set_cookie(flash_cookie(Flash(level="ok", text="Signed out.")))
        return response
