"""The body limit holds on the real server too, where a chunked body arrives in many receive events."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx

from shared.config import Settings
from shared.db import Database
from tests.api.helpers import LIMIT, oversized_order, shop_state
from tests.support.processes import running_api


def test_uvicorn_refuses_oversized_bodies_with_413(db: Database, settings: Settings, tmp_path: Path) -> None:
    body = oversized_order(LIMIT + 1)

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 1024):
            yield body[start : start + 1024]

    before = shop_state(db, settings)
    with running_api(settings, tmp_path) as api, httpx.Client(base_url=api.base_url, timeout=30) as client:
        announced = client.post("/orders", content=body, headers={"Content-Type": "application/json"})
        chunked = client.post("/orders", content=chunks(), headers={"Content-Type": "application/json"})

    for response in (announced, chunked):
        assert response.status_code == 413, response.text
        assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert "content-length" not in chunked.request.headers
    assert shop_state(db, settings) == before
