"""The header limit on the real server (`python -m api`, uvicorn's h11 parser), over raw sockets so the
test decides how the bytes arrive: header fields over MAX_HEADER_BYTES get 431 in the error envelope
whether the app sees them or the parser refuses the head first, and a request that is not HTTP gets
400 in the envelope. SQLite only: all of it happens before any query."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.server import REQUEST_LINE_ROOM
from shared.config import Settings
from tests.support.processes import Service, running_api

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
LIMIT = 16 * 1024  # MAX_HEADER_BYTES by default


@pytest.fixture
def api(settings: Settings, tmp_path: Path) -> Iterator[Service]:
    assert settings.max_header_bytes == LIMIT
    with running_api(settings, tmp_path) as service:
        yield service


def port_of(api: Service) -> int:
    return int(api.base_url.rsplit(":", 1)[1])


def exchange(api: Service, pieces: list[bytes]) -> tuple[int, dict[str, str], bytes]:
    """Send `pieces` one by one (each its own segment, a pause between), then read the answer until the
    server closes the connection: (status, headers, body)."""
    with socket.create_connection(("127.0.0.1", port_of(api)), timeout=30) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for piece in pieces:
            sock.sendall(piece)
            time.sleep(0.002)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body


REQUEST_LINE = b"GET /products HTTP/1.1\r\n"
FIELDS = b"Host: shop\r\nConnection: close\r\n"


def request_head(*fields: bytes) -> bytes:
    return REQUEST_LINE + FIELDS + b"".join(fields)


def head_with_fields_of(size: int) -> bytes:
    """A request head (without its final CRLF) whose header fields are `size` bytes on the wire."""
    padding = size - len(FIELDS) - len(b"X-Padding: \r\n")
    return request_head(b"X-Padding: " + b"p" * padding + b"\r\n")


def envelope(body: bytes) -> dict[str, Any]:
    error: dict[str, Any] = json.loads(body)["error"]
    assert set(error) == {"code", "message", "details"}
    return error


def test_header_fields_up_to_the_limit_are_served(api: Service) -> None:
    status, _, _ = exchange(api, [head_with_fields_of(LIMIT) + b"\r\n"])

    assert status == 200


@pytest.mark.parametrize("in_pieces", [False, True], ids=["at-once", "in-pieces"])
def test_header_fields_past_the_limit_get_431_from_the_app(api: Service, in_pieces: bool) -> None:
    """Under the parser's bound, the head reaches the app whichever way it arrives; the app refuses it."""
    head = head_with_fields_of(LIMIT + 1) + b"\r\n"
    pieces = [head[start : start + 1024] for start in range(0, len(head), 1024)] if in_pieces else [head]

    status, headers, body = exchange(api, pieces)

    assert status == 431
    assert headers["content-type"] == "application/json"
    assert "x-request-id" in headers  # the app's own answer, through its middleware
    error = envelope(body)
    assert error["code"] == "HEADERS_TOO_LARGE"
    assert str(LIMIT) in error["message"]


def test_many_small_header_fields_add_up(api: Service) -> None:
    fields = [b"X-H%d: v\r\n" % n for n in range(LIMIT // 8)]

    status, _, body = exchange(api, [request_head(*fields) + b"\r\n"])

    assert status == 431
    assert envelope(body)["code"] == "HEADERS_TOO_LARGE"


def test_a_head_past_the_parsers_bound_gets_431_from_the_parser(api: Service) -> None:
    """Arriving slowly and never ending, the head trips the parser before the app could see it; the
    answer is the same 431 envelope, and the connection is closed."""
    bound = LIMIT + REQUEST_LINE_ROOM
    head = head_with_fields_of(bound)
    pieces = [head[start : start + 1024] for start in range(0, bound + 1, 1024)]  # ends just past the bound

    status, headers, body = exchange(api, pieces)

    assert status == 431
    assert headers["connection"] == "close"
    assert "x-request-id" not in headers  # the parser's answer: the app never saw the request
    assert envelope(body)["code"] == "HEADERS_TOO_LARGE"


def test_what_is_not_http_gets_400_in_the_envelope(api: Service) -> None:
    status, headers, body = exchange(api, [b"NOT HTTP AT ALL\r\n\r\n"])

    assert status == 400
    assert headers["content-type"] == "application/json"
    error = envelope(body)
    assert error["code"] == "VALIDATION_ERROR"
    assert error["message"].startswith("malformed HTTP")
