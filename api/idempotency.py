"""Idempotency-Key, as payment APIs have it: the key is claimed while its first request runs, and
that request's answer (the order, or its refusal) is stored and replayed to every later request.

A row of `idempotent_requests` is either in flight (`locked_by`, `locked_at`: the claim of the
request that runs) or answered (`status_code`, `response_body`). A claim older than
IN_FLIGHT_EXPIRY belongs to a request that will never answer (its process died): the next request
with the key takes it over. Every write after the claim is fenced on `locked_by`, so a request
that lost its claim can neither store an answer nor release another's claim.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import msgspec

from api.errors import domain_status, error_body
from shared.clock import Clock
from shared.db import Tx
from shared.ids import new_id
from shared.shop.errors import DomainError, IdempotencyConflictError, RequestInFlightError
from shared.shop.orders import OrderDetails

# Far longer than a request takes (a payment call and a short write), short enough that a key
# whose request died with its process is usable again soon.
IN_FLIGHT_EXPIRY = timedelta(seconds=60)

CLAIM = (
    "INSERT INTO idempotent_requests (key, scope, request_hash, created_at, locked_by, locked_at) "
    "VALUES (:key, :scope, :hash, :now, :owner, :now) ON CONFLICT (key, scope) DO NOTHING"
)
FIND = (
    "SELECT request_hash, status_code, response_body, locked_by, locked_at FROM idempotent_requests "
    "WHERE key = :key AND scope = :scope"
)
TAKE_OVER = (
    "UPDATE idempotent_requests SET locked_by = :owner, locked_at = :now "
    "WHERE key = :key AND scope = :scope AND locked_by = :previous AND status_code IS NULL"
)
ANSWER = (
    "UPDATE idempotent_requests SET status_code = :status, response_body = :body, locked_by = NULL, "
    "locked_at = NULL WHERE key = :key AND scope = :scope AND locked_by = :owner"
)
RELEASE = "DELETE FROM idempotent_requests WHERE key = :key AND scope = :scope AND locked_by = :owner"

IN_FLIGHT = "a request with this Idempotency-Key is still being processed; retry once it has finished"
REUSED = "this Idempotency-Key was already used with a different request body"


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    body: bytes


@dataclass(frozen=True)
class IdempotentRequest:
    """A request's key, the scope it belongs to (method and route), a hash of its body, and how to
    turn the placed order into the response body to remember. `owner` names this request's claim."""

    key: str
    scope: str
    request_hash: str
    status_code: int
    render: Callable[[OrderDetails], bytes]
    clock: Clock
    owner: str = field(default_factory=new_id)

    def claim(self, tx: Tx) -> StoredResponse | None:
        """The stored answer for this key, or None once this request holds the key.

        Raises IdempotencyConflictError for a key used with another body, RequestInFlightError while
        another request holds it."""
        now = tx.ts(self.clock())
        keyed = {"key": self.key, "scope": self.scope}
        if tx.rowcount(CLAIM, {**keyed, "hash": self.request_hash, "now": now, "owner": self.owner}) == 1:
            return None
        row = tx.one(FIND, keyed)
        if row is None:  # its holder released it between our two statements: a retry finds the key free
            raise RequestInFlightError(IN_FLIGHT)
        request_hash, status_code, body, holder, locked_at = row
        if request_hash != self.request_hash:
            raise IdempotencyConflictError(REUSED)
        if status_code is not None:
            return StoredResponse(int(status_code), str(body).encode())
        if tx.dt(locked_at) > self.clock() - IN_FLIGHT_EXPIRY:
            raise RequestInFlightError(IN_FLIGHT)
        # The holder's process died without answering: this request runs instead.
        if tx.rowcount(TAKE_OVER, {**keyed, "owner": self.owner, "now": now, "previous": holder}) != 1:
            raise RequestInFlightError(IN_FLIGHT)
        return None

    def record(self, tx: Tx, placed: OrderDetails) -> None:
        self._answer(tx, self.status_code, self.render(placed))

    def refuse(self, tx: Tx, refusal: DomainError) -> None:
        body = msgspec.json.encode(error_body(refusal.code, refusal.message, refusal.details))
        self._answer(tx, domain_status(refusal), body)

    def release(self, tx: Tx) -> None:
        tx.execute(RELEASE, {"key": self.key, "scope": self.scope, "owner": self.owner})

    def _answer(self, tx: Tx, status: int, body: bytes) -> None:
        params = {"key": self.key, "scope": self.scope, "owner": self.owner, "status": status, "body": body.decode()}
        if tx.rowcount(ANSWER, params) != 1:
            # Our claim expired and another request took the key over: its answer is the one kept.
            raise RequestInFlightError(IN_FLIGHT)


def request_hash(request: msgspec.Struct) -> str:
    """SHA-256 of the decoded request as canonical JSON: same request, same hash, however it was spelled."""
    canonical = msgspec.json.encode(msgspec.to_builtins(request), order="sorted")
    return hashlib.sha256(canonical).hexdigest()
