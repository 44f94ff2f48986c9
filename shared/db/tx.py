"""`Tx`: one transaction on a driver connection, running portable SQL (`:name` parameters).

Statements go to the driver directly (sqlite3, later psycopg): no ORM objects, no statement
construction per call. The backend adapts parameter style and timestamps, so the same SQL text
runs on every engine. Rows are plain tuples.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shared.queue.backends import Backend

Params = Mapping[str, Any]
Row = tuple[Any, ...]


class Tx:
    __slots__ = ("_savepoints", "backend", "raw")

    def __init__(self, raw: Any, backend: Backend) -> None:
        self.raw = raw
        self.backend = backend
        self._savepoints = 0

    def execute(self, sql: str, params: Params | None = None) -> Any:
        """Run one statement; returns the driver's cursor (rowcount, fetch*)."""
        return self.raw.execute(self.backend.sql(sql), params or {})

    def executemany(self, sql: str, rows: Sequence[Params]) -> None:
        if rows:
            self.raw.cursor().executemany(self.backend.sql(sql), rows)

    def all(self, sql: str, params: Params | None = None) -> list[Row]:
        rows: list[Row] = self.execute(sql, params).fetchall()
        return rows

    def one(self, sql: str, params: Params | None = None) -> Row | None:
        row: Row | None = self.execute(sql, params).fetchone()
        return row

    def scalar(self, sql: str, params: Params | None = None) -> Any:
        row = self.one(sql, params)
        return None if row is None else row[0]

    def rowcount(self, sql: str, params: Params | None = None) -> int:
        """Run an UPDATE or DELETE; how many rows it changed."""
        count: int = self.execute(sql, params).rowcount
        return count

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A nested unit: on error only its own writes are undone, and the error propagates."""
        self._savepoints += 1
        name = f"sp{self._savepoints}"
        self.raw.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            self.raw.execute(f"ROLLBACK TO SAVEPOINT {name}")
            self.raw.execute(f"RELEASE SAVEPOINT {name}")
            raise
        self.raw.execute(f"RELEASE SAVEPOINT {name}")

    # ---- timestamps, in the engine's own format -----------------------------------------------

    def ts(self, moment: datetime) -> Any:
        return self.backend.to_db(moment)

    def ts_or_none(self, moment: datetime | None) -> Any:
        return None if moment is None else self.backend.to_db(moment)

    def dt(self, value: Any) -> datetime:
        return self.backend.from_db(value)

    def dt_or_none(self, value: Any) -> datetime | None:
        return None if value is None else self.backend.from_db(value)

    def money(self, amount: Decimal) -> Any:
        return self.backend.money_to_db(amount)

    def list_param(self, values: list[str]) -> Any:
        """A list of strings as one parameter; expand it with `SELECT value FROM {tx.list_table(name)}`."""
        return self.backend.list_param(values)

    def list_table(self, param: str) -> str:
        return self.backend.list_table(param)
