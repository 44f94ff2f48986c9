"""GET /metrics: Prometheus text. HTTP metrics come from Litestar's Prometheus plugin; the queue's
come from the database at scrape time (`shared.queue.metrics`), so they are right whichever
container ran the jobs."""

from __future__ import annotations

from collections.abc import Iterator

from litestar import Response, get
from litestar.di import NamedDependency
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from shared.clock import utcnow
from shared.config import Settings
from shared.db import Database
from shared.queue import metrics
from shared.queue.metrics import Snapshot

NAMESPACE = "shopqueue"
COUNTER_HELP = {
    "jobs_completed": "Jobs that completed",
    "jobs_failed": "Job attempts that failed (an exception or a timeout)",
    "jobs_retried": "Failed attempts scheduled for a retry",
    "jobs_dead_lettered": "Jobs moved to the dead-letter queue",
    "jobs_rescued": "Jobs taken back from a worker that died or stalled",
    "jobs_cancelled": "Running or waiting jobs cancelled on request",
}
HISTOGRAM_HELP = {
    "job_duration_seconds": "Time one run of a job took",
    "job_wait_seconds": "Time from a job being due (scheduled_at) to its start",
}

# HTTP request metrics per route template (not per raw path: order ids would explode the series).
PROMETHEUS = PrometheusConfig(app_name=NAMESPACE, prefix=NAMESPACE, group_path=True, exclude=["^/metrics$"])


class _Snapshot(Collector):
    def __init__(self, snap: Snapshot) -> None:
        self._snap = snap

    def collect(self) -> Iterator[Metric]:
        snap = self._snap
        for name, per_type in snap.counters.items():
            family = CounterMetricFamily(f"{NAMESPACE}_{name}", COUNTER_HELP[name], labels=["type"])
            for job_type, value in sorted(per_type.items()):
                family.add_metric([job_type], value)
            yield family
        for name, per_type_hist in snap.histograms.items():
            histogram = HistogramMetricFamily(f"{NAMESPACE}_{name}", HISTOGRAM_HELP[name], labels=["type"])
            for job_type, hist in sorted(per_type_hist.items()):
                histogram.add_metric([job_type], buckets=hist.buckets, sum_value=hist.sum)
            yield histogram
        depth = GaugeMetricFamily(
            f"{NAMESPACE}_queue_jobs",
            "Jobs by type and state (scheduled: pending, due later)",
            labels=["type", "state"],
        )
        for job_type, state, count in snap.depth:
            depth.add_metric([job_type, state], count)
        yield depth
        yield GaugeMetricFamily(
            f"{NAMESPACE}_queue_oldest_pending_age_seconds",
            "How long the longest-waiting due job has waited",
            value=snap.oldest_pending_age,
        )
        dead = GaugeMetricFamily(f"{NAMESPACE}_dead_letter_jobs", "Dead-letter entries", labels=["reviewed"])
        for reviewed, count in snap.dead_letters.items():
            dead.add_metric(["true" if reviewed else "false"], count)
        yield dead
        yield GaugeMetricFamily(
            f"{NAMESPACE}_workers_alive", "Workers that beat within three heartbeats", value=snap.workers_alive
        )
        paused = GaugeMetricFamily(f"{NAMESPACE}_queue_paused", "Job types paused by an operator", labels=["type"])
        for job_type in snap.paused:
            paused.add_metric([job_type], 1)
        yield paused


class MetricsController(PrometheusController):
    """The plugin's controller, with the queue's figures appended to the process's own."""

    include_in_schema = False

    @get()
    async def get(self, db: NamedDependency[Database], settings: NamedDependency[Settings]) -> Response[bytes]:
        now = utcnow()
        snap = await db.run_read(lambda tx: metrics.snapshot(tx, now, settings.heartbeat_seconds))
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_Snapshot(snap))
        body = generate_latest(REGISTRY) + generate_latest(registry)
        # Litestar adds the charset to text types itself.
        return Response(body, media_type=CONTENT_TYPE_LATEST.replace("; charset=utf-8", ""))
