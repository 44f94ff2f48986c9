"""`python -m api`: the API on uvicorn, at HOST:PORT (default 0.0.0.0:8000)."""

from __future__ import annotations

import sys

import uvicorn

from api.app import create_app
from shared.config import ConfigError, load_settings
from shared.logging import configure_logging


def main() -> None:
    try:
        settings = load_settings()
    except ConfigError as exc:
        sys.exit(f"configuration error: {exc}")
    configure_logging(settings.log_level, settings.log_format)
    # log_config=None: uvicorn's loggers propagate to the handlers configured above.
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None)


if __name__ == "__main__":
    main()
