"""The admin API (design.md §3): every route behind `admin_guard` (api/security.py)."""

from __future__ import annotations

from litestar import Controller

ADMIN_CONTROLLERS: list[type[Controller]] = []
