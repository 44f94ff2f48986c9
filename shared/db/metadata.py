"""Import every model module so Base.metadata is complete (Alembic and tests use this)."""

from __future__ import annotations

from sqlalchemy import MetaData

import shared.queue.models
import shared.services.models
import shared.shop.models  # noqa: F401 - imported for their table definitions
from shared.db.base import Base


def load_metadata() -> MetaData:
    return Base.metadata
