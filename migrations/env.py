"""Alembic environment: our engine factory, foreign keys off, batch mode, one IMMEDIATE transaction."""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from alembic.operations import MigrationScript
from alembic.runtime.migration import MigrationContext

from shared.config import load_settings
from shared.db.metadata import load_metadata
from shared.logging import configure_logging
from shared.queue.backends import backend_for

config = context.config
_settings = load_settings()
if _settings.log_format == "json":  # the bundle's format: one JSON object per line, like the api and workers
    configure_logging(_settings.log_level, "json")
elif config.config_file_name is not None:  # log "Running upgrade ..." lines, as alembic.ini says
    fileConfig(config.config_file_name, disable_existing_loggers=False)
target_metadata = load_metadata()


def _skip_empty(context_: MigrationContext, revision: object, directives: list[MigrationScript]) -> None:
    """Don't write an empty revision when autogenerate finds nothing."""
    if config.cmd_opts is not None and getattr(config.cmd_opts, "autogenerate", False):
        script = directives[0]
        if script.upgrade_ops is not None and script.upgrade_ops.is_empty():
            directives[:] = []


def run_migrations_offline() -> None:
    context.configure(
        url=_settings.database_url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    settings = _settings
    # Batch mode copies and renames tables; with foreign keys enforced that can cascade-delete
    # child rows. They stay off here and foreign_key_check runs before the commit instead.
    backend = backend_for(settings.database_url, busy_timeout_ms=settings.busy_timeout_ms)
    engine = backend.create_engine(foreign_keys=False)
    try:
        with engine.connect() as raw_connection:
            connection = raw_connection.execution_options(**backend.migration_options)
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=True,
                compare_type=True,
                process_revision_directives=_skip_empty,
                transactional_ddl=True,  # both engines roll DDL back (SQLite once the driver stops meddling)
                transaction_per_migration=False,
            )
            with context.begin_transaction():
                context.run_migrations()
                backend.check_after_migration(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
