"""The operator's dashboard at /admin: server-rendered pages, no separate front-end build.

HTML pages are `/admin` (overview) and `/admin/ui/...`; the forms post to `/admin/ui/...`; the script
and stylesheet are served from `/admin/static`. The JSON admin API keeps the other `/admin/...` paths.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Router
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig

from api.dashboard.actions import ActionsController
from api.dashboard.browse import BrowseController
from api.dashboard.headers import security_headers
from api.dashboard.login import LoginController
from api.dashboard.pages import PagesController
from api.dashboard.rendering import EXCEPTION_HANDLERS, TEMPLATES

STATIC_DIR = Path(__file__).parent / "static"

DASHBOARD_ROUTES: list[Any] = [
    Router(
        path="/admin",
        route_handlers=[PagesController, BrowseController, ActionsController, LoginController],
        middleware=[security_headers],
        exception_handlers=EXCEPTION_HANDLERS,
        include_in_schema=False,
    ),
    create_static_files_router(
        path="/admin/static",
        directories=[STATIC_DIR],
        name="dashboard-static",
        middleware=[security_headers],
        include_in_schema=False,
    ),
]
TEMPLATE_CONFIG: TemplateConfig[JinjaTemplateEngine] | None = TEMPLATES
