"""Providers for handler parameters. They only read app state (filled at start-up) and do no I/O."""

from __future__ import annotations

from typing import Any, cast

from litestar import Request
from litestar.datastructures import State
from litestar.di import Provide

from api.middleware import request_id_of
from shared.config import Settings
from shared.db import Database
from shared.queue.registry import JobTypes
from shared.services.providers import Providers


def provide_settings(state: State) -> Settings:
    return cast("Settings", state.settings)


def provide_db(state: State) -> Database:
    return cast("Database", state.db)


def provide_providers(state: State) -> Providers:
    return cast("Providers", state.providers)


def provide_job_types(state: State) -> JobTypes:
    return cast("JobTypes", state.job_types)


def provide_request_id(request: Request[Any, Any, Any]) -> str | None:
    return request_id_of(request.scope)


DEPENDENCIES = {
    "request_id": Provide(provide_request_id, sync_to_thread=False),
    "job_types": Provide(provide_job_types, sync_to_thread=False),
    "settings": Provide(provide_settings, sync_to_thread=False),
    "db": Provide(provide_db, sync_to_thread=False),
    "providers": Provide(provide_providers, sync_to_thread=False),
}
