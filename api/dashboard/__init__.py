"""The operator's dashboard at /admin: server-rendered pages, no separate front-end build."""

from __future__ import annotations

from typing import Any

from litestar.template import TemplateConfig

DASHBOARD_ROUTES: list[Any] = []
TEMPLATE_CONFIG: TemplateConfig[Any] | None = None
