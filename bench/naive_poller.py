"""A naive polling worker, the contrast case (not a benchmark itself; latency.py and api_enqueue.py start it).

It is the course's worker loop reduced to its database traffic: every `--interval` seconds it takes the
write lock to try a claim, whether or not there is work:

    BEGIN IMMEDIATE; UPDATE jobs SET status='processing', ... WHERE id IN (SELECT id ... LIMIT 1)
    RETURNING id; COMMIT

and, when it got a job, marks it completed in a second short write (no handler runs). On SIGTERM or
SIGINT it prints what it did (claim attempts, jobs claimed, longest wait for BEGIN IMMEDIATE) and exits.

Run:  python bench/naive_poller.py /path/to/shop.db --interval 0.01
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import sys
import time
from datetime import UTC, datetime
from types import FrameType

CLAIM = """
UPDATE jobs SET status = 'processing', locked_by = ?, locked_at = ?, attempts = attempts + 1, updated_at = ?
WHERE id IN (
    SELECT id FROM jobs WHERE status = 'pending' AND scheduled_at <= ?
    ORDER BY priority DESC, scheduled_at, seq LIMIT 1
) AND status = 'pending'
RETURNING id
"""
COMPLETE = "UPDATE jobs SET status = 'completed', completed_at = ?, updated_at = ? WHERE id = ? AND locked_by = ?"


def now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("database", help="path of the migrated SQLite file")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between claim attempts (default 1.0)")
    parser.add_argument("--busy-timeout-ms", type=int, default=5000, help="PRAGMA busy_timeout (default 5000)")
    args = parser.parse_args()

    stop = False

    def on_signal(_sig: int, _frame: FrameType | None) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    worker_id = f"naive:{os.getpid()}"
    conn = sqlite3.connect(args.database, isolation_level=None, timeout=args.busy_timeout_ms / 1000)
    conn.execute(f"PRAGMA busy_timeout={int(args.busy_timeout_ms)}")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    attempts = claimed = errors = 0
    max_wait = 0.0
    while not stop:
        attempts += 1
        try:
            begun = time.perf_counter()
            conn.execute("BEGIN IMMEDIATE")
            max_wait = max(max_wait, time.perf_counter() - begun)
            now = now_text()
            row = conn.execute(CLAIM, (worker_id, now, now, now)).fetchone()
            conn.execute("COMMIT")
            if row is not None:
                claimed += 1
                conn.execute("BEGIN IMMEDIATE")
                done = now_text()
                conn.execute(COMPLETE, (done, done, row[0], worker_id))
                conn.execute("COMMIT")
        except sqlite3.OperationalError:
            errors += 1
            if conn.in_transaction:
                conn.execute("ROLLBACK")
        time.sleep(args.interval)
    conn.close()
    summary = {"attempts": attempts, "claimed": claimed, "errors": errors, "max_begin_wait_ms": max_wait * 1000}
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
