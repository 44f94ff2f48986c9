"""The soak's fault threads: one stops a worker every few seconds (SIGKILL or SIGTERM) and restarts
it, one holds SQLite's write lock from an outside process, one fills the disk. Each records what it
did; `stop()` ends them all."""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.chaos import Exit, Fleet, SmallDisk, Window, hold_write_lock
from tests.support.soak.plan import SoakPlan


@dataclass
class FaultLog:
    stops: list[Exit] = field(default_factory=list)  # workers we stopped, with how they exited
    crashes: list[Exit] = field(default_factory=list)  # workers that exited on their own
    windows: list[Window] = field(default_factory=list)  # lock holds and full disks
    ballast_bytes: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # a fault that could not be applied
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_window(self, window: Window) -> None:
        with self.lock:
            self.windows.append(window)

    def of_kind(self, kind: str) -> list[Window]:
        with self.lock:
            return [w for w in self.windows if w.kind == kind]


class Faults:
    def __init__(self, plan: SoakPlan, fleet: Fleet, disk: SmallDisk, database: Path) -> None:
        self.plan = plan
        self.fleet = fleet
        self.disk = disk
        self.database = database
        self.log = FaultLog()
        self._stop = threading.Event()
        self._rng = random.Random(plan.seed)
        self._threads = [
            threading.Thread(target=self._guarded(self._stop_workers), name="soak-killer", daemon=True),
            threading.Thread(target=self._guarded(self._hold_locks), name="soak-locker", daemon=True),
            threading.Thread(target=self._guarded(self._fill_disk), name="soak-filler", daemon=True),
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=120)

    def _guarded(self, loop: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                loop()
            except Exception as exc:  # a broken fault thread must fail the run, not end it quietly
                with self.log.lock:
                    self.log.errors.append(f"{type(exc).__name__}: {exc}")

        return run

    def _pause(self, bounds: tuple[float, float]) -> bool:
        """Sleep a random time within `bounds`; False once stopped."""
        return not self._stop.wait(self._rng.uniform(*bounds))

    def _stop_workers(self) -> None:
        while self._pause(self.plan.kill_every):
            self.log.crashes.extend(self.fleet.reap())
            slot = self._rng.randrange(self.fleet.size)
            roll = self._rng.random()
            if roll < self.plan.term_share:
                ended = self.fleet.terminate(slot, twice=roll < self.plan.term_share / 3)
            else:
                ended = self.fleet.kill(slot)
            self.log.stops.append(ended)
        self.log.crashes.extend(self.fleet.reap())

    def _hold_locks(self) -> None:
        for seconds in itertools.cycle(self.plan.lock_seconds):
            if not self._pause(self.plan.lock_every):
                return
            self.log.add_window(hold_write_lock(self.database, seconds))

    def _fill_disk(self) -> None:
        while self._pause(self.plan.disk_full_every):
            with self.disk.full() as ballast:
                start = time.time()
                time.sleep(self.plan.disk_full_seconds)
            self.log.add_window(Window("disk", start, time.time()))
            with self.log.lock:
                self.log.ballast_bytes.append(ballast)
