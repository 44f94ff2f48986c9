"""`python -m worker`: run one worker process until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import sys

from shared.clock import utcnow
from shared.config import ConfigError, load_settings
from shared.db import Database
from shared.jobs import JOBS
from shared.jobs.handlers import JobDeps, ShopHandlers
from shared.logging import configure_logging, get_logger
from shared.services.providers import Providers
from shared.services.simulation import Simulator
from worker.runner import Worker


def main() -> int:
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"worker: configuration error: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    configure_logging(settings.log_level, settings.log_format)
    db = Database.from_url(settings.database_url, busy_timeout_ms=settings.busy_timeout_ms)
    providers = Providers(db, Simulator(settings), utcnow)
    handlers = ShopHandlers(JobDeps(db, providers, utcnow, settings.resolved_data_dir())).table()
    try:
        return asyncio.run(Worker(settings, db, JOBS, handlers).run())
    except Exception:
        get_logger("worker").exception("worker.crashed")
        return 1
    finally:
        db.dispose()


if __name__ == "__main__":
    sys.exit(main())
