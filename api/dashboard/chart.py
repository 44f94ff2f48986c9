"""The overview's throughput chart: stacked bars per minute, laid out here and drawn as inline SVG."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

WIDTH, HEIGHT = 1100, 200  # about the size it is shown at, so that its text stays at its nominal size
LEFT, RIGHT, TOP, BOTTOM = 40, 20, 10, 24  # margins around the plot area
LABEL_EVERY = 15  # minutes between time labels, at :00, :15, :30 and :45


@dataclass(frozen=True)
class Bar:
    x: float
    width: float
    done_y: float
    done_height: float
    failed_y: float
    failed_height: float
    title: str  # the hover text


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    plot_left: int
    plot_top: int
    plot_right: int
    baseline: int
    bars: list[Bar]
    ticks: list[tuple[float, int]]  # (y, value) of the horizontal grid lines
    labels: list[tuple[float, str]]  # (x, HH:MM) along the time axis
    completed: int
    failed: int


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, ... at least `value` (and at least 1)."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def throughput_chart(points: list[tuple[datetime, int, int]]) -> Chart:
    """Lay out (minute, completed, failed attempts) points, oldest first, as stacked bars."""
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    baseline = TOP + plot_height
    top = nice_ceiling(max((done + failed for _, done, failed in points), default=0))
    slot = plot_width / max(len(points), 1)
    bars = []
    for index, (minute, done, failed) in enumerate(points):
        done_height = plot_height * done / top
        failed_height = plot_height * failed / top
        bars.append(
            Bar(
                x=round(LEFT + index * slot + slot * 0.1, 2),
                width=round(slot * 0.8, 2),
                done_y=round(baseline - done_height, 2),
                done_height=round(done_height, 2),
                failed_y=round(baseline - done_height - failed_height, 2),
                failed_height=round(failed_height, 2),
                title=f"{minute:%H:%M} UTC: {done} completed, {failed} failed",
            )
        )
    values = sorted({0, top // 2, top}) if top > 1 else [0, 1]
    ticks = [(round(baseline - plot_height * value / top, 2), value) for value in values]
    labels = [
        (round(LEFT + index * slot + slot / 2, 2), f"{minute:%H:%M}")
        for index, (minute, _, _) in enumerate(points)
        if minute.minute % LABEL_EVERY == 0
    ]
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        plot_left=LEFT,
        plot_top=TOP,
        plot_right=WIDTH - RIGHT,
        baseline=baseline,
        bars=bars,
        ticks=ticks,
        labels=labels,
        completed=sum(done for _, done, _ in points),
        failed=sum(failed for _, _, failed in points),
    )
