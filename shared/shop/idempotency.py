"""Idempotency-Key support: the first response to a keyed request is stored and replayed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from shared.shop.errors import IdempotencyConflictError
from shared.shop.models import IdempotentRequest


@dataclass(frozen=True)
class IdempotencyClaim:
    """A request's key, the scope it belongs to (method and route) and a hash of its body."""

    key: str
    scope: str
    request_hash: str


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    body: bytes


def find_response(session: Session, claim: IdempotencyClaim) -> StoredResponse | None:
    """The stored response for this key, or None; a key reused with another body is refused."""
    record = session.get(IdempotentRequest, (claim.key, claim.scope))
    if record is None:
        return None
    if record.request_hash != claim.request_hash:
        raise IdempotencyConflictError("this Idempotency-Key was already used with a different request body")
    return StoredResponse(record.status_code, record.response_body.encode())


def store_response(session: Session, claim: IdempotencyClaim, status_code: int, body: bytes, now: datetime) -> None:
    session.add(
        IdempotentRequest(
            key=claim.key,
            scope=claim.scope,
            request_hash=claim.request_hash,
            status_code=status_code,
            response_body=body.decode(),
            created_at=now,
        )
    )
