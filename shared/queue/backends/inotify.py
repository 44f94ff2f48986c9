"""Linux inotify through ctypes: a file descriptor that becomes readable when files in a directory
are written. Another process's commit to a SQLite file in WAL mode writes to its `-wal` file, so
an idle worker can sleep in poll() until that happens: no CPU while idle, no polling delay."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import select
import struct
from pathlib import Path

IN_MODIFY = 0x00000002
IN_CREATE = 0x00000100
IN_MOVED_TO = 0x00000080
IN_NONBLOCK = 0o4000
IN_CLOEXEC = 0o2000000
_EVENT = struct.Struct("iIII")  # wd, mask, cookie, len; then `len` bytes of name


class DirectoryWatch:
    """Events for the named files of one directory (the database and its WAL)."""

    def __init__(self, fd: int, names: frozenset[str]) -> None:
        self._fd = fd
        self._names = names
        self._poll = select.poll()
        self._poll.register(fd, select.POLLIN)

    @classmethod
    def open(cls, directory: Path, names: frozenset[str]) -> DirectoryWatch | None:
        """None where inotify is unavailable (not Linux, or no more watches): callers then poll."""
        name = ctypes.util.find_library("c")
        if name is None or not hasattr(os, "O_NONBLOCK"):
            return None
        try:
            libc = ctypes.CDLL(name, use_errno=True)
            fd = libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        except (OSError, AttributeError):
            return None
        if fd < 0:
            return None
        if libc.inotify_add_watch(fd, str(directory).encode(), IN_MODIFY | IN_CREATE | IN_MOVED_TO) < 0:
            os.close(fd)
            return None
        return cls(fd, names)

    def wait(self, timeout: float) -> bool:
        """Block up to `timeout` seconds; True if one of the files was written meanwhile."""
        if not self._poll.poll(timeout * 1000):
            return False
        seen = False
        while True:
            try:
                data = os.read(self._fd, 65536)
            except BlockingIOError:
                return seen
            offset = 0
            while offset + _EVENT.size <= len(data):
                _, _, _, length = _EVENT.unpack_from(data, offset)
                raw = data[offset + _EVENT.size : offset + _EVENT.size + length]
                seen = seen or raw.rstrip(b"\0").decode(errors="replace") in self._names
                offset += _EVENT.size + length

    def close(self) -> None:
        os.close(self._fd)
