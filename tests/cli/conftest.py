"""CLI tests: the `shopqueue` command group through click's CliRunner, on the test's migrated database."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import structlog
from click.testing import CliRunner, Result

from shared.cli import cli
from shared.cli.operator import Operator
from shared.config import Settings

Shopqueue = Callable[..., Result]


@pytest.fixture(autouse=True)
def quiet_logs() -> Iterator[None]:
    """The console script sends log lines to stderr (`shared.cli.main`, see test_installed); run in-process
    here, structlog's default would print them into the captured stdout, so they are dropped."""
    structlog.configure(logger_factory=structlog.ReturnLoggerFactory())
    yield
    structlog.reset_defaults()


@pytest.fixture
def shopqueue(settings: Settings) -> Shopqueue:
    """Run `shopqueue ARGS...` in-process against the test's database; returns click's Result."""

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(cli, list(args), obj=Operator(settings))

    return invoke


def ok(result: Result) -> str:
    """The command succeeded and wrote nothing on stderr; its stdout."""
    assert result.exit_code == 0, (result.output, result.exception)
    assert result.stderr == ""
    return result.stdout


def ok_json(result: Result) -> Any:
    return json.loads(ok(result))


def failed(result: Result, exit_code: int) -> str:
    """The command failed with this exit code, printed nothing on stdout; its stderr."""
    assert result.exit_code == exit_code, (result.output, result.exception)
    assert result.stdout == ""
    assert result.stderr.strip()
    return result.stderr
