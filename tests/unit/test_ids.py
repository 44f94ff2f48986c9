"""Job and order ids are UUIDv7: valid UUIDs that sort by creation time (index inserts stay local)."""

from __future__ import annotations

import time
import uuid

from shared.ids import new_id, uuid7


def test_ids_are_version_7_uuids_that_sort_by_time() -> None:
    first = uuid7()
    assert (first.version, first.variant) == (7, uuid.RFC_4122)
    earlier = [new_id() for _ in range(50)]
    time.sleep(0.002)
    later = [new_id() for _ in range(50)]
    assert max(earlier) < min(later)  # a later millisecond sorts after, as text too
    assert len(set(earlier + later)) == 100
    assert int(first.hex[:12], 16) <= time.time_ns() // 1_000_000  # the leading 48 bits are the time
