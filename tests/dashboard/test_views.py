"""The dashboard's view helpers on plain data: the chart's layout, durations, a job's timeline and an
order's pipeline as a tree."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from api.dashboard.chart import HEIGHT, TOP, nice_ceiling, throughput_chart
from api.dashboard.formatting import duration, relative
from api.dashboard.present import pipeline_steps, timeline
from shared.queue.queries import DeadLetterRow, Failure, JobDetail, JobRow
from shared.queue.status import JobStatus

T0 = datetime(2026, 3, 1, 11, 0, tzinfo=UTC)


def job(job_id: str, parent: str | None = None, status: JobStatus = JobStatus.COMPLETED) -> JobRow:
    return JobRow(
        id=job_id,
        type=f"type-{job_id}",
        payload="{}",
        status=status,
        priority=5,
        attempts=1,
        max_attempts=5,
        last_error=None,
        scheduled_at=T0,
        created_at=T0,
        updated_at=T0,
        completed_at=None,
        locked_by=None,
        locked_at=None,
        seq=0,
        idempotency_key=None,
        workflow_id="order-1",
        parent_id=parent,
        started_at=None,
    )


@pytest.mark.parametrize(("value", "ceiling"), [(0, 1), (1, 1), (3, 5), (7, 10), (11, 20), (120, 200), (500, 500)])
def test_the_scale_ends_at_a_round_number(value: int, ceiling: int) -> None:
    assert nice_ceiling(value) == ceiling


def test_bars_stack_failures_on_completions_to_scale() -> None:
    minutes = [T0 + timedelta(minutes=i) for i in range(60)]
    points = [(minute, 0, 0) for minute in minutes]
    points[10] = (minutes[10], 30, 10)  # peak 40: the scale ends at 50
    points[59] = (minutes[59], 5, 0)
    chart = throughput_chart(points)
    plot_height = chart.baseline - TOP
    peak, last = chart.bars[10], chart.bars[59]
    assert peak.done_height == pytest.approx(plot_height * 30 / 50, abs=0.01)
    assert peak.failed_height == pytest.approx(plot_height * 10 / 50, abs=0.01)
    assert peak.failed_y + peak.failed_height == pytest.approx(peak.done_y)  # failures sit on top
    assert last.done_y + last.done_height == pytest.approx(chart.baseline)
    assert [bar.done_height for i, bar in enumerate(chart.bars) if i not in (10, 59)] == [0] * 58
    assert [value for _, value in chart.ticks] == [0, 25, 50]
    assert [label for _, label in chart.labels] == ["11:00", "11:15", "11:30", "11:45"]
    assert (chart.completed, chart.failed) == (35, 10)
    assert peak.title == "11:10 UTC: 30 completed, 10 failed"
    assert chart.height == HEIGHT


def test_an_idle_hour_draws_no_bars() -> None:
    chart = throughput_chart([(T0 + timedelta(minutes=i), 0, 0) for i in range(60)])
    assert {bar.done_height + bar.failed_height for bar in chart.bars} == {0}
    assert [value for _, value in chart.ticks] == [0, 1]


def test_durations_read_like_an_operator_would_say_them() -> None:
    assert [duration(s) for s in (0, 45, 192, 7500, 3 * 86400 + 4 * 3600)] == ["0s", "45s", "3m 12s", "2h 05m", "3d 4h"]
    assert relative(T0 - timedelta(seconds=12), T0) == "12s ago"
    assert relative(T0 + timedelta(hours=3, minutes=5), T0) == "in 3h 05m"
    assert relative(T0, T0) == "now"
    assert relative(None, T0) == "—"


def test_the_pipeline_puts_children_under_their_parent() -> None:
    pipeline = [job("confirm"), job("followup"), job("invoice", "confirm"), job("inventory", "confirm")]
    pipeline.append(job("orphan", "someone-elses-job"))
    steps = [(step.job.id, step.depth) for step in pipeline_steps(pipeline)]
    assert steps == [("confirm", 0), ("invoice", 1), ("inventory", 1), ("followup", 0), ("orphan", 0)]


def test_the_timeline_tells_a_failed_job_in_order() -> None:
    failed = replace(
        job("j", status=JobStatus.FAILED),
        attempts=2,
        started_at=T0 + timedelta(seconds=10),
        updated_at=T0 + timedelta(seconds=11),
    )
    detail = JobDetail(
        job=failed,
        failures=[
            Failure(1, "boom", "retried", "w1", T0 + timedelta(seconds=5)),
            Failure(2, "boom again", "dead_lettered", "w1", T0 + timedelta(seconds=11)),
        ],
        dead_letters=[
            DeadLetterRow("d", "j", "type-j", "{}", 2, "boom again", T0 + timedelta(seconds=11), False, None)
        ],
        children=[],
        request_id=None,
        cancel_requested=False,
    )
    events = [(event.what, event.tone) for event in timeline(detail)]
    assert events == [
        ("enqueued", "neutral"),
        ("attempt 1 failed (retried)", "bad"),
        ("attempt 2 started", "neutral"),
        ("attempt 2 failed (dead_lettered)", "bad"),
        ("moved to the dead-letter queue", "bad"),
    ]
