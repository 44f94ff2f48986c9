"""One-time messages after an action (post/redirect/get): set by the action, shown once by the next page.

A cookie scoped to /admin (HttpOnly, SameSite=Strict) carries the message, so URLs stay clean and a
reload does not show it again.
"""

from __future__ import annotations

import base64
from typing import Any, Literal

import msgspec
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie

from api.dashboard.auth import COOKIE_PATH

FLASH_COOKIE = "shopqueue_flash"


class Flash(msgspec.Struct, frozen=True, kw_only=True):
    level: Literal["ok", "error"]
    text: str
    field: str | None = None  # the form field the error is about (e.g. one schedule's expression)
    value: str | None = None  # what was entered there, shown again beside the error


def flash_cookie(flash: Flash) -> Cookie:
    encoded = base64.urlsafe_b64encode(msgspec.json.encode(flash)).decode()
    return Cookie(key=FLASH_COOKIE, value=encoded, path=COOKIE_PATH, max_age=60, httponly=True, samesite="strict")


def read_flash(connection: ASGIConnection[Any, Any, Any, Any]) -> Flash | None:
    raw = connection.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    try:
        return msgspec.json.decode(base64.urlsafe_b64decode(raw.encode()), type=Flash)
    except (ValueError, msgspec.DecodeError):  # binascii.Error is a ValueError
        return None
