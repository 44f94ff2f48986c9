"""Aging: low priorities cannot starve behind a steady flood of higher ones.

Claims follow `claim_priority` (the job's priority to begin with). A due job that has waited
PRIORITY_AGING_SECONDS at its level moves up one named level (LOW -> NORMAL -> HIGH -> CRITICAL) and
keeps its place in time, so it is first among its new peers; after another period it moves up again.
Each pass promotes at most a few jobs per level, the ones that waited longest, so a large backlog
costs a small bounded update rather than a rewrite of every row.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from shared.db.tx import Tx
from shared.queue.priority import Priority

LEVELS = sorted(int(p) for p in Priority)
PROMOTE_PER_LEVEL = 100
LEVEL_BELOW = (
    "SELECT claim_priority FROM jobs WHERE status = 'pending' AND claim_priority < :below "
    "ORDER BY claim_priority DESC LIMIT 1"
)


def next_level(priority: int) -> int | None:
    """The next named level above `priority`; None at the top."""
    return next((level for level in LEVELS if level > priority), None)


def _levels(tx: Tx) -> list[int]:
    """Claim priorities below the top that pending jobs have, highest first (an index seek each)."""
    levels: list[int] = []
    below = LEVELS[-1]
    while (level := tx.scalar(LEVEL_BELOW, {"below": below})) is not None:
        levels.append(int(level))
        below = int(level)
    return levels


def _waited_too_long(tx: Tx, level: int, cutoff: datetime, limit: int) -> list[str]:
    params = {"level": level, "cutoff": tx.ts(cutoff), "limit": limit}
    return [row[0] for row in tx.all(tx.backend.aging_candidates, params)]


def has_aged(tx: Tx, now: datetime, threshold_seconds: float) -> bool:
    """A read, so workers take the write lock only when some job is due for promotion."""
    cutoff = now - timedelta(seconds=threshold_seconds)
    return any(_waited_too_long(tx, level, cutoff, 1) for level in _levels(tx))


def age(tx: Tx, now: datetime, threshold_seconds: float) -> dict[int, int]:
    """Promote the longest-waiting jobs of each level; returns {level: jobs promoted}."""
    cutoff = now - timedelta(seconds=threshold_seconds)
    promoted: dict[int, int] = {}
    for level in _levels(tx):
        target = next_level(level)
        ids = _waited_too_long(tx, level, cutoff, PROMOTE_PER_LEVEL)
        if target is None or not ids:
            continue
        tx.execute(tx.backend.promote, {"to": target, "level": level, "now": tx.ts(now), "ids": tx.list_param(ids)})
        promoted[level] = len(ids)
    return promoted
