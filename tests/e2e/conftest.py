"""End-to-end fixtures: the image is built once per session, each test module gets its own compose
project (`-p shopqueue-e2e-<random>`) with a free API port on 127.0.0.1, fast simulated services,
and is always torn down with `down -v --remove-orphans`. Without a Docker engine, everything here
is skipped with the reason.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
from collections.abc import Iterator

import pytest

from tests.e2e.bundle import (
    COMPOSE_FILE,
    ROOT,
    Bundle,
    ComposeError,
    docker_unavailable_reason,
    free_port,
    prune_untagged,
)

E2E_DIR = os.path.dirname(__file__)
# Compose variables from the caller's shell must not redirect the tests to another project or file.
_SCRUBBED = ("COMPOSE_PROJECT_NAME", "COMPOSE_FILE", "COMPOSE_PROFILES", "COMPOSE_PATH_SEPARATOR")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/e2e is an e2e test, so `-m "not e2e"` leaves all of it out."""
    for item in items:
        if str(item.path).startswith(E2E_DIR):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def docker_engine() -> None:
    reason = docker_unavailable_reason()
    if reason is None:
        return
    message = f"e2e tests need a Docker engine: {reason} (try ../shared/tools/docker-sandbox up)"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message)  # in CI a missing engine is a broken run, not a reason to skip
    pytest.skip(message)


def _base_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in _SCRUBBED}
    env["DOCKER_CLI_HINTS"] = "false"
    return env


@pytest.fixture(scope="session")
def shop_image(docker_engine: None) -> Iterator[str]:
    """Build the bundle's image from this tree once per session; yields its tag. What the rebuild
    left untagged (the previous build, intermediate stages) is pruned before and after."""
    command = ["docker", "compose", "-f", str(COMPOSE_FILE), "-p", "shopqueue-e2e-build", "build"]
    result = subprocess.run(
        command, cwd=ROOT, env=_base_env(), capture_output=True, text=True, timeout=900, check=False
    )
    if result.returncode != 0:
        pytest.fail(f"{' '.join(command)} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    prune_untagged()
    yield "shopqueue:local"
    prune_untagged()


@pytest.fixture(scope="module")
def bundle_env() -> dict[str, str]:
    """Settings a module's bundle runs with, on top of the defaults in `bundle`. A module overrides
    this fixture to change them (the compose file passes every setting through from the shell)."""
    return {}


@pytest.fixture(scope="module")
def bundle_database() -> str:
    """The database a module's bundle runs on: "sqlite" (docker-compose.yml alone) or "postgres"
    (with docker-compose.postgres.yml); a module overrides this fixture to choose."""
    return "sqlite"


@pytest.fixture(scope="module")
def bundle(
    shop_image: str, bundle_env: dict[str, str], bundle_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Bundle]:
    """A fresh compose project for this module; nothing started yet (call `bundle.up(...)`)."""
    name = f"shopqueue-e2e-{secrets.token_hex(4)}"
    port = free_port()
    admin_token = secrets.token_hex(16)
    env = _base_env()
    env.update(
        API_PORT=str(port),
        ADMIN_TOKEN=admin_token,
        SIMULATED_LATENCY_SCALE="0.05",
        SIMULATED_FAILURE_RATE="",
        LOG_FORMAT="json",
        LOG_LEVEL="INFO",
        # The shop's providers allow 60-120 calls a minute; hundreds of orders would take minutes.
        RATE_LIMITS="none",
    )
    env.update(bundle_env)
    project = Bundle(name=name, api_port=port, env=env, admin_token=admin_token, database=bundle_database)
    try:
        yield project
    finally:
        # Keep the logs for a post-mortem, then remove containers, network and volume whatever happened.
        log_file = tmp_path_factory.mktemp("e2e-logs") / f"{name}.log"
        with contextlib.suppress(ComposeError, subprocess.TimeoutExpired, OSError):
            log_file.write_text(project.logs())
        project.compose("down", "--volumes", "--remove-orphans", check=False, timeout=180)
