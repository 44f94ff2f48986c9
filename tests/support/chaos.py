"""Faults for the soak: a small file system that can be filled, an outside process holding SQLite's
write lock, and a fleet of worker processes that get killed, stopped and restarted.

Each fault reports the wall-clock window it was active in (`Window`), so that an error a client
saw can be matched with the fault that explains it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.processes import ROOT, Service


@dataclass(frozen=True)
class Window:
    """A fault was active from `start` to `end` (unix time)."""

    kind: str
    start: float
    end: float

    @property
    def seconds(self) -> float:
        return self.end - self.start

    def overlaps(self, start: float, end: float, slack: float = 0.0) -> bool:
        return start <= self.end + slack and end >= self.start - slack


# ---- a small file system ----------------------------------------------------------------------


class SmallDisk:
    """A size-limited tmpfs mounted at `path` (needs root, as the PostgreSQL tests do): the SQLite
    file, its WAL and the invoices live there, so filling it is a real ENOSPC for every process."""

    def __init__(self, path: Path, size_mb: int) -> None:
        self.path = path
        self.size_mb = size_mb
        self._mounted = False

    def mount(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={self.size_mb}m,mode=0755", "tmpfs", str(self.path)],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"cannot mount a {self.size_mb} MB tmpfs at {self.path} (the soak fills it to make the disk "
                f"full; mounting needs root): {result.stderr.strip()}"
            )
        self._mounted = True

    def unmount(self) -> None:
        if self._mounted:
            subprocess.run(["umount", "--lazy", str(self.path)], capture_output=True, check=False)
            self._mounted = False

    def used_mb(self) -> float:
        stat = os.statvfs(self.path)
        return (stat.f_blocks - stat.f_bfree) * stat.f_frsize / 2**20

    @contextlib.contextmanager
    def full(self) -> Iterator[int]:
        """Fill every free block with a ballast file until the kernel says ENOSPC; free it on exit.
        Yields the ballast's size in bytes."""
        ballast = self.path / "ballast.fill"
        written = 0
        with ballast.open("wb", buffering=0) as handle:
            for chunk in (1 << 20, 1 << 12):
                block = b"\0" * chunk
                while True:
                    try:
                        written += handle.write(block)
                    except OSError as exc:
                        if exc.errno != errno.ENOSPC:
                            raise
                        break
        try:
            yield written
        finally:
            ballast.unlink()


# ---- the write lock, held from outside ------------------------------------------------------


def hold_write_lock(database: Path, seconds: float) -> Window:
    """Run `tests.support.lock_holder` (BEGIN EXCLUSIVE, sleep, ROLLBACK) and wait for it; the window
    is when it really held the lock."""
    process = subprocess.run(
        [sys.executable, "-m", "tests.support.lock_holder", str(database), str(seconds)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=False,
    )
    marks = dict(line.split() for line in process.stdout.splitlines() if line.strip())
    if process.returncode != 0 or set(marks) != {"acquired", "released"}:
        raise RuntimeError(f"lock holder failed ({process.returncode}): {process.stdout} {process.stderr}")
    return Window("lock", float(marks["acquired"]), float(marks["released"]))


# ---- workers that get killed ----------------------------------------------------------------


@dataclass
class Exit:
    """How one worker process ended: after which signals (none: on its own), with which code."""

    slot: int
    pid: int
    signals: tuple[str, ...]
    code: int
    log_path: Path


@dataclass
class Fleet:
    """`size` worker slots, each running one `python -m worker` at a time. `start_worker(name)` makes
    a process; every process's log stays (one file per incarnation)."""

    size: int
    start_worker: Callable[[str], Service]
    services: dict[int, Service] = field(default_factory=dict)
    exits: list[Exit] = field(default_factory=list)
    starts: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start_all(self) -> None:
        for slot in range(self.size):
            self._start(slot)

    def _start(self, slot: int) -> None:
        self.starts += 1
        self.services[slot] = self.start_worker(f"{slot}-{self.starts}")

    def log_paths(self) -> list[Path]:
        return sorted({e.log_path for e in self.exits} | {s.log_path for s in self.services.values()})

    def reap(self) -> list[Exit]:
        """Restart every worker that exited on its own (a crash: the soak counts it as a problem)."""
        crashed = []
        with self._lock:
            for slot, service in list(self.services.items()):
                code = service.process.poll()
                if code is not None:
                    crashed.append(Exit(slot, service.process.pid, (), code, service.log_path))
                    self._start(slot)
            self.exits.extend(crashed)
        return crashed

    def kill(self, slot: int) -> Exit:
        """SIGKILL: no chance to hand anything back; its jobs wait for a rescue."""
        return self._stop(slot, (signal.SIGKILL,), pause=0.0)

    def terminate(self, slot: int, *, twice: bool = False) -> Exit:
        """SIGTERM (a graceful stop, exit 0); `twice`: a second SIGTERM while it drains (exit at once)."""
        return self._stop(slot, (signal.SIGTERM, signal.SIGTERM) if twice else (signal.SIGTERM,), pause=0.3)

    def _stop(self, slot: int, signals: tuple[signal.Signals, ...], *, pause: float) -> Exit:
        with self._lock:
            service = self.services[slot]
            for index, sig in enumerate(signals):
                if index:
                    time.sleep(pause)
                if service.process.poll() is None:
                    service.signal(sig)
            code = service.wait(timeout=60)
            ended = Exit(slot, service.process.pid, tuple(sig.name for sig in signals), code, service.log_path)
            self.exits.append(ended)
            self._start(slot)
        return ended

    def stop_all(self) -> list[Exit]:
        """SIGTERM every worker and wait: the end of the run, each must exit 0."""
        with self._lock:
            for service in self.services.values():
                service.signal(signal.SIGTERM)
            ended = [
                Exit(slot, service.process.pid, ("SIGTERM",), service.wait(timeout=120), service.log_path)
                for slot, service in self.services.items()
            ]
            self.exits.extend(ended)
            self.services.clear()
        return ended
