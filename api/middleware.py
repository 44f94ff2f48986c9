"""Every request gets an id (the client's X-Request-ID when it sends a sane one), returned in the
response, bound to every log line the request writes, and stored on the jobs it enqueues; one
structured access line per request (method, path, status, duration, request id)."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import structlog
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from shared.logging import get_logger

HEADER = "x-request-id"
_SANE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# Probes hit these every few seconds: their lines go to DEBUG, not INFO.
QUIET_PATHS = frozenset({"/health", "/metrics"})
log = get_logger("api.access")


def request_id_of(scope: Scope) -> str | None:
    state: dict[str, Any] = scope.get("state", {})
    value = state.get("request_id")
    return value if isinstance(value, str) else None


def request_log(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        http = scope
        presented = next((v.decode("latin-1") for k, v in http["headers"] if k == HEADER.encode()), "")
        request_id = presented if _SANE.match(presented) else uuid.uuid4().hex
        http.setdefault("state", {})["request_id"] = request_id
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message["headers"] = [*message.get("headers", []), (HEADER.encode(), request_id.encode())]
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await app(scope, receive, send_with_id)
            finally:
                path = http["path"]
                fields = {
                    "method": http["method"],
                    "path": path,
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                }
                if path in QUIET_PATHS:
                    log.debug("http.request", **fields)
                else:
                    log.info("http.request", **fields)

    return middleware
