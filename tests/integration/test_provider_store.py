"""The simulated providers' own store: made on first use by whichever processes start first."""

from __future__ import annotations

import threading

from shared.db import Database
from shared.services.store import ensure_schema


def test_processes_starting_together_all_make_the_schema_without_an_error(database_url: str) -> None:
    """Workers start at once and each makes the table on first use; on PostgreSQL two concurrent
    `CREATE TABLE IF NOT EXISTS` collide on the catalog unless they take turns."""
    databases = [Database(database_url) for _ in range(8)]
    try:
        for _ in range(5):
            with databases[0].write() as tx:
                tx.execute("DROP TABLE IF EXISTS provider_deliveries")
            start = threading.Barrier(len(databases))
            errors: list[BaseException] = []

            def make(db: Database, start: threading.Barrier = start, errors: list[BaseException] = errors) -> None:
                start.wait()
                try:
                    ensure_schema(db)
                except Exception as error:
                    errors.append(error)

            threads = [threading.Thread(target=make, args=(db,)) for db in databases]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(30)
            assert errors == []
            with databases[0].read() as tx:
                assert tx.scalar("SELECT COUNT(*) FROM provider_deliveries") == 0
    finally:
        for db in databases:
            db.dispose()
