"""Database access shared by the API, the worker and Alembic."""

from shared.db.base import Base, UtcText
from shared.db.engine import Database, make_engine

__all__ = ["Base", "Database", "UtcText", "make_engine"]
