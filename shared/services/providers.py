"""The simulated email, PDF and warehouse services, as the worker calls them.

Each call waits the service's (scaled) latency, may fail before doing anything, records what it
received under the caller's idempotency key (a repeated key is deduplicated, as real providers
do), and may then fail anyway: the reply was lost after delivery.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from shared.clock import Clock
from shared.db import Database
from shared.services.deliveries import record_delivery
from shared.services.simulation import EMAIL, INVENTORY, PDF, Failure, ServiceError, ServiceProfile, Simulator


class Providers:
    def __init__(self, db: Database, simulator: Simulator, clock: Clock) -> None:
        self._db = db
        self._simulator = simulator
        self._clock = clock

    async def _call(
        self,
        profile: ServiceProfile,
        *,
        key: str,
        job_id: str,
        payload: dict[str, Any],
        effect: Callable[[], None] | None = None,
    ) -> None:
        await asyncio.sleep(self._simulator.delay(profile))
        failure = self._simulator.failure(profile)
        if failure is Failure.BEFORE_DELIVERY:
            raise ServiceError(profile.unavailable_message)
        if effect is not None:
            await asyncio.to_thread(effect)
        await asyncio.to_thread(self._record, profile.name, key, job_id, payload)
        if failure is Failure.REPLY_LOST:
            raise ServiceError(f"{profile.name} service: connection reset after the request was sent")

    def _record(self, provider: str, key: str, job_id: str, payload: dict[str, Any]) -> None:
        with self._db.write_conn() as connection:
            record_delivery(connection, provider=provider, key=key, payload=payload, now=self._clock(), job_id=job_id)

    async def send_email(self, *, key: str, job_id: str, to: str, subject: str, body: str) -> None:
        await self._call(EMAIL, key=key, job_id=job_id, payload={"to": to, "subject": subject, "body": body})

    async def render_pdf(self, *, key: str, job_id: str, path: Path, content: bytes) -> None:
        """Write the document atomically (temp file + rename): readers never see half a PDF."""

        def write() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(content)
                os.chmod(tmp, 0o644)  # mkstemp makes it private; the API must be able to serve it
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise

        await self._call(PDF, key=key, job_id=job_id, payload={"path": path.name, "bytes": len(content)}, effect=write)

    async def sync_stock(self, *, key: str, job_id: str, product_id: str, quantity: int) -> None:
        await self._call(INVENTORY, key=key, job_id=job_id, payload={"productId": product_id, "quantity": -quantity})
