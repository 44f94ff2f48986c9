"""How `python -m api` runs the app on uvicorn: its h11 parser, with a bounded request head.

uvicorn's h11 parser refuses a request head (request line and headers) that it has buffered past
`h11_max_incomplete_event_size` while waiting for the rest, and answers any parse error with a
plain-text 400. The app itself refuses header fields over MAX_HEADER_BYTES with 431 in the error
envelope (api/limits.py), but only sees heads that reached it: whether a big head trips the parser
depends on how its bytes arrive. So the parser's bound is set above the app's (room for a long
request line) and a head refused for its size gets the same 431 envelope from the parser. Every
header block over the limit is answered 431, however it arrives; the connection is then closed.
The protocol is named explicitly, so an installed httptools (which uvicorn would prefer, with other
limits and plain-text errors) changes nothing.
"""

from __future__ import annotations

from http import HTTPStatus

import h11
import uvicorn
from litestar import Litestar
from uvicorn.protocols.http.h11_impl import H11Protocol

from api.limits import error_body, headers_too_large_body
from shared.config import Settings

REQUEST_LINE_ROOM = 16 * 1024  # a request head may exceed MAX_HEADER_BYTES by this much in the parser


class BoundedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, answering what its parser refuses in the error envelope: 431 for a
    request head over the parser's bound, 400 for any other malformed request (a NUL in a header,
    a bad request line), where uvicorn answers plain text."""

    def send_400_response(self, msg: str) -> None:
        limit = self.config.h11_max_incomplete_event_size
        buffered, _ = self.conn.trailing_data
        if limit is not None and len(buffered) > limit:
            status, body = HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, headers_too_large_body(limit)
        else:
            status, body = HTTPStatus.BAD_REQUEST, error_body(HTTPStatus.BAD_REQUEST, f"malformed HTTP: {msg}")
        headers = [(b"content-type", b"application/json"), (b"connection", b"close")]
        for event in (h11.Response(status_code=status, headers=headers, reason=status.phrase), h11.Data(data=body)):
            self.transport.write(self.conn.send(event) or b"")
        self.transport.write(self.conn.send(h11.EndOfMessage()) or b"")
        self.transport.close()


def serve(app: Litestar, settings: Settings) -> None:
    # log_config=None: uvicorn's loggers propagate to the handlers configured by shared.logging;
    # access lines come from api.middleware, with fields.
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        http=BoundedH11Protocol,
        h11_max_incomplete_event_size=settings.max_header_bytes + REQUEST_LINE_ROOM,
    )
