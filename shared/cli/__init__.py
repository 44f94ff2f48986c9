"""`shopqueue`: the operator's command line (console script `shared.cli:main`)."""

from __future__ import annotations

from shared.cli.app import cli
from shared.logging import configure_logging

__all__ = ["cli", "main"]


def main() -> None:
    # Log lines (a cron run logs one) go to stderr and only from WARNING up: stdout is the command's.
    configure_logging("WARNING")
    cli(prog_name="shopqueue")
