"""The simulated email, PDF, warehouse and card services, as the shop calls them.

Each call waits the service's (scaled) latency, may fail before doing anything, records what it
received under the caller's idempotency key (a repeated key is deduplicated, as real providers
do), and may then fail anyway: the reply was lost after delivery. Waits are awaited, never a
thread held for their duration.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from shared.clock import Clock
from shared.db import Database
from shared.services.simulation import (
    EMAIL,
    INVENTORY,
    PAYMENT,
    PDF,
    Failure,
    ServiceError,
    ServiceProfile,
    Simulator,
)
from shared.services.store import ensure_schema, record_delivery

DECLINED_TOKEN = "tok_declined"  # noqa: S105 - a test card token, not a secret


class CardDeclinedError(Exception):
    """The card was refused; the order must not be saved."""


class Providers:
    def __init__(self, db: Database, simulator: Simulator, clock: Clock) -> None:
        self.db = db
        self._simulator = simulator
        self._clock = clock
        self._ready = False

    async def _call(
        self,
        profile: ServiceProfile,
        *,
        key: str,
        job_id: str | None,
        payload: dict[str, Any],
        effect: Callable[[], None] | None = None,
    ) -> None:
        delay = self._simulator.delay(profile)
        if delay > 0:
            await asyncio.sleep(delay)
        failure = self._simulator.failure(profile)
        if failure is Failure.BEFORE_DELIVERY:
            raise ServiceError(profile.unavailable_message)
        if effect is not None:
            await asyncio.to_thread(effect)
        await self._record(profile.name, key, job_id, payload)
        if failure is Failure.REPLY_LOST:
            raise ServiceError(f"{profile.name} service: connection reset after the request was sent")

    async def _record(self, provider: str, key: str, job_id: str | None, payload: dict[str, Any]) -> None:
        if not self._ready:  # the provider's own table, made on first use (it stands for a remote service)
            await asyncio.to_thread(ensure_schema, self.db)
            self._ready = True
        now = self._clock()
        await self.db.run_write(
            lambda tx: record_delivery(tx, provider=provider, key=key, payload=payload, now=now, job_id=job_id)
        )

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

    async def authorize_payment(self, *, key: str, token: str | None, amount: Decimal) -> None:
        """Wait the processor's latency, then refuse `tok_declined` (never at random) or record the
        authorisation under `key`."""
        delay = self._simulator.delay(PAYMENT)
        if delay > 0:
            await asyncio.sleep(delay)
        if token == DECLINED_TOKEN:
            raise CardDeclinedError(f"card declined for {amount:.2f}")
        await self._record(PAYMENT.name, key, None, {"amount": f"{amount:.2f}", "token": token})

    async def void_payment(self, *, key: str, authorization: str) -> None:
        """Release an authorisation whose order was refused after all (stock ran out meanwhile)."""
        await self._record(PAYMENT.name, key, None, {"voids": authorization})
