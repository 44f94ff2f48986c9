"""Named priorities; higher runs first, FIFO inside a priority."""

from enum import IntEnum


class Priority(IntEnum):
    LOW = 0
    NORMAL = 5
    HIGH = 10
    CRITICAL = 20
