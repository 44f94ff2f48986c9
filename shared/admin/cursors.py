"""Opaque page cursors: where the next (older) page of a listing starts.

Clients pass them back unchanged; their content (a job's `seq`, a dead letter's failure time and id)
is an implementation detail, encoded so nobody builds one by hand.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

import msgspec

from shared.errors import FieldError, InputError

JOBS = "j"
DEAD_LETTERS = "d"


class InvalidCursorError(InputError):
    def __init__(self) -> None:
        message = "not a cursor of this listing: pass back the nextCursor of the previous page unchanged"
        super().__init__(message, [FieldError("cursor", "invalid cursor")])


def _encode(*parts: object) -> str:
    return base64.urlsafe_b64encode(msgspec.json.encode(parts)).decode().rstrip("=")


def _decode(cursor: str, kind: str) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        parts = msgspec.json.decode(raw, type=list[Any])
    except (binascii.Error, ValueError, msgspec.DecodeError):
        raise InvalidCursorError from None
    if not parts or parts[0] != kind:
        raise InvalidCursorError
    return parts[1:]


def job_cursor(seq: int) -> str:
    return _encode(JOBS, seq)


def job_position(cursor: str | None) -> int | None:
    """The `seq` the next page of jobs starts below, or None for the first page."""
    if cursor is None:
        return None
    match _decode(cursor, JOBS):
        case [int(seq)]:
            return seq
    raise InvalidCursorError


def dead_letter_cursor(position: tuple[datetime, str]) -> str:
    failed_at, dead_id = position
    return _encode(DEAD_LETTERS, failed_at.isoformat(), dead_id)


def dead_letter_position(cursor: str | None) -> tuple[datetime, str] | None:
    """The (failure time, id) the next page of dead letters starts below, or None for the first page."""
    if cursor is None:
        return None
    match _decode(cursor, DEAD_LETTERS):
        case [str(failed_at), str(dead_id)]:
            try:
                moment = datetime.fromisoformat(failed_at)
            except ValueError:
                raise InvalidCursorError from None
            if moment.tzinfo is not None:
                return moment, dead_id
    raise InvalidCursorError
