"""Import every model module so Base.metadata is complete (Alembic and tests use this)."""

from __future__ import annotations

from sqlalchemy import MetaData


def load_metadata() -> MetaData:
    import shared.queue.models
    import shared.services.models
    import shared.shop.models  # noqa: F401

    from shared.db.base import Base

    return Base.metadata
