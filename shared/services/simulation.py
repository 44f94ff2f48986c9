"""Delays and failure rates of the simulated services, scaled by settings.

A failure happens either before the service did anything, or after it delivered and the reply
was lost: the second kind is exactly when a naive queue sends twice.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import Enum

from shared.config import Settings


@dataclass(frozen=True)
class ServiceProfile:
    name: str
    delay_seconds: float
    failure_rate: float
    unavailable_message: str


EMAIL = ServiceProfile("email", 0.5, 0.10, "Email service unavailable")
PDF = ServiceProfile("pdf", 2.0, 0.05, "PDF generation failed")
INVENTORY = ServiceProfile("inventory", 0.3, 0.0, "Inventory service unavailable")
PAYMENT = ServiceProfile("payment", 0.2, 0.0, "Payment service unavailable")


class Failure(Enum):
    BEFORE_DELIVERY = "before"
    REPLY_LOST = "after"


class ServiceError(RuntimeError):
    """A simulated service call failed; the job should be retried."""


class Simulator:
    """Decides each call's delay and fate. `rng` is injectable so tests can be deterministic."""

    def __init__(self, settings: Settings, rng: random.Random | None = None) -> None:
        self._scale = settings.simulated_latency_scale
        self._failure_override = settings.simulated_failure_rate
        self._rng = rng or random.Random()  # noqa: S311 - simulation, not security

    def delay(self, profile: ServiceProfile) -> float:
        return profile.delay_seconds * self._scale

    def failure(self, profile: ServiceProfile) -> Failure | None:
        rate = profile.failure_rate if self._failure_override is None else self._failure_override
        if rate <= 0 or self._rng.random() >= rate:
            return None
        return Failure.BEFORE_DELIVERY if self._rng.random() < 0.5 else Failure.REPLY_LOST
