"""The simulated card processor. Called synchronously from the request, outside any transaction."""

from __future__ import annotations

import time

from shared.services.simulation import PAYMENT, Simulator

DECLINED_TOKEN = "tok_declined"  # noqa: S105 - a test card token, not a secret


class CardDeclinedError(Exception):
    """The card was refused; the order must not be saved."""


def authorize(simulator: Simulator, token: str | None, amount: float) -> None:
    """Wait the processor's latency, then refuse `tok_declined`. Never fails at random.

    The capture is recorded (provider `payment`) inside the order's own transaction, so a
    refused or rolled-back order leaves no charge behind.
    """
    time.sleep(simulator.delay(PAYMENT))
    if token == DECLINED_TOKEN:
        raise CardDeclinedError(f"card declined for {amount:.2f}")
