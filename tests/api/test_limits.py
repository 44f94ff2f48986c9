"""Every input limit, at its bound and one past it, through HTTP: the request at the bound gets past the
limit, the one past it is refused in the error envelope and changes nothing. (The body limit has its
own tests in test_errors.py and test_served_body_limit.py; the header limit on the real server in
test_served_header_limit.py.) Limits are checked before the store is asked, so SQLite shows them;
the NUL test runs on both backends, PostgreSQL being the reason for it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from api.app import create_app
from api.limits import MAX_JSON_DEPTH
from shared.admin.jobs import MAX_PAYLOAD_BYTES
from shared.config import Settings
from shared.db import Database
from tests.api.helpers import assert_error, shop_state

ON_SQLITE = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
TOKEN = "limits-admin-token"  # noqa: S105 - the test's own
ORDER_LINE = {"productId": "prod-1", "quantity": 1}


@pytest.fixture
def operator(settings: Settings) -> Iterator[TestClient[Litestar]]:
    """The app with an ADMIN_TOKEN, and a client that presents it."""
    with TestClient(create_app(msgspec.structs.replace(settings, admin_token=TOKEN))) as client:
        client.headers["Authorization"] = f"Bearer {TOKEN}"
        yield client


def nested(levels: int) -> Any:
    value: Any = []
    for _ in range(levels - 1):
        value = [value]
    return value


@ON_SQLITE
def test_json_nested_past_the_limit_is_refused_before_parsing(
    operator: TestClient[Litestar], db: Database, settings: Settings
) -> None:
    before = shop_state(db, settings)
    # At the limit the body is parsed, and refused for what it says (userId is no string).
    at_limit = operator.post("/orders", content=msgspec.json.encode({"userId": nested(MAX_JSON_DEPTH - 1)}))
    past = operator.post("/orders", content=msgspec.json.encode({"userId": nested(MAX_JSON_DEPTH)}))
    # Deep enough to exhaust Python's recursion before the limit existed: a 500 then.
    abyss = operator.post("/admin/jobs", content=b'{"type": "send_email", "payload": ' + b"[" * 30_000 + b"]" * 30_000)

    assert "nested" not in assert_error(at_limit, 400, "VALIDATION_ERROR")["details"][0]["message"]
    for response in (past, abyss):
        [detail] = assert_error(response, 400, "VALIDATION_ERROR")["details"]
        assert detail == {"field": "body", "message": f"JSON nested deeper than {MAX_JSON_DEPTH} levels"}
    assert shop_state(db, settings) == before


@ON_SQLITE
def test_brackets_inside_strings_do_not_count_as_nesting(operator: TestClient[Litestar]) -> None:
    body = {"userId": "[{" * 40 + '\\"]', "items": [ORDER_LINE]}

    response = operator.post("/orders", content=msgspec.json.encode(body))

    assert response.status_code == 201, response.text


@ON_SQLITE
@pytest.mark.parametrize(
    "body",
    [b'{"userId": "\xff", "items": []}', b'{"userId": "caf\xc3", "items": []}', b'{"userId": "\xed\xa0\x80"}'],
    ids=["invalid-start-byte", "cut-sequence", "encoded-surrogate"],
)
def test_a_body_that_is_not_utf8_is_malformed_json(
    operator: TestClient[Litestar], db: Database, settings: Settings, body: bytes
) -> None:
    before = shop_state(db, settings)

    for path in ("/orders", "/admin/jobs", "/admin/queues/send_email/pause"):
        error = assert_error(operator.post(path, content=body), 400, "VALIDATION_ERROR")
        assert error["message"] == "the request body is not valid JSON"
        assert error["details"][0]["message"].startswith("not UTF-8")
    assert shop_state(db, settings) == before


def test_a_nul_character_is_refused_wherever_it_is(
    operator: TestClient[Litestar], db: Database, settings: Settings
) -> None:
    """PostgreSQL cannot store or compare text holding NUL: every one was a 500 there."""
    before = shop_state(db, settings)
    refused = {
        "userId": operator.post("/orders", json={"userId": "a\x00b", "items": [ORDER_LINE]}),
        "items[0].productId": operator.post(
            "/orders", json={"userId": "u", "items": [{**ORDER_LINE, "productId": "\x00"}]}
        ),
        "payload.subject": operator.post(
            "/admin/jobs", json={"type": "send_email", "payload": {"to": "a@b.test", "subject": "\x00"}}
        ),
        "payload.\x00": operator.post("/admin/jobs", json={"type": "send_email", "payload": {"\x00": 1}}),
        "path": operator.get("/orders/a%00b"),
        "query": operator.get("/admin/jobs", params={"type": "a\x00"}),
        "idempotency-key": operator.post(
            "/orders", json={"userId": "u", "items": [ORDER_LINE]}, headers={"Idempotency-Key": "k\x00"}
        ),
    }

    for field, response in refused.items():
        error = assert_error(response, 400, "VALIDATION_ERROR")
        assert error["details"] == [{"field": field, "message": "must not contain the NUL character"}], field
    assert shop_state(db, settings) == before


@ON_SQLITE
def test_without_the_token_a_nul_is_still_401(settings: Settings) -> None:
    """The admin guard answers first: nothing about the request is judged before the token."""
    with TestClient(create_app(msgspec.structs.replace(settings, admin_token=TOKEN))) as anonymous:
        assert_error(anonymous.get("/admin/jobs", params={"type": "\x00"}), 401, "UNAUTHORIZED")


def enqueue(payload_body: str) -> dict[str, Any]:
    return {"type": "send_email", "payload": {"to": "a@b.test", "subject": "s", "body": payload_body}}


def email_body_making_payload(size: int) -> str:
    """An email body (two bytes a character, as UTF-8) that makes the payload `size` bytes of JSON."""
    overhead = len(msgspec.json.encode(enqueue("")["payload"]))
    text = "é" * ((size - overhead) // 2)
    return text + "a" * (size - overhead - len(text.encode()))


@ON_SQLITE
def test_an_enqueued_payload_past_its_limit_is_413(
    operator: TestClient[Litestar], db: Database, settings: Settings
) -> None:
    at_limit = enqueue(email_body_making_payload(MAX_PAYLOAD_BYTES))
    past = enqueue(email_body_making_payload(MAX_PAYLOAD_BYTES + 1))
    assert len(msgspec.json.encode(past["payload"])) == MAX_PAYLOAD_BYTES + 1
    before = shop_state(db, settings)

    refused = operator.post("/admin/jobs", json=past)
    assert shop_state(db, settings) == before
    accepted = operator.post("/admin/jobs", json=at_limit)

    [detail] = assert_error(refused, 413, "PAYLOAD_TOO_LARGE")["details"]
    assert detail["field"] == "payload"
    assert str(MAX_PAYLOAD_BYTES) in detail["message"]
    assert accepted.status_code == 201, accepted.text


@dataclass(frozen=True)
class Bound:
    """A request at a bound and one past it (same method), and the field the refusal names."""

    method: str
    at: tuple[str, dict[str, Any]]
    past: tuple[str, dict[str, Any]]
    field: str


def query(path: str, name: str, at: Any, past: Any) -> tuple[tuple[str, dict[str, Any]], tuple[str, dict[str, Any]]]:
    return (path, {"params": {name: at}}), (path, {"params": {name: past}})


def body(path: str, at: Any, past: Any) -> tuple[tuple[str, dict[str, Any]], tuple[str, dict[str, Any]]]:
    return (path, {"json": at}), (path, {"json": past})


def lines(count: int) -> list[dict[str, Any]]:
    return [{"productId": f"p{n}", "quantity": 1} for n in range(count)]


ID = "x" * 100
BOUNDS = {
    "jobs-page": Bound("GET", *query("/admin/jobs", "limit", 200, 201), "limit"),
    "dead-letter-page": Bound("GET", *query("/admin/dead-letter", "limit", 200, 201), "limit"),
    "throughput-minutes": Bound("GET", *query("/admin/queue/throughput", "minutes", 1440, 1441), "minutes"),
    "bulk-retry-count": Bound("POST", *body("/admin/dead-letter/retry", {"limit": 1000}, {"limit": 1001}), "limit"),
    "type-filter": Bound("GET", *query("/admin/jobs", "type", ID, ID + "x"), "type"),
    "workflow-filter": Bound("GET", *query("/admin/jobs", "workflowId", ID, ID + "x"), "workflowId"),
    "error-filter": Bound("GET", *query("/admin/dead-letter", "error", "e" * 500, "e" * 501), "error"),
    "path-id": Bound("GET", (f"/orders/{ID}", {}), (f"/orders/{ID}x", {}), "order_id"),
    "user-id": Bound(
        "POST",
        *body("/orders", {"userId": ID, "items": [ORDER_LINE]}, {"userId": ID + "x", "items": [ORDER_LINE]}),
        "userId",
    ),
    "order-lines": Bound(
        "POST", *body("/orders", {"userId": "u", "items": lines(100)}, {"userId": "u", "items": lines(101)}), "items"
    ),
    "pause-reason": Bound(
        "POST", *body("/admin/queues/send_email/pause", {"reason": "r" * 2000}, {"reason": "r" * 2001}), "reason"
    ),
    "job-idempotency-key": Bound(
        "POST",
        *body(
            "/admin/jobs",
            {**enqueue("b"), "idempotencyKey": "k" * 255},
            {**enqueue("b"), "idempotencyKey": "k" * 256},
        ),
        "idempotencyKey",
    ),
}


@ON_SQLITE
@pytest.mark.parametrize("bound", BOUNDS.values(), ids=BOUNDS.keys())
def test_each_bound_holds_at_its_edge(
    operator: TestClient[Litestar], db: Database, settings: Settings, bound: Bound
) -> None:
    before = shop_state(db, settings)
    past = operator.request(bound.method, bound.past[0], **bound.past[1])
    assert shop_state(db, settings) == before
    at = operator.request(bound.method, bound.at[0], **bound.at[1])

    error = assert_error(past, 400, "VALIDATION_ERROR")
    assert bound.field in [detail["field"] for detail in error["details"]], error
    # At the bound the request is taken, or refused for something else (an unknown order or product).
    if at.status_code >= 400:
        assert bound.field not in [detail["field"] for detail in at.json()["error"]["details"]], at.text
