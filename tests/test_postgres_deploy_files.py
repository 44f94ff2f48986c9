"""Static checks of the PostgreSQL bundle: docker-compose.postgres.yml, docker/postgres.Dockerfile and
its entrypoint (no Docker needed; tests/e2e/test_postgres_bundle.py runs them for real).

As in test_deploy_files.py, every rule returns the problems it finds, the real files have none, and
each rule is shown to notice a break in a copy of the files.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.test_deploy_files import (
    _env,
    _mounts,
    _services,
    _set,
    _set_env,
    _sub,
    dockerfile_base_is_slim_bookworm,
    dockerfile_has_no_cache_mounts,
    dockerfile_has_no_syntax_directive,
    dockerfile_pulls_nothing_else,
    dockerfile_runs_as_non_root,
    instructions,
)

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "docker" / "postgres.Dockerfile"
ENTRYPOINT = ROOT / "docker" / "postgres-entrypoint.sh"
OVERRIDE = ROOT / "docker-compose.postgres.yml"
CLIENTS = ("migrate", "api", "worker")
PASSWORD = re.compile(r"^\$\{POSTGRES_PASSWORD:-([^}]+)\}$")

Compose = dict[str, Any]

# --- docker/postgres.Dockerfile ----------------------------------------------------------------------


def dockerfile_installs_debians_postgresql(dockerfile: str) -> list[str]:
    runs = " ".join(rest for keyword, rest in instructions(dockerfile) if keyword == "RUN")
    if not re.search(r"apt-get install [^&]*\bpostgresql\b(?![-\w])", runs):
        return ["no `apt-get install postgresql` (Debian's package)"]
    return []


def dockerfile_bakes_in_no_password(dockerfile: str) -> list[str]:
    return [
        f"{keyword} {rest} puts a password into the image"
        for keyword, rest in instructions(dockerfile)
        if keyword in {"ENV", "ARG", "LABEL"} and "PASSWORD" in rest.upper()
    ]


def dockerfile_stops_fast(dockerfile: str) -> list[str]:
    if ("STOPSIGNAL", "SIGINT") not in instructions(dockerfile):
        return ["no STOPSIGNAL SIGINT: SIGTERM waits for every client to disconnect"]
    return []


def entrypoint_initdbs_on_first_start_only(script: str) -> list[str]:
    first_start = re.search(r'if \[ ! -s "\$PGDATA/PG_VERSION" \]; then\n(.*?)\nfi\n', script, re.DOTALL)
    if first_start is None or "initdb " not in first_start[1]:
        return ["initdb does not run under a check for an existing cluster"]
    problems = []
    if ":'password'" not in first_start[1] or '--set=password="$POSTGRES_PASSWORD"' not in first_start[1]:
        problems.append("the role's password is not POSTGRES_PASSWORD passed as a quoted psql variable")
    if not re.search(r"^exec postgres ", script, re.MULTILINE):
        problems.append("the server is not exec'd (it would not get the stop signal)")
    return problems


def entrypoint_admits_the_network_with_a_password_only(script: str) -> list[str]:
    hba = re.search(r"<<'HBA'\n(.*?)\nHBA\n", script, re.DOTALL)
    if hba is None:
        return ["the entrypoint does not write pg_hba.conf"]
    problems = []
    for line in hba[1].splitlines():
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        if fields[0] == "local":
            continue
        if fields[0] != "host" or fields[3:] != ["samenet", "scram-sha-256"]:
            problems.append(f"pg_hba line {line!r} admits more than the compose network with a password")
    return problems


DOCKERFILE_RULES: list[Callable[[str], list[str]]] = [
    dockerfile_base_is_slim_bookworm,
    dockerfile_has_no_syntax_directive,
    dockerfile_has_no_cache_mounts,
    dockerfile_pulls_nothing_else,
    dockerfile_runs_as_non_root,
    dockerfile_installs_debians_postgresql,
    dockerfile_bakes_in_no_password,
    dockerfile_stops_fast,
]
ENTRYPOINT_RULES: list[Callable[[str], list[str]]] = [
    entrypoint_initdbs_on_first_start_only,
    entrypoint_admits_the_network_with_a_password_only,
]

# --- docker-compose.postgres.yml --------------------------------------------------------------------


def _postgres(doc: Compose) -> dict[str, Any]:
    service: dict[str, Any] = _services(doc).get("postgres") or {}
    return service


def override_builds_postgres_locally(doc: Compose) -> list[str]:
    service = _postgres(doc)
    problems = []
    if service.get("pull_policy") != "never" or not str(service.get("image", "")).endswith(":local"):
        problems.append("the postgres image is not a local tag with pull_policy never")
    build = service.get("build") or {}
    if (ROOT / str(build.get("context", "")) / str(build.get("dockerfile", ""))).resolve() != DOCKERFILE:
        problems.append(f"postgres is not built from {DOCKERFILE.relative_to(ROOT)}: {build}")
    return problems


def override_publishes_no_database_port(doc: Compose) -> list[str]:
    if _postgres(doc).get("ports"):
        return ["postgres publishes a port: the compose network alone must reach it"]
    return []


def override_keeps_data_on_a_named_volume(doc: Compose) -> list[str]:
    declared = set((doc.get("volumes") or {}).keys())
    sources = [source for source, target in _mounts(_postgres(doc)) if target == "/var/lib/postgresql/data"]
    if len(sources) != 1 or sources[0] not in declared:
        return [f"postgres data is not on one declared named volume: {sources}"]
    return []


def override_health_checks_postgres(doc: Compose) -> list[str]:
    test = (_postgres(doc).get("healthcheck") or {}).get("test") or []
    if not test or "pg_isready" not in test or "127.0.0.1" not in test:
        return [f"the postgres healthcheck is {test!r}, not pg_isready over TCP"]
    return []


def override_points_the_app_at_postgres(doc: Compose) -> list[str]:
    problems = []
    for name in CLIENTS:
        service = _services(doc).get(name) or {}
        env = _env(service)
        url = env.get("DATABASE_URL", "")
        if not url.startswith("postgresql+psycopg://") or re.search(r"://[^/@]*:[^/@]*@", url):
            problems.append(f"{name}: DATABASE_URL {url!r} is not a postgresql+psycopg:// URL without a password")
        if not PASSWORD.match(env.get("PGPASSWORD", "")):
            problems.append(f"{name}: PGPASSWORD is not taken from POSTGRES_PASSWORD")
        depends = (service.get("depends_on") or {}).get("postgres") or {}
        if depends.get("condition") != "service_healthy":
            problems.append(f"{name} does not wait for a healthy postgres")
    return problems


def override_password_has_the_documented_default(doc: Compose, env_example: str) -> list[str]:
    match = PASSWORD.match(_env(_postgres(doc)).get("POSTGRES_PASSWORD", ""))
    if match is None:
        return ["postgres: POSTGRES_PASSWORD does not come from the environment with a default"]
    if not re.search(rf"^# POSTGRES_PASSWORD={re.escape(match[1])}$", env_example, re.MULTILINE):
        return [f".env.example does not document POSTGRES_PASSWORD's default {match[1]!r}"]
    return []


OVERRIDE_RULES: list[Callable[[Compose], list[str]]] = [
    override_builds_postgres_locally,
    override_publishes_no_database_port,
    override_keeps_data_on_a_named_volume,
    override_health_checks_postgres,
    override_points_the_app_at_postgres,
]

# --- the real files ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dockerfile() -> str:
    return DOCKERFILE.read_text()


@pytest.fixture(scope="module")
def entrypoint() -> str:
    return ENTRYPOINT.read_text()


@pytest.fixture(scope="module")
def override() -> Compose:
    doc: Compose = yaml.safe_load(OVERRIDE.read_text())
    return doc


@pytest.fixture(scope="module")
def env_example() -> str:
    return (ROOT / ".env.example").read_text()


@pytest.mark.parametrize("rule", DOCKERFILE_RULES, ids=lambda rule: rule.__name__)
def test_dockerfile(rule: Callable[[str], list[str]], dockerfile: str) -> None:
    assert rule(dockerfile) == []


@pytest.mark.parametrize("rule", ENTRYPOINT_RULES, ids=lambda rule: rule.__name__)
def test_entrypoint(rule: Callable[[str], list[str]], entrypoint: str) -> None:
    assert rule(entrypoint) == []


def test_entrypoint_is_executable() -> None:
    assert ENTRYPOINT.stat().st_mode & 0o111 == 0o111
    assert ENTRYPOINT.read_text().startswith("#!/bin/sh\n")


@pytest.mark.parametrize("rule", OVERRIDE_RULES, ids=lambda rule: rule.__name__)
def test_override(rule: Callable[[Compose], list[str]], override: Compose) -> None:
    assert rule(override) == []


def test_override_password_has_the_documented_default(override: Compose, env_example: str) -> None:
    assert override_password_has_the_documented_default(override, env_example) == []
    assert (
        override_password_has_the_documented_default(override, env_example.replace("POSTGRES_PASSWORD=", "PW=")) != []
    )
    broken = copy.deepcopy(override)
    _set_env("postgres", "POSTGRES_PASSWORD", "hunter2")(broken)
    assert override_password_has_the_documented_default(broken, env_example) != []


# --- every rule can fail -------------------------------------------------------------------------------

TEXT_BREAKS: list[tuple[Callable[[str], list[str]], Callable[[str], str]]] = [
    (dockerfile_base_is_slim_bookworm, _sub(r"python:3\.11-slim-bookworm", "postgres:15")),
    (dockerfile_has_no_syntax_directive, lambda text: "# syntax=docker/dockerfile:1.7\n" + text),
    (dockerfile_has_no_cache_mounts, _sub(r"^RUN ", "RUN --mount=type=cache,target=/var/cache/apt ")),
    (dockerfile_pulls_nothing_else, lambda text: text + "COPY --from=postgres:15 /usr/lib/postgresql /x\n"),
    (dockerfile_runs_as_non_root, _sub(r"^USER .*$", "USER root")),
    (dockerfile_installs_debians_postgresql, _sub(r"--no-install-recommends postgresql", "--no-install-recommends")),
    (dockerfile_bakes_in_no_password, lambda text: text + "ENV POSTGRES_PASSWORD=shopqueue\n"),
    (dockerfile_stops_fast, _sub(r"^STOPSIGNAL SIGINT$", "STOPSIGNAL SIGTERM")),
    (entrypoint_initdbs_on_first_start_only, _sub(r'if \[ ! -s "\$PGDATA/PG_VERSION" \]; then', "if true; then")),
    (entrypoint_initdbs_on_first_start_only, _sub(r":'password'", "'shopqueue'")),
    (entrypoint_initdbs_on_first_start_only, _sub(r"^exec postgres ", "postgres ")),
    (entrypoint_admits_the_network_with_a_password_only, _sub(r"samenet  scram-sha-256", "0.0.0.0/0 trust")),
    (entrypoint_admits_the_network_with_a_password_only, _sub(r"samenet  scram-sha-256", "all  scram-sha-256")),
]


@pytest.mark.parametrize(("rule", "mutate"), TEXT_BREAKS, ids=lambda x: getattr(x, "__name__", ""))
def test_text_rule_notices_a_break(
    rule: Callable[[str], list[str]], mutate: Callable[[str], str], dockerfile: str, entrypoint: str
) -> None:
    text = entrypoint if rule in ENTRYPOINT_RULES else dockerfile
    assert rule(mutate(text)) != []


OVERRIDE_BREAKS: list[tuple[Callable[[Compose], list[str]], Callable[[Compose], None]]] = [
    (override_builds_postgres_locally, _set("postgres", "pull_policy", "always")),
    (override_builds_postgres_locally, _set("postgres", "build", {"context": "."})),
    (override_publishes_no_database_port, _set("postgres", "ports", ["5432:5432"])),
    (override_keeps_data_on_a_named_volume, _set("postgres", "volumes", ["./pg:/var/lib/postgresql/data"])),
    (override_health_checks_postgres, _set("postgres", "healthcheck", {"test": ["CMD", "true"]})),
    (override_points_the_app_at_postgres, _set_env("worker", "DATABASE_URL", "sqlite:////data/shop.db")),
    (
        override_points_the_app_at_postgres,
        _set_env("api", "DATABASE_URL", "postgresql+psycopg://shopqueue:pw@postgres:5432/shopqueue"),
    ),
    (override_points_the_app_at_postgres, _set_env("migrate", "PGPASSWORD", "shopqueue")),
    (override_points_the_app_at_postgres, _set("api", "depends_on", {})),
]


@pytest.mark.parametrize(("rule", "mutate"), OVERRIDE_BREAKS, ids=lambda x: getattr(x, "__name__", ""))
def test_override_rule_notices_a_break(
    rule: Callable[[Compose], list[str]], mutate: Callable[[Compose], None], override: Compose
) -> None:
    broken = copy.deepcopy(override)
    mutate(broken)
    assert rule(broken) != []


def test_every_rule_has_a_break() -> None:
    broken = {rule for rule, _ in TEXT_BREAKS} | {rule for rule, _ in OVERRIDE_BREAKS}
    assert set(DOCKERFILE_RULES) | set(ENTRYPOINT_RULES) | set(OVERRIDE_RULES) <= broken
