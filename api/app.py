"""The ASGI application factory: `api.app:create_app`."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from litestar import Litestar
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme

from api.controllers import CONTROLLERS
from api.controllers.admin import ADMIN_CONTROLLERS
from api.dashboard import DASHBOARD_ROUTES, TEMPLATE_CONFIG
from api.dependencies import DEPENDENCIES
from api.errors import EXCEPTION_HANDLERS
from api.lifespan import database_lifespan
from api.limits import LimitedRequest, limit_headers, refuse_nul
from api.metrics import PROMETHEUS, MetricsController
from api.middleware import request_log
from api.openapi import MsgspecSchemaPlugin
from api.security import SCHEME
from shared.config import Settings, load_settings
from shared.queue.loading import load_job_types


def create_app(settings: Settings | None = None) -> Litestar:
    """Build the app; settings come from the environment unless given (tests pass their own)."""
    settings = settings or load_settings()
    # The job types the admin side may enqueue: the same modules the workers run (JOB_MODULES).
    job_types = load_job_types(settings.job_module_list())
    app = Litestar(
        route_handlers=[*CONTROLLERS, *ADMIN_CONTROLLERS, *DASHBOARD_ROUTES, MetricsController],
        middleware=[PROMETHEUS.middleware],
        state=State({"settings": settings, "job_types": job_types}),
        dependencies=DEPENDENCIES,
        lifespan=[database_lifespan],
        exception_handlers=EXCEPTION_HANDLERS,
        request_max_body_size=settings.max_body_bytes,
        request_class=LimitedRequest,  # JSON bodies nested too deeply are refused before parsing
        before_request=refuse_nul,
        # Bodies documented as msgspec (which decodes them) describes them, not as Litestar guesses.
        plugins=[MsgspecSchemaPlugin()],
        openapi_config=OpenAPIConfig(
            title="Shop API",
            version=_version(),
            path="/schema",
            components=Components(
                security_schemes={
                    SCHEME: SecurityScheme(
                        type="http",
                        scheme="bearer",
                        description="ADMIN_TOKEN, as `Authorization: Bearer <token>` (admin routes only)",
                    )
                }
            ),
        ),
        template_config=TEMPLATE_CONFIG,
        # Logging belongs to shared.logging (configured by `python -m api`); Litestar must not
        # install its own handlers. Unhandled errors are logged by api.errors.
        logging_config=None,
        debug=False,
    )
    # Around everything the app does, routing and its error responses included (route middleware
    # would miss a 404 for an unknown path): the request id and the access line, then the header limit.
    app.asgi_handler = request_log(limit_headers(app.asgi_handler, settings.max_header_bytes))
    return app


def _version() -> str:
    try:
        return version("shopqueue")
    except PackageNotFoundError:
        return "0.0.0"
