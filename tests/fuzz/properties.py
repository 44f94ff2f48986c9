"""What every fuzzed response must satisfy beyond schemathesis's own checks: the error envelope, the
request id, refusals for reasons the document names, and a refused request leaving the shop as it was."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from schemathesis import Case, Response

from api.schemas import NUL_REFUSED
from shared.db import Database

# The contract's error codes (design.md §3) by status; api/errors.py maps every exception onto them.
CODES: dict[int, frozenset[str]] = {
    400: frozenset({"VALIDATION_ERROR"}),
    401: frozenset({"UNAUTHORIZED"}),
    402: frozenset({"PAYMENT_DECLINED"}),
    404: frozenset({"NOT_FOUND"}),
    409: frozenset({"INSUFFICIENT_STOCK", "CONFLICT"}),
    413: frozenset({"PAYLOAD_TOO_LARGE"}),
    422: frozenset({"IDEMPOTENCY_KEY_REUSED"}),
}
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
GENERATED_REQUEST_ID = re.compile(r"[0-9a-f]{32}")

# Refusals of documented-valid requests for reasons a JSON Schema cannot state: (field, message)
# patterns, per operation ("*": any). Anything else refused with 400 means the document promises
# more than the API keeps, which is a bug of one or the other.
OUT_OF_RANGE = "out of range in UTC"  # 9999-12-31T23:00:00-05:00 is a date-time, but not a time
SEMANTIC_REFUSALS: dict[str, list[tuple[str, str]]] = {
    "*": [(".*", NUL_REFUSED)],  # no text holds a NUL character (PostgreSQL cannot store one)
    "ListJobs": [("cursor", "invalid cursor"), ("created(From|To)", OUT_OF_RANGE)],
    "ListDeadLetters": [("cursor", "invalid cursor"), ("failed(From|To)", OUT_OF_RANGE)],
    "RetryDeadLetters": [("failed(From|To)", OUT_OF_RANGE)],
    "DiscardDeadLetters": [("failed(From|To)", OUT_OF_RANGE)],
    "PlaceOrder": [(r"items\[\d+\]\.productId", "product appears more than once")],
    "EnqueueJob": [
        ("type", r"unknown job type"),  # the types are whatever JOB_MODULES loads
        (r"payload(\..*)?", r".*"),  # each type has its own payload schema
        ("delaySeconds", "give scheduledAt or delaySeconds, not both"),
        ("scheduledAt", OUT_OF_RANGE),
    ],
    "UpdateSchedule": [("cronExpression", r".*")],  # cron syntax
}


def error_envelope(response: Response) -> dict[str, Any]:
    """The response is the contract's error envelope, with the code its status calls for."""
    assert response.headers.get("content-type", [""])[0].startswith("application/json"), response.headers
    body = response.json()
    assert isinstance(body, dict), body
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "details"}, error
    assert error["code"] in CODES[response.status_code], (response.status_code, error)
    assert isinstance(error["message"], str), error
    assert error["message"].strip(), error
    assert isinstance(error["details"], list), error
    for detail in error["details"]:
        assert set(detail) == {"field", "message"}, detail
        assert isinstance(detail["field"], str), detail
        assert isinstance(detail["message"], str), detail
    for leak in ("Traceback", "sqlalchemy", "psycopg", "sqlite3"):
        assert leak not in response.text, response.text
    return dict(error)


def refused_for_a_documented_reason(case: Case[Any], error: dict[str, Any]) -> None:
    """A schema-valid request refused with 400 names only fields the schema cannot judge."""
    allowed = SEMANTIC_REFUSALS["*"] + SEMANTIC_REFUSALS.get(case.operation.definition.raw["operationId"], [])
    assert error["details"], error
    for detail in error["details"]:
        assert any(
            re.fullmatch(field, detail["field"]) and re.search(message, detail["message"]) for field, message in allowed
        ), f"a documented-valid request was refused: {detail}\n{case.as_curl_command()}"


def request_id_kept_or_replaced(sent: str | None, response: Response) -> None:
    """A sane X-Request-ID comes back as sent; anything else is replaced by a generated one."""
    [returned] = response.headers["x-request-id"]
    if sent is not None and SANE_REQUEST_ID.fullmatch(sent):
        assert returned == sent
    else:
        assert GENERATED_REQUEST_ID.fullmatch(returned), returned


class ShopState:
    """A fingerprint of everything a request could change, read before and after a refused one.

    On SQLite, `PRAGMA data_version` of a connection of our own also changes with any commit by
    another connection, so there "unchanged" means no transaction committed at all."""

    FINGERPRINT = (
        "SELECT"
        " (SELECT COUNT(*) FROM orders), (SELECT COUNT(*) FROM order_items), (SELECT SUM(stock) FROM products),"
        " (SELECT COUNT(*) FROM idempotent_requests), (SELECT COUNT(*) FROM jobs),"
        " (SELECT MAX(updated_at) FROM jobs), (SELECT SUM(attempts + cancel_requested) FROM jobs),"
        " (SELECT COUNT(*) FROM dead_letter_jobs), (SELECT SUM(reviewed) FROM dead_letter_jobs),"
        " (SELECT COUNT(notes) FROM dead_letter_jobs), (SELECT COUNT(*) FROM job_failures),"
        " (SELECT SUM(is_active) FROM cron_schedules), (SELECT MAX(next_run_at) FROM cron_schedules),"
        " (SELECT MIN(next_run_at) FROM cron_schedules), (SELECT COUNT(*) FROM cron_runs),"
        " (SELECT COUNT(*) FROM queue_pauses), (SELECT MAX(paused_at) FROM queue_pauses),"
        " (SELECT COUNT(*) FROM sales_reports)"
    )

    def __init__(self, db: Database, sqlite_path: str | None) -> None:
        self.db = db
        self.version = None if sqlite_path is None else sqlite3.connect(sqlite_path, isolation_level=None)

    def read(self) -> tuple[Any, ...]:
        with self.db.read() as tx:
            row = tx.one(self.FINGERPRINT)
        assert row is not None
        version = () if self.version is None else self.version.execute("PRAGMA data_version").fetchone()
        return (*version, *row)

    def close(self) -> None:
        if self.version is not None:
            self.version.close()


@contextmanager
def shop_state(db: Database, sqlite_path: str | None) -> Iterator[ShopState]:
    state = ShopState(db, sqlite_path)
    try:
        yield state
    finally:
        state.close()
