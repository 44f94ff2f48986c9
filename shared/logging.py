"""Structured logs (structlog) in one format for the API, the worker and the migrations.

Our own events go through structlog's native path (level filtering first, one json.dumps per line,
about 4 µs): a worker may log tens of thousands of job events a second. Records of the libraries
that use the standard library (uvicorn, alembic, ...) are rendered by the same renderer.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, cast

import structlog
from structlog.typing import FilteringBoundLogger


def configure_logging(level: str = "INFO", fmt: str = "console") -> None:
    """Send every log line to stderr as JSON objects or readable console lines."""
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False)
    )
    stamp = structlog.processors.TimeStamper(fmt="iso", utc=True)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            _logger_key,
            stamp,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[
                structlog.contextvars.merge_contextvars,
                structlog.stdlib.add_log_level,
                structlog.stdlib.add_logger_name,
                stamp,
            ],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


def get_logger(name: str) -> FilteringBoundLogger:
    """A logger whose lines carry `logger: name`; configure_logging decides where they go."""
    # Initial values, not .bind(): bind would build the logger now, before configure_logging ran.
    # (`logger` itself is a parameter of structlog's factory, so the name travels as `logger_name`.)
    return cast("FilteringBoundLogger", structlog.get_logger(logger_name=name))


def _logger_key(_logger: object, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Our events name their logger under the same key as the standard library's records."""
    if "logger_name" in event:
        event["logger"] = event.pop("logger_name")
    return event
