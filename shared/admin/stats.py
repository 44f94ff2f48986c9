"""Queue statistics: the course's `/admin/queue/stats` shape plus rates, pauses and live workers."""

from __future__ import annotations

from datetime import datetime

from shared.admin.common import View
from shared.clock import to_api
from shared.db import Tx
from shared.queue import queries


class QueueTotals(View):
    pending: int  # due now
    scheduled: int  # pending, but due later
    processing: int
    completed_last_hour: int
    failed: int
    cancelled: int
    oldest_pending: str | None  # when the longest-waiting due job became due


class DeadLetterTotals(View):
    unreviewed: int


class TypeStatusCount(View):
    type: str
    status: str  # a job status, or `scheduled` (pending, due later)
    count: int


class Rates(View):
    processed_per_minute: float
    failed_per_minute: float  # failed attempts


class RunningJob(View):
    job_id: str
    type: str


class WorkerView(View):
    id: str
    hostname: str
    pid: int
    status: str
    concurrency: int
    started_at: str
    last_seen_at: str
    running: list[RunningJob]


class QueueStatsView(View):
    queue: QueueTotals
    dead_letter_queue: DeadLetterTotals
    by_type: list[TypeStatusCount]
    rates: Rates
    paused_types: list[str]
    workers: list[WorkerView]  # live ones: beaten within three heartbeats


class MinuteView(View):
    minute: str
    completed: int
    failed: int  # failed attempts


class ThroughputView(View):
    minutes: list[MinuteView]  # oldest first, one per minute, the current minute last


def queue_stats(tx: Tx, now: datetime, heartbeat_seconds: float) -> QueueStatsView:
    stats = queries.queue_stats(tx, now, heartbeat_seconds)
    return QueueStatsView(
        queue=QueueTotals(
            pending=stats.pending,
            scheduled=stats.scheduled,
            processing=stats.processing,
            completed_last_hour=stats.completed_last_hour,
            failed=stats.failed,
            cancelled=stats.cancelled,
            oldest_pending=to_api(stats.oldest_pending),
        ),
        dead_letter_queue=DeadLetterTotals(unreviewed=stats.dead_letter_unreviewed),
        by_type=[TypeStatusCount(type=t, status=s, count=n) for t, s, n in stats.by_type],
        rates=Rates(processed_per_minute=stats.processed_per_minute, failed_per_minute=stats.failed_per_minute),
        paused_types=stats.paused_types,
        workers=[_worker(live) for live in stats.workers],
    )


def _worker(live: queries.LiveWorker) -> WorkerView:
    worker = live.worker
    return WorkerView(
        id=worker.id,
        hostname=worker.hostname,
        pid=worker.pid,
        status=worker.status,
        concurrency=worker.concurrency,
        started_at=to_api(worker.started_at) or "",
        last_seen_at=to_api(worker.last_seen_at) or "",
        running=[RunningJob(job_id=job_id, type=job_type) for job_id, job_type in live.running],
    )


def throughput(tx: Tx, now: datetime, minutes: int) -> ThroughputView:
    return ThroughputView(
        minutes=[
            MinuteView(minute=to_api(minute) or "", completed=completed, failed=failed)
            for minute, completed, failed in queries.throughput(tx, now, minutes)
        ]
    )
