"""`python -m api`: the API on uvicorn, at HOST:PORT (default 0.0.0.0:8000)."""

from __future__ import annotations

import signal
import sys

from api.app import create_app
from api.server import serve
from shared.config import ConfigError, load_settings
from shared.logging import configure_logging


def main() -> None:
    try:
        settings = load_settings()
    except ConfigError as exc:
        sys.exit(f"configuration error: {exc}")
    configure_logging(settings.log_level, settings.log_format)
    # uvicorn drains on SIGTERM/SIGINT, then raises the signal again to exit: once it has drained,
    # that is a graceful stop, so the process exits 0 (as the workers do) instead of 143.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: sys.exit(0))
    serve(create_app(settings), settings)


if __name__ == "__main__":
    main()
