"""The ASGI application factory: `api.app:create_app`."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from litestar import Litestar
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig

from api.controllers import CONTROLLERS
from api.dependencies import DEPENDENCIES
from api.errors import EXCEPTION_HANDLERS
from api.lifespan import database_lifespan
from shared.config import Settings, load_settings


def create_app(settings: Settings | None = None) -> Litestar:
    """Build the app; settings come from the environment unless given (tests pass their own)."""
    settings = settings or load_settings()
    return Litestar(
        route_handlers=CONTROLLERS,
        state=State({"settings": settings}),
        dependencies=DEPENDENCIES,
        lifespan=[database_lifespan],
        exception_handlers=EXCEPTION_HANDLERS,
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(title="Shop API", version=_version(), path="/schema"),
        # Logging belongs to shared.logging (configured by `python -m api`); Litestar must not
        # install its own handlers. Unhandled errors are logged by api.errors.
        logging_config=None,
        debug=False,
    )


def _version() -> str:
    try:
        return version("shopqueue")
    except PackageNotFoundError:
        return "0.0.0"
