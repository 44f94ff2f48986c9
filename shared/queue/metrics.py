"""Job metrics that stay right across containers: every worker adds its counts to `queue_counters`
(monotonic totals and histogram buckets, flushed about once a second), and the API reads them,
with the queue's current state, at scrape time. No figure lives in one process's memory."""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.db.tx import Tx
from shared.queue.policy import live_since

DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
WAIT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)
HISTOGRAMS = {"job_duration_seconds": DURATION_BUCKETS, "job_wait_seconds": WAIT_BUCKETS}
COUNTERS = (
    "jobs_completed",
    "jobs_failed",
    "jobs_retried",
    "jobs_dead_lettered",
    "jobs_rescued",
    "jobs_cancelled",
)
ADD = (
    "INSERT INTO queue_counters (name, type, le, value) VALUES (:name, :type, :le, :value) "
    "ON CONFLICT (name, type, le) DO UPDATE SET value = queue_counters.value + excluded.value"
)
SUM, COUNT = "sum", "count"  # the `le` of a histogram's sum and count rows


class MetricsBuffer:
    """What one worker counted since its last flush (the event loop's thread only)."""

    def __init__(self) -> None:
        self._values: defaultdict[tuple[str, str, str], float] = defaultdict(float)

    def count(self, name: str, job_type: str, amount: float = 1) -> None:
        self._values[(name, job_type, "")] += amount

    def observe(self, name: str, job_type: str, seconds: float) -> None:
        bounds = HISTOGRAMS[name]
        index = bisect.bisect_left(bounds, seconds)
        self._values[(name, job_type, str(bounds[index]) if index < len(bounds) else "+Inf")] += 1
        self._values[(name, job_type, SUM)] += seconds
        self._values[(name, job_type, COUNT)] += 1

    def take(self) -> list[dict[str, Any]]:
        rows = [{"name": n, "type": t, "le": le, "value": v} for (n, t, le), v in self._values.items()]
        self._values.clear()
        return rows

    def put_back(self, rows: list[dict[str, Any]]) -> None:
        """A flush failed: keep its counts for the next one."""
        for row in rows:
            self._values[(row["name"], row["type"], row["le"])] += row["value"]


def flush(tx: Tx, rows: list[dict[str, Any]]) -> None:
    tx.executemany(ADD, rows)


@dataclass(frozen=True)
class Histogram:
    buckets: list[tuple[str, float]]  # (upper bound, cumulative count), ending with +Inf
    sum: float
    count: float


@dataclass(frozen=True)
class Snapshot:
    """Everything /metrics exposes, read in one transaction."""

    counters: dict[str, dict[str, float]]  # name -> type -> total
    histograms: dict[str, dict[str, Histogram]]  # name -> type -> histogram
    depth: list[tuple[str, str, int]]  # (type, state incl. 'scheduled', jobs)
    oldest_pending_age: float  # seconds the longest-waiting due job has waited; 0 when none
    dead_letters: dict[bool, int]  # reviewed? -> entries
    workers_alive: int
    paused: list[str]


def snapshot(tx: Tx, now: datetime, heartbeat_seconds: float) -> Snapshot:
    counters: dict[str, dict[str, float]] = {name: {} for name in COUNTERS}
    raw: dict[str, dict[str, dict[str, float]]] = {name: {} for name in HISTOGRAMS}
    for name, job_type, le, value in tx.all("SELECT name, type, le, value FROM queue_counters"):
        if name in counters:
            counters[name][job_type] = float(value)
        elif name in raw:
            raw[name].setdefault(job_type, {})[le] = float(value)
    histograms = {
        name: {t: _histogram(HISTOGRAMS[name], v) for t, v in per_type.items()} for name, per_type in raw.items()
    }
    stamp = tx.ts(now)
    depth = [
        (job_type, state, int(count))
        for job_type, state, count in tx.all(
            "SELECT type, CASE WHEN status = 'pending' AND scheduled_at > :now THEN 'scheduled' ELSE status END "
            "AS state, COUNT(*) FROM jobs GROUP BY type, state ORDER BY type, state",
            {"now": stamp},
        )
    ]
    oldest = tx.scalar(
        "SELECT MIN(scheduled_at) FROM jobs WHERE status = 'pending' AND scheduled_at <= :now", {"now": stamp}
    )
    dead = {
        bool(reviewed): int(n)
        for reviewed, n in tx.all("SELECT reviewed, COUNT(*) FROM dead_letter_jobs GROUP BY reviewed")
    }
    alive = tx.scalar(
        "SELECT COUNT(*) FROM workers WHERE status != 'stopped' AND last_seen_at >= :since",
        {"since": tx.ts(live_since(now, heartbeat_seconds))},
    )
    return Snapshot(
        counters=counters,
        histograms=histograms,
        depth=depth,
        oldest_pending_age=0.0 if oldest is None else max(0.0, (now - tx.dt(oldest)).total_seconds()),
        dead_letters={False: dead.get(False, 0), True: dead.get(True, 0)},
        workers_alive=int(alive),
        paused=[row[0] for row in tx.all("SELECT type FROM queue_pauses ORDER BY type")],
    )


def _histogram(bounds: tuple[float, ...], values: dict[str, float]) -> Histogram:
    cumulative, buckets = 0.0, []
    for bound in [*(str(b) for b in bounds), "+Inf"]:
        cumulative += values.get(bound, 0.0)
        buckets.append((bound, cumulative))
    return Histogram(buckets, values.get(SUM, 0.0), values.get(COUNT, 0.0))
