"""Import every table module so the MetaData is complete (Alembic and tests use this)."""

from __future__ import annotations

from sqlalchemy import MetaData

import shared.queue.tables
import shared.shop.tables  # noqa: F401 - imported for their table definitions
from shared.db.base import metadata


def load_metadata() -> MetaData:
    return metadata
