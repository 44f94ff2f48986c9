"""`python -m tests.support.lock_holder DATABASE SECONDS`: an outside process that takes SQLite's write
lock with `BEGIN EXCLUSIVE` and holds it, the way a maintenance script or the `sqlite3` shell in an
open transaction would.

It prints `acquired <unix time>` once it holds the lock and `released <unix time>` after
ROLLBACK, so the caller knows exactly when every other writer had to wait.
"""

from __future__ import annotations

import sqlite3
import sys
import time

ACQUIRE_TIMEOUT_SECONDS = 30.0  # the shop's writers hold the lock for milliseconds at a time


def hold(path: str, seconds: float) -> None:
    conn = sqlite3.connect(path, timeout=ACQUIRE_TIMEOUT_SECONDS, isolation_level=None)
    try:
        conn.execute("BEGIN EXCLUSIVE")
        print(f"acquired {time.time():.6f}", flush=True)  # noqa: T201 - the protocol with the caller
        time.sleep(seconds)
        conn.execute("ROLLBACK")
        print(f"released {time.time():.6f}", flush=True)  # noqa: T201
    finally:
        conn.close()


if __name__ == "__main__":
    hold(sys.argv[1], float(sys.argv[2]))
