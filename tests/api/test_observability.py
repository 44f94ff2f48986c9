"""Request ids, structured access lines, a graceful exit code, and JSON logs from the migration."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
from litestar import Litestar
from litestar.testing import TestClient

from shared.config import Settings
from shared.db import Database
from tests.support.processes import ROOT, running_api
from tests.support.queue import query


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_every_response_carries_a_request_id_which_the_orders_jobs_keep(
    client: TestClient[Litestar], db: Database
) -> None:
    generated = client.get("/products").headers["x-request-id"]
    assert len(generated) == 32
    assert client.get("/products").headers["x-request-id"] != generated
    assert client.get("/products", headers={"X-Request-ID": "trace-42"}).headers["x-request-id"] == "trace-42"
    assert client.get("/products", headers={"X-Request-ID": "no spaces\tallowed"}).headers["x-request-id"] != (
        "no spaces\tallowed"
    )
    placed = client.post(
        "/orders",
        json={"userId": "u1", "items": [{"productId": "prod-1", "quantity": 1}]},
        headers={"X-Request-ID": "checkout-7"},
    )
    assert placed.headers["x-request-id"] == "checkout-7"
    assert client.get("/nowhere").headers["x-request-id"]  # errors too
    assert query(db, "SELECT DISTINCT request_id FROM jobs") == [("checkout-7",)]


def test_the_served_api_logs_one_structured_line_per_request_and_exits_0_on_sigterm(
    settings: Settings, tmp_path: Path
) -> None:
    with running_api(settings, tmp_path, LOG_LEVEL="INFO") as api:
        for _ in range(3):
            httpx.get(api.base_url + "/health")
        httpx.get(api.base_url + "/products/prod-2", headers={"X-Request-ID": "look-1"})
        api.signal(signal.SIGTERM)
        assert api.wait(30) == 0  # a graceful stop is not a failure (compose stop used to leave 143)
        lines = json_lines(api.log())
    requests = [line for line in lines if line.get("event") == "http.request"]
    assert [(r["method"], r["path"], r["status"], r["request_id"]) for r in requests] == [
        ("GET", "/products/prod-2", 200, "look-1")
    ]  # the health probes are DEBUG lines, not noise at INFO
    assert isinstance(requests[0]["duration_ms"], float)
    assert not [line for line in lines if "uvicorn.access" in str(line.get("logger"))]


def test_migrate_logs_json_under_log_format_json(tmp_path: Path) -> None:
    env = {key: os.environ[key] for key in ("PATH", "HOME") if key in os.environ}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path}/fresh.db", LOG_FORMAT="json")
    result = subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines
    assert all(line.startswith("{") for line in lines), lines[:3]
    assert any("Running upgrade" in json.loads(line)["event"] for line in lines)
