"""Idempotency-Key: the first response to a keyed request is stored with the order and replayed."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import msgspec

from shared.clock import Clock
from shared.db import Tx
from shared.shop.errors import IdempotencyConflictError
from shared.shop.orders import OrderDetails

FIND = "SELECT request_hash, status_code, response_body FROM idempotent_requests WHERE key = :key AND scope = :scope"
STORE = (
    "INSERT INTO idempotent_requests (key, scope, request_hash, status_code, response_body, created_at) "
    "VALUES (:key, :scope, :hash, :status, :body, :now)"
)


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    body: bytes


@dataclass(frozen=True)
class IdempotentRequest:
    """A request's key, the scope it belongs to (method and route), a hash of its body, and how to
    turn the placed order into the response body to remember."""

    key: str
    scope: str
    request_hash: str
    status_code: int
    render: Callable[[OrderDetails], bytes]
    clock: Clock

    def find(self, tx: Tx) -> StoredResponse | None:
        """The stored response for this key, or None; a key reused with another body is refused."""
        row = tx.one(FIND, {"key": self.key, "scope": self.scope})
        if row is None:
            return None
        if row[0] != self.request_hash:
            raise IdempotencyConflictError("this Idempotency-Key was already used with a different request body")
        return StoredResponse(int(row[1]), str(row[2]).encode())

    def record(self, tx: Tx, placed: OrderDetails) -> None:
        tx.execute(
            STORE,
            {
                "key": self.key,
                "scope": self.scope,
                "hash": self.request_hash,
                "status": self.status_code,
                "body": self.render(placed).decode(),
                "now": tx.ts(self.clock()),
            },
        )


def request_hash(request: msgspec.Struct) -> str:
    """SHA-256 of the decoded request as canonical JSON: same request, same hash, however it was spelled."""
    canonical = msgspec.json.encode(msgspec.to_builtins(request), order="sorted")
    return hashlib.sha256(canonical).hexdigest()
