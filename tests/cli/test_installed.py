"""The installed `shopqueue` console script, as `docker compose exec api shopqueue ...` runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from shared.config import Settings
from shared.db import Database
from tests.support.operator import add_job
from tests.support.processes import ROOT, child_env

SCRIPT = Path(sys.executable).with_name("shopqueue")


def run(settings: Settings, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args],
        cwd=ROOT,
        env=child_env(settings, **env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_stats_json_from_the_installed_script(settings: Settings, db: Database) -> None:
    add_job(db)
    add_job(db, delay=600)

    done = run(settings, "stats", "--json")

    assert done.returncode == 0, done.stderr
    stats = json.loads(done.stdout)
    assert (stats["queue"]["pending"], stats["queue"]["scheduled"]) == (1, 1)
    assert stats["byType"] == [
        {"type": "send_email", "status": "pending", "count": 1},
        {"type": "send_email", "status": "scheduled", "count": 1},
    ]


def test_logs_stay_off_stdout(settings: Settings) -> None:
    first = run(settings, "schedules", "run", "daily_sales_report", "--json")
    second = run(settings, "schedules", "run", "daily_sales_report", "--json")  # skipped: logs a warning

    assert (first.returncode, second.returncode) == (0, 0), first.stderr + second.stderr
    assert json.loads(first.stdout)["outcome"] == "manual"
    assert json.loads(second.stdout)["outcome"] == "skipped"
    assert "cron.skipped" in second.stderr


def test_a_database_without_the_schema_is_a_clear_error(settings: Settings, tmp_path: Path) -> None:
    done = run(settings, "stats", DATABASE_URL=f"sqlite:///{tmp_path / 'empty.db'}")

    assert done.returncode == 1
    assert done.stdout == ""
    assert "database error: no such table: jobs" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_bad_setting_is_a_clear_error(settings: Settings) -> None:
    done = run(settings, "stats", PORT="eighty")

    assert done.returncode == 1
    assert "configuration error" in done.stderr
    assert "PORT" in done.stderr
