"""What one soak run does: how many orders, how fast, which faults how often, and the settings the
API and the workers run with."""

from __future__ import annotations

from dataclasses import dataclass

# The shop's products (seeded by a migration); an order takes one to three of them.
PRODUCTS = ("prod-1", "prod-2", "prod-3")
# The steps of an order that run at once; the follow-up email waits a day and stays pending.
STEPS = ("send_order_confirmation", "generate_invoice", "sync_inventory")
FOLLOWUP = "send_followup_email"


def order_lines(n: int) -> list[dict[str, object]]:
    """Order n's items: one, two or three products, quantities 1 or 2."""
    return [{"productId": PRODUCTS[(n + k) % 3], "quantity": 1 + (n + k) % 2} for k in range(n % 3 + 1)]


@dataclass(frozen=True)
class SoakPlan:
    orders: int = 300
    workers: int = 4
    clients: int = 8  # threads placing orders
    order_rate: float = 10.0  # orders offered per second, over all clients
    failure_rate: float = 0.3  # SIMULATED_FAILURE_RATE: every provider call
    latency_scale: float = 0.1  # SIMULATED_LATENCY_SCALE: email 50 ms, PDF 200 ms, warehouse 30 ms a call
    # A worker is stopped every kill_every seconds (uniform in the range): SIGKILL, or SIGTERM for
    # term_share of them (a third of those with a second SIGTERM while it drains), then restarted.
    kill_every: tuple[float, float] = (2.0, 4.0)
    term_share: float = 0.3
    # An outside process holds BEGIN EXCLUSIVE every lock_every seconds, for each of lock_seconds in
    # turn: some shorter than BUSY_TIMEOUT_MS (every writer must just wait), some longer (the API may
    # answer 503, the workers retry).
    lock_every: tuple[float, float] = (6.0, 10.0)
    lock_seconds: tuple[float, ...] = (6.5, 2.0)
    # The disk is filled to ENOSPC every disk_full_every seconds, for disk_full_seconds.
    disk_full_every: tuple[float, float] = (10.0, 16.0)
    disk_full_seconds: float = 2.0
    disk_mb: int = 0  # size of the tmpfs; 0: enough for the orders (see disk_size_mb)
    # Settings of the processes.
    busy_timeout_ms: int = 5000
    heartbeat_seconds: float = 3.0  # three missed beats (9 s) outlast the longest lock hold
    lease_seconds: float = 20.0
    shutdown_grace_seconds: float = 2.0
    retry_base_seconds: float = 0.5
    retry_max_seconds: float = 4.0
    # Clients: every replay_every-th order is posted again with its key once created, every
    # race_every-th twice at the same time.
    replay_every: int = 10
    race_every: int = 25
    request_timeout: float = 30.0
    give_up_after: float = 120.0  # a client without its 201 after this long reports it and moves on
    drain_timeout: float = 300.0  # after the last order, for every pipeline to settle
    seed: int = 1

    def disk_size_mb(self) -> int:
        """Room for the database, its WAL and an invoice (one 4 KB page) per order, with margin."""
        return self.disk_mb or 48 + (self.orders * 24) // 1024

    def process_env(self) -> dict[str, str]:
        """Settings of the API and the workers beyond the database (see shared/config.py)."""
        return {
            "SIMULATED_FAILURE_RATE": str(self.failure_rate),
            "SIMULATED_LATENCY_SCALE": str(self.latency_scale),
            "BUSY_TIMEOUT_MS": str(self.busy_timeout_ms),
            "HEARTBEAT_SECONDS": str(self.heartbeat_seconds),
            "LEASE_SECONDS": str(self.lease_seconds),
            "SHUTDOWN_GRACE_SECONDS": str(self.shutdown_grace_seconds),
            "RETRY_BASE_SECONDS": str(self.retry_base_seconds),
            "RETRY_MAX_SECONDS": str(self.retry_max_seconds),
            "LOG_LEVEL": "INFO",
        }
