"""Fixtures shared by every test: a real database migrated by Alembic, per test."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.config import Settings
from shared.db import Database
from tests.support.postgres import PostgresServer, postgres_server
from tests.support.processes import run_alembic

BACKENDS = ("sqlite", "postgres")


# The migrated template's bytes, kept for the process: mutation testing (scripts/mutation.sh) forks
# one pytest session per mutant, which would otherwise run Alembic again for each.
_TEMPLATE: list[bytes] = []


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One database upgraded to head by the real `alembic upgrade head`, copied by each test."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    if _TEMPLATE:
        path.write_bytes(_TEMPLATE[0])
        return path
    run_alembic(f"sqlite:///{path}", "upgrade", "head")
    with sqlite3.connect(path) as conn:  # fold the WAL into the main file so a copy is complete
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    _TEMPLATE.append(path.read_bytes())
    return path


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    with postgres_server() as server:
        yield server


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh migrated database for this test."""
    if backend == "sqlite":
        path = tmp_path / "shop.db"
        shutil.copy(request.getfixturevalue("migrated_template"), path)
        yield f"sqlite:///{path}"
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    name = server.fresh_database()
    yield server.url(name)
    server.drop(name)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=str(tmp_path / "data"),
        simulated_latency_scale=0,
        log_format="console",
    )


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = Database(settings.database_url)
    yield database
    database.dispose()


@pytest.fixture
def providers_db(settings: Settings) -> Iterator[Database]:
    """Where the simulated providers record deliveries (their own database, made on first use)."""
    from shared.services.store import ensure_schema  # noqa: PLC0415 - only the tests that ask need it

    database = Database(settings.resolved_providers_url())
    ensure_schema(database)
    yield database
    database.dispose()
