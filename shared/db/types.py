"""Column types and defaults that each engine spells its own way (the backend says how).

Timestamps are UTC: TEXT in SQLite's own format there (the seed's), `timestamptz` on engines that
have one. Money is the seed's REAL on SQLite; code converts it to Decimal at one boundary
(`shared.money`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import DDLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import Integer, Text, TypeDecorator, TypeEngine

from shared.queue.backends import BACKENDS


class UtcText(TypeDecorator[Any]):
    """A UTC timestamp column, in the engine's native form. Code reads and writes it through `Tx`;
    these conversions serve SQLAlchemy-level writers (data migrations)."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        return dialect.type_descriptor(BACKENDS[dialect.name].timestamp_type())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        return None if value is None else BACKENDS[dialect.name].to_db(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return None if value is None else BACKENDS[dialect.name].from_db(value)


class Money(TypeDecorator[Any]):
    """An amount of money: REAL on SQLite (the seed's columns), exact where the engine allows."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        return dialect.type_descriptor(BACKENDS[dialect.name].money_type())


class JobNumber(TypeDecorator[Any]):
    """The enqueue order `seq`: INTEGER on SQLite (numbered in the write lock), BIGINT on engines that
    number with a sequence."""

    impl = Integer
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        return dialect.type_descriptor(BACKENDS[dialect.name].sequence_type())


class utc_now(FunctionElement[Any]):  # noqa: N801 - used like a SQL function: server_default=utc_now()
    """The current UTC time as a column default, in the engine's timestamp format."""

    inherit_cache = True


@compiles(utc_now)
def _compile_utc_now(element: utc_now, compiler: DDLCompiler, **kw: Any) -> str:
    return BACKENDS[compiler.dialect.name].now_default
