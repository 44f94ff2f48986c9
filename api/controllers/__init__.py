"""Every controller the app registers, listed explicitly."""

from __future__ import annotations

from litestar import Controller

from api.controllers.health import HealthController
from api.controllers.orders import OrderController
from api.controllers.products import ProductController

CONTROLLERS: list[type[Controller]] = [HealthController, ProductController, OrderController]
