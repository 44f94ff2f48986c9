"""Fixtures shared by every test: a real SQLite file migrated by Alembic, per test."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.config import Settings
from shared.db import Database
from tests.support.processes import run_alembic


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One database upgraded to head by the real `alembic upgrade head`, copied by each test."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    run_alembic(path, "upgrade", "head")
    with sqlite3.connect(path) as conn:  # fold the WAL into the main file so a copy is complete
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture
def db_path(migrated_template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "shop.db"
    shutil.copy(migrated_template, path)
    return path


@pytest.fixture
def settings(db_path: Path, tmp_path: Path) -> Settings:
    return Settings(
        database_url=f"sqlite:///{db_path}",
        data_dir=str(tmp_path / "data"),
        simulated_latency_scale=0,
        log_format="console",
    )


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = Database.from_url(settings.database_url)
    yield database
    database.dispose()
