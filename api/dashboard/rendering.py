"""Rendering: the Jinja environment, pages with their live region, and errors as HTML pages."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER
from litestar.template import TemplateConfig
from litestar.types import ExceptionHandlersMap

from api.dashboard.auth import COOKIE_PATH, LOGIN_PATH, LoginRequiredError, csrf_for
from api.dashboard.flash import FLASH_COOKIE, read_flash
from api.dashboard.formatting import FILTERS
from api.dashboard.forms import HOME, here
from shared.clock import utcnow
from shared.logging import get_logger

logger = get_logger(__name__)

# The refresh script asks for a page's live region only, with this header.
FRAGMENT_HEADER = "x-dashboard-fragment"
REFRESH_MS = 3000

environment = Environment(
    loader=PackageLoader("api.dashboard", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.filters.update(FILTERS)
TEMPLATES: TemplateConfig[JinjaTemplateEngine] = TemplateConfig(
    instance=JinjaTemplateEngine.from_environment(environment)
)


def is_fragment(request: Request[Any, Any, Any]) -> bool:
    return request.headers.get(FRAGMENT_HEADER) == "1"


def _frame(request: Request[Any, Any, Any], page: str | None, title: str) -> dict[str, Any]:
    """What the page frame (base.html) and every form need."""
    return {
        "page": page,
        "title": title,
        "csrf": csrf_for(request),
        "here": here(request),
        "now": utcnow(),
        "refresh_ms": REFRESH_MS,
        "flash": None,
    }


def render(request: Request[Any, Any, Any], page: str, title: str, context: dict[str, Any]) -> Template:
    """`pages/<page>.html`, or only its live region `live/<page>.html` when the refresh script asks."""
    if is_fragment(request):
        return Template(template_name=f"live/{page}.html", context={**_frame(request, page, title), **context})
    return full_page(request, f"pages/{page}.html", page, title, context)


def full_page(
    request: Request[Any, Any, Any],
    template: str,
    page: str | None,
    title: str,
    context: dict[str, Any],
    *,
    status: int = HTTPStatus.OK,
) -> Template:
    """A whole page; it shows (and clears) the flash message an action left, which a refresh never does."""
    values = {**_frame(request, page, title), **context, "flash": read_flash(request)}
    response = Template(template_name=template, context=values, status_code=status)
    if values["flash"] is not None:
        response.delete_cookie(FLASH_COOKIE, path=COOKIE_PATH)
    return response


def error_page(request: Request[Any, Any, Any], status: int, message: str) -> Template:
    title = f"{status} {HTTPStatus(status).phrase}"
    context = {**_frame(request, None, title), "status": status, "message": message}
    return Template(template_name="error.html", context=context, status_code=status)


def login_redirect(request: Request[Any, Any, Any], _: LoginRequiredError) -> Response[Any]:
    """No session: a page goes to the login form (and comes back after); a refresh gets a bare 401."""
    if is_fragment(request):
        return Response("sign in again", status_code=HTTPStatus.UNAUTHORIZED, media_type=MediaType.TEXT)
    back = here(request) if request.method == "GET" else HOME
    return Redirect(LOGIN_PATH, query_params={"next": back}, status_code=HTTP_303_SEE_OTHER)


def http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Template:
    return error_page(request, exc.status_code, exc.detail)


def internal_error(request: Request[Any, Any, Any], exc: Exception) -> Template:
    logger.error("unhandled exception", method=request.method, path=request.url.path, exc_info=exc)
    return error_page(request, HTTPStatus.INTERNAL_SERVER_ERROR, "An unexpected error occurred; it has been logged.")


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    LoginRequiredError: login_redirect,
    ValidationException: http_error,  # the app's own handler answers it in JSON
    HTTPException: http_error,
    Exception: internal_error,
}
