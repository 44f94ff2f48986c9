"""Schemathesis against the real API: `python -m api` (uvicorn) on a real migrated database holding a
busy shop (tests/fuzz/shop.py), driven by the OpenAPI document it serves at /schema/openapi.json.

Every documented operation gets schema-valid and schema-invalid requests (schemathesis's positive
and negative modes); some valid ones are pointed at things that exist, some carry a hostile string.
Properties of every response: no 5xx; status, content type and body as documented; every error in
the contract's envelope; invalid input refused; valid input refused only for reasons the document
cannot state; a refused request changes nothing; the X-Request-ID sent comes back (or a fresh one).
Without the admin token every admin route answers 401 and changes nothing; and bodies that are not
JSON at all (random or corrupted bytes) are refused in the envelope.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.specs.openapi.schemas import OpenApiSchema

from shared.config import Settings
from shared.db import Database
from shared.queue.loading import load_job_types
from tests.fuzz.properties import (
    error_envelope,
    refused_for_a_documented_reason,
    request_id_kept_or_replaced,
    shop_state,
)
from tests.fuzz.shop import PRODUCTS, KnownIds, stock_a_busy_shop
from tests.support.processes import Service, running_api

Operation = APIOperation[Any, Any, Any, Any]
TOKEN = "fuzz-admin-token"  # noqa: S105 - the test's own
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
# Examples per operation and generation mode: on SQLite 25 operations x 2 x 40 = 2,000 requests; on
# PostgreSQL half as many (the API is the same code; what differs is the store: text, NUL, time).
# FUZZ_EXAMPLES=500 FUZZ_RANDOM=1 makes a longer hunt with fresh inputs.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))
EXAMPLES_BY_BACKEND = {"sqlite": EXAMPLES, "postgres": max(EXAMPLES // 2, 1)}
SIDE_EXAMPLES = max(EXAMPLES // 4, 5)  # for the anonymous and raw-body runs
FUZZ_SETTINGS = settings(
    deadline=None,
    database=None,  # no example database: a run does not depend on earlier ones
    derandomize=os.environ.get("FUZZ_RANDOM") != "1",  # the same inputs on every CI run
    phases=[Phase.generate, Phase.shrink],  # shrinking only runs on a failure
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
SANE_IDS = st.from_regex(r"[A-Za-z0-9._:-]{1,128}", fullmatch=True)
ODD_IDS = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=200)
REQUEST_IDS = st.one_of(st.none(), SANE_IDS, ODD_IDS)
MOSTLY = (True, True, False)  # steer most valid cases, not all
SOMETIMES = (False, True)
HOSTILE = ["\x00", "a\x00b", "\u202e", "\ufeff", "'; DROP TABLE jobs; --", "%00", "\\", '"', "{}", "\u0085", "😀"]
# Not in a path: the client would resolve the dot segments and ask for another resource.
HOSTILE_OUTSIDE_PATHS = ["../../..", "/"]
WRONG_TOKENS = st.sampled_from([None, "", f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", TOKEN, f"Basic {TOKEN}"])


@dataclass
class Target:
    schema: OpenApiSchema
    api: Service
    db: Database
    sqlite_path: str | None
    known: KnownIds
    session: requests.Session
    sent: int = 0


@pytest.fixture
def target(settings: Settings, db: Database, tmp_path: Path) -> Iterator[Target]:
    job_types = tuple(load_job_types(settings.job_module_list()).names())
    known = stock_a_busy_shop(db, settings, job_types)
    with running_api(settings, tmp_path, ADMIN_TOKEN=TOKEN, LOG_LEVEL="WARNING") as api, requests.Session() as session:
        config = schemathesis.Config.from_dict(
            # Unknown query parameters are ignored, as most APIs do; the bearer token is ours to set.
            {"generation": {"allow-extra-parameters": False, "with-security-parameters": False}}
        )
        schema = schemathesis.openapi.from_url(api.base_url + "/schema/openapi.json", config=config)
        sqlite_path = settings.database_url.removeprefix("sqlite:///") if settings.is_sqlite else None
        yield Target(schema, api, db, sqlite_path, known, session)


Send = Callable[[st.SearchStrategy[Case[Any]], st.DataObject], None]


def fuzz_every_operation(operations: list[Operation], examples: int, send: Send, *, negative: bool = True) -> None:
    """Run `send` `examples` times for each operation, with a strategy of its cases (valid ones, and
    invalid ones unless told); fail with the first failure of every operation that has one."""
    modes = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE] if negative else [GenerationMode.POSITIVE]
    failures = []
    for operation in operations:
        cases = st.one_of(*(operation.as_strategy(mode) for mode in modes))
        try:
            hypothesis_test(cases, examples, send)()
        except (Exception, BaseExceptionGroup) as exc:
            failures.append(f"{operation.label}:\n{''.join(traceback.format_exception_only(exc))}")
    assert not failures, "\n\n".join(failures)


def hypothesis_test(cases: st.SearchStrategy[Case[Any]], examples: int, send: Send) -> Callable[[], None]:
    @settings(FUZZ_SETTINGS, max_examples=examples)
    @given(data=st.data())
    def fuzz(data: st.DataObject) -> None:
        send(cases, data)

    return fuzz


def all_operations(target: Target) -> list[Operation]:
    """Every operation of the document; one schemathesis cannot read fails the test."""
    operations = []
    for result in target.schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()
        operations.append(result.ok())
    return operations


def is_positive(case: Case[Any]) -> bool:
    return case.meta is not None and case.meta.generation.mode.is_positive


def operation_id(case: Case[Any]) -> str:
    return str(case.operation.definition.raw["operationId"])


def name_known_things(case: Case[Any], data: st.DataObject, known: KnownIds) -> None:
    """Point a valid request at what exists: ids in the path, real products, known job types."""
    for name in case.path_parameters or {}:
        case.path_parameters[name] = data.draw(st.sampled_from(known.for_parameter(name)))
    if operation_id(case) == "PlaceOrder" and isinstance(case.body, dict) and isinstance(case.body["items"], list):
        lines = case.body["items"][: len(PRODUCTS)]
        for line, product in zip(lines, data.draw(st.permutations(PRODUCTS)), strict=False):
            if isinstance(line, dict):
                line["productId"] = product
        case.body["items"] = lines
    elif operation_id(case) == "EnqueueJob" and isinstance(case.body, dict):
        case.body["type"], case.body["payload"] = data.draw(valid_jobs(known))


def valid_jobs(known: KnownIds) -> st.SearchStrategy[tuple[str, dict[str, Any]]]:
    """A known job type with a payload its schema accepts."""
    order = st.fixed_dictionaries({"orderId": st.sampled_from(known.orders)})
    email = st.fixed_dictionaries(
        {"to": st.just("ops@shop.test"), "subject": st.text(min_size=1, max_size=200)},
        optional={"body": st.text(max_size=100), "orderId": st.sampled_from(known.orders)},
    )
    return st.one_of(
        st.tuples(st.sampled_from(["send_order_confirmation", "generate_invoice", "sync_inventory"]), order),
        st.tuples(st.just("send_email"), email),
        st.tuples(st.just("daily_sales_report"), st.dates().map(lambda day: {"date": day.isoformat()})),
        st.tuples(
            st.just("cleanup_completed_jobs"),
            st.fixed_dictionaries({"olderThanDays": st.floats(0, 3650, allow_nan=False)}),
        ),
    )


def spoil_a_string(case: Case[Any], data: st.DataObject) -> bool:
    """Put a hostile string (NUL, bidi override, SQL, a path) in one string of the request, if it has any."""
    slots: list[tuple[Any, Any]] = [(case.path_parameters, name) for name in case.path_parameters or {}]
    in_path = len(slots)
    slots += [(case.query, name) for name, value in (case.query or {}).items() if isinstance(value, str)]
    pending = [case.body]
    while pending:
        node = pending.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, value in items:
            if isinstance(value, str):
                slots.append((node, key))
            pending.append(value)
    if not slots:
        return False
    slot = data.draw(st.integers(0, len(slots) - 1))
    container, key = slots[slot]
    container[key] = data.draw(st.sampled_from(HOSTILE if slot < in_path else HOSTILE + HOSTILE_OUTSIDE_PATHS))
    return True


def test_fuzz_with_the_admin_token(target: Target, backend: str) -> None:
    operations = all_operations(target)
    examples = EXAMPLES_BY_BACKEND[backend]
    with shop_state(target.db, target.sqlite_path) as state:

        def send(cases: st.SearchStrategy[Case[Any]], data: st.DataObject) -> None:
            case = data.draw(cases)
            spoiled = False
            if is_positive(case) and data.draw(st.sampled_from(MOSTLY)):
                name_known_things(case, data, target.known)
                spoiled = data.draw(st.sampled_from(SOMETIMES)) and spoil_a_string(case, data)
            request_id = data.draw(REQUEST_IDS)
            headers = {"Authorization": f"Bearer {TOKEN}"}
            if request_id is not None:
                headers["X-Request-ID"] = request_id
            before = state.read()
            response = case.call(base_url=target.api.base_url, session=target.session, headers=headers)
            target.sent += 1
            case.validate_response(response, checks=CHECKS)
            request_id_kept_or_replaced(request_id, response)
            if response.status_code < 400:
                return
            error = error_envelope(response)
            assert state.read() == before, f"a refused request changed the shop:\n{case.as_curl_command()}"
            if response.status_code == 400 and is_positive(case) and not spoiled:
                refused_for_a_documented_reason(case, error)

        fuzz_every_operation(operations, 2 * examples, send)
    assert target.sent >= 2 * examples * len(operations)  # 2,000 on SQLite


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_fuzz_without_the_admin_token(target: Target) -> None:
    """Any request to an admin operation, missing or with a wrong token, is 401 in the envelope and
    changes nothing, whatever else it holds. (SQLite only: the guard refuses before any query.)"""
    operations = [operation for operation in all_operations(target) if operation.path.startswith("/admin/")]
    assert len(operations) >= 20
    with shop_state(target.db, target.sqlite_path) as state:

        def send(cases: st.SearchStrategy[Case[Any]], data: st.DataObject) -> None:
            case = data.draw(cases)
            if is_positive(case) and data.draw(st.booleans()):
                name_known_things(case, data, target.known)
            authorization = data.draw(WRONG_TOKENS)
            headers = {} if authorization is None else {"Authorization": authorization}
            before = state.read()
            response = case.call(base_url=target.api.base_url, session=target.session, headers=headers)
            target.sent += 1
            assert response.status_code == 401, case.as_curl_command()
            assert error_envelope(response)["code"] == "UNAUTHORIZED"
            assert response.headers["www-authenticate"] == ['Bearer realm="shopqueue admin"']
            assert state.read() == before, case.as_curl_command()

        fuzz_every_operation(operations, 2 * SIDE_EXAMPLES, send)


def corrupted(body: bytes) -> st.SearchStrategy[bytes]:
    """`body` with a few random bytes written over, inserted or cut at one place."""
    return st.tuples(st.integers(0, len(body)), st.integers(0, 3), st.binary(max_size=4)).map(
        lambda edit: body[: edit[0]] + edit[2] + body[edit[0] + edit[1] :]
    )


def test_bodies_that_are_not_json_are_refused_in_the_envelope(target: Target) -> None:
    """Random bytes, and valid bodies with a few bytes corrupted (invalid UTF-8, broken escapes,
    cut-off documents), to every operation that takes a body: a 2xx or an enveloped 4xx, never a 5xx."""
    operations = [operation for operation in all_operations(target) if operation.body]
    assert len(operations) >= 8
    with shop_state(target.db, target.sqlite_path) as state:

        def send(cases: st.SearchStrategy[Case[Any]], data: st.DataObject) -> None:
            case = data.draw(cases)
            name_known_things(case, data, target.known)
            valid = msgspec.json.encode(case.body if isinstance(case.body, dict) else {})
            body = data.draw(st.one_of(st.binary(max_size=300), corrupted(valid)))
            url = target.api.base_url + case.formatted_path
            headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
            before = state.read()
            response = target.session.request(case.method, url, data=body, headers=headers, timeout=30)
            target.sent += 1
            assert response.status_code < 500, (body, response.text)
            if response.status_code >= 400:
                error_envelope(schemathesis.Response.from_any(response))
                assert state.read() == before, (case.operation.label, body)

        fuzz_every_operation(operations, SIDE_EXAMPLES, send, negative=False)
