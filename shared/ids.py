"""Identifiers that sort by creation time (UUID version 7, RFC 9562).

Random version-4 ids scatter every insert across the primary-key index, so each commit of a batch
of jobs touches (and writes to the WAL) a page per job; time-ordered ids keep new keys together at
the end of the index. Still unique across processes and hosts: 74 random bits after the milliseconds.
"""

from __future__ import annotations

import os
import time
import uuid


def uuid7() -> uuid.UUID:
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")  # 80 random bits; 74 are kept
    value = (millis & ((1 << 48) - 1)) << 80  # unix_ts_ms: 48 bits
    value |= 0x7 << 76  # version 7
    value |= ((rand >> 62) & 0xFFF) << 64  # rand_a: 12 bits
    value |= 0b10 << 62  # variant
    value |= rand & ((1 << 62) - 1)  # rand_b: 62 bits
    return uuid.UUID(int=value)


def new_id() -> str:
    return str(uuid7())
