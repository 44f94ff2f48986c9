"""What every command shares, made on first use: settings, the database, the job types; and the one
place where refusals and database errors become a message on stderr and an exit code."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import click

from shared.config import ConfigError, Settings, load_settings
from shared.db import Database, Tx
from shared.errors import InputError
from shared.queue.cron import ScheduleNotFoundError
from shared.queue.errors import NotFoundError, StateConflictError
from shared.queue.loading import load_job_types
from shared.queue.registry import JobTypes
from shared.shop.errors import NotFoundError as ShopNotFoundError

T = TypeVar("T")
USAGE = 2  # the command line or its input is wrong (click's own code for usage errors)
FAILED = 1  # anything else: not found, not allowed in the job's state, database unreachable
# Refusals that are not about the input: the input was fine, the thing is missing or busy.
NOT_INPUT_ERRORS = (NotFoundError, ScheduleNotFoundError, ShopNotFoundError, StateConflictError)


class CommandError(click.ClickException):
    """Printed as `Error: <message>` on stderr; the process exits with 1."""

    exit_code = FAILED


class InvalidInputError(CommandError):
    """The input was refused (a payload, an expression, a cursor): exit 2, like a usage error."""

    exit_code = USAGE


class Operator:
    def __init__(self, settings: Settings | None = None) -> None:
        self._settings = settings
        self._db: Database | None = None
        self._job_types: JobTypes | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = load_settings()
            except ConfigError as exc:
                raise CommandError(f"configuration error: {exc}") from exc
        return self._settings

    @property
    def db(self) -> Database:
        if self._db is None:
            self._db = Database(self.settings.database_url, busy_timeout_ms=self.settings.busy_timeout_ms)
        return self._db

    @property
    def job_types(self) -> JobTypes:
        """The types of JOB_MODULES, as the API and the workers load them."""
        if self._job_types is None:
            self._job_types = load_job_types(self.settings.job_module_list())
        return self._job_types

    def read(self, fn: Callable[[Tx], T]) -> T:
        with self._translated(), self.db.read() as tx:
            return fn(tx)

    def write(self, fn: Callable[[Tx], T]) -> T:
        """One short write transaction: all of `fn` commits, or nothing when it refuses."""
        with self._translated(), self.db.write() as tx:
            return fn(tx)

    def close(self) -> None:
        if self._db is not None:
            self._db.dispose()

    @contextmanager
    def _translated(self) -> Iterator[None]:
        """A refusal or a driver error raised in a transaction becomes a CommandError."""
        try:
            yield
        except InputError as exc:
            raise (CommandError if isinstance(exc, NOT_INPUT_ERRORS) else InvalidInputError)(exc.message) from exc
        except self.db.backend.driver_errors as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise CommandError(
                f"database error: {reason} (is DATABASE_URL right, and the schema migrated by `alembic upgrade head`?)"
            ) from exc
