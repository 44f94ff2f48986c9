"""Database access shared by the API, the worker and Alembic."""

from shared.db.database import Database
from shared.db.tx import Tx

__all__ = ["Database", "Tx"]
