"""Static checks of the deployment bundle (no Docker needed).

Each rule is a small function that returns the problems it finds. The real files must have none,
and for every rule a test breaks a copy of the files in one way and checks that the rule notices,
so no assertion here can pass vacuously.
"""

from __future__ import annotations

import copy
import os
import re
import shlex
import subprocess
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.config import Settings

ROOT = Path(__file__).resolve().parents[1]
BASE_IMAGE = "python:3.11-slim-bookworm"
DB_URL = "sqlite:////data/shop.db"
APP_SERVICES = ("migrate", "api", "worker")
# The test tools from the hash-checked lock, then the project itself without resolving anything more.
TEST_COMMAND = (
    "python3 -m venv .venv"
    " && .venv/bin/python -m pip install --require-hashes -r requirements/test.lock"
    " && .venv/bin/python -m pip install --no-deps --no-build-isolation -e ."
    " && .venv/bin/python -m pytest"
)
SETTINGS = [name.upper() for name in Settings.__struct_fields__]

Compose = dict[str, Any]

# --- Dockerfile ------------------------------------------------------------------------------------


def instructions(dockerfile: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n", " ", dockerfile)
    result = []
    for line in joined.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            keyword, _, rest = stripped.partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


def final_stage(dockerfile: str) -> list[tuple[str, str]]:
    steps = instructions(dockerfile)
    last_from = max(i for i, (keyword, _) in enumerate(steps) if keyword == "FROM")
    return steps[last_from:]


def _resolve_base(dockerfile: str, reference: str) -> str:
    args = {}
    for keyword, rest in instructions(dockerfile):
        if keyword == "ARG" and "=" in rest:
            name, _, value = rest.partition("=")
            args[name.strip()] = value.strip()
    return re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m[1], m[0]), reference)


def dockerfile_base_is_slim_bookworm(dockerfile: str) -> list[str]:
    steps = instructions(dockerfile)
    stages = {rest.split()[-1] for kw, rest in steps if kw == "FROM" and " AS " in rest.upper()}
    problems = []
    froms = [rest.split()[0] for kw, rest in steps if kw == "FROM"]
    if not froms:
        return ["no FROM"]
    for reference in froms:
        image = _resolve_base(dockerfile, reference)
        if image != BASE_IMAGE and image not in stages:
            problems.append(f"FROM {reference} resolves to {image}, not {BASE_IMAGE}")
    return problems


def dockerfile_has_no_syntax_directive(dockerfile: str) -> list[str]:
    if re.search(r"^#\s*syntax\s*=", dockerfile, re.IGNORECASE | re.MULTILINE):
        return ["a `# syntax=` directive makes BuildKit pull a frontend image"]
    return []


def dockerfile_has_no_cache_mounts(dockerfile: str) -> list[str]:
    if "--mount=type=cache" in dockerfile:
        return ["--mount=type=cache fails with the legacy builder (plain `docker build`)"]
    return []


def dockerfile_pulls_nothing_else(dockerfile: str) -> list[str]:
    problems = []
    for keyword, rest in instructions(dockerfile):
        match = re.search(r"--from=(\S+)", rest)
        if keyword == "COPY" and match and ("/" in match[1] or ":" in match[1]):
            problems.append(f"COPY --from={match[1]} pulls an image")
    return problems


def dockerfile_runs_as_non_root(dockerfile: str) -> list[str]:
    users = [rest for kw, rest in final_stage(dockerfile) if kw == "USER"]
    if not users:
        return ["the runtime stage has no USER"]
    user = users[-1].split(":")[0]
    if user in {"root", "0"}:
        return [f"the runtime stage runs as {users[-1]}"]
    return []


def dockerfile_chowns_data_before_user(dockerfile: str) -> list[str]:
    stage = final_stage(dockerfile)
    user_at = next((i for i, (kw, _) in enumerate(stage) if kw == "USER"), len(stage))
    before = [rest for kw, rest in stage[:user_at] if kw == "RUN"]
    if not any("chown" in run and "/data" in run for run in before):
        return ["/data is not created and chowned before USER"]
    return []


def dockerfile_cmd_is_exec_form_api(dockerfile: str) -> list[str]:
    cmds = [rest for kw, rest in final_stage(dockerfile) if kw == "CMD"]
    if not cmds:
        return ["no CMD"]
    if cmds[-1].replace(" ", "") != '["python","-m","api"]':
        return [f"CMD {cmds[-1]} is not the exec form of `python -m api`"]
    return []


def dockerfile_runtime_settings(dockerfile: str) -> list[str]:
    stage = final_stage(dockerfile)
    env = " ".join(rest for kw, rest in stage if kw == "ENV")
    problems = [
        f"ENV lacks {item}"
        for item in (f"DATABASE_URL={DB_URL}", "DATA_DIR=/data", "PYTHONUNBUFFERED=1", "PATH=/opt/venv/bin:")
        if item not in env
    ]
    if ("EXPOSE", "8000") not in stage:
        problems.append("no EXPOSE 8000")
    if ("STOPSIGNAL", "SIGTERM") not in stage:
        problems.append("no STOPSIGNAL SIGTERM")
    if ("WORKDIR", "/app") not in stage:
        problems.append("no WORKDIR /app")
    return problems


def _copy_sources(arguments: str) -> list[str]:
    words = [word for word in arguments.split() if not word.startswith("--")]
    return words[:-1]


def dockerfile_dependency_layer_before_code(dockerfile: str) -> list[str]:
    """pip installs the hash-locked runtime dependencies, and nothing else, before any code is copied."""
    steps = instructions(dockerfile)
    installs = [i for i, (kw, rest) in enumerate(steps) if kw == "RUN" and "pip install" in rest]
    if not installs:
        return ["no pip install"]
    problems = []
    if not any(kw == "COPY" and "requirements/runtime.lock" in rest for kw, rest in steps[: installs[0]]):
        problems.append("requirements/runtime.lock is not copied before the install")
    for i in installs:
        if not all(flag in steps[i][1] for flag in ("--require-hashes", "--no-deps", "runtime.lock")):
            problems.append(f"pip install is not `--require-hashes --no-deps -r ...runtime.lock`: {steps[i][1]}")
    code = {".", "api", "worker", "shared", "migrations"}
    code_copies = [
        i
        for i, (kw, rest) in enumerate(steps)
        if kw == "COPY" and code & {source.rstrip("/") or "." for source in _copy_sources(rest)}
    ]
    if code_copies and min(code_copies) < max(installs):
        problems.append("code is copied before the dependencies are installed")
    for i in installs:
        if "--no-cache-dir" not in steps[i][1]:
            problems.append("pip install without --no-cache-dir")
    return problems


def dockerfile_writes_the_console_scripts(dockerfile: str) -> list[str]:
    """Each [project.scripts] entry exists in the image's venv, calling the same function."""
    scripts: dict[str, str] = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    runs = " ".join(rest for kw, rest in final_stage(dockerfile) if kw == "RUN")
    problems = []
    for name, target in scripts.items():
        module, _, function = target.partition(":")
        if f"/opt/venv/bin/{name}" not in runs or f"from {module} import {function}" not in runs:
            problems.append(f"the runtime stage does not write /opt/venv/bin/{name} calling {target}")
    return problems


DOCKERFILE_RULES: list[Callable[[str], list[str]]] = [
    dockerfile_base_is_slim_bookworm,
    dockerfile_has_no_syntax_directive,
    dockerfile_has_no_cache_mounts,
    dockerfile_pulls_nothing_else,
    dockerfile_runs_as_non_root,
    dockerfile_chowns_data_before_user,
    dockerfile_cmd_is_exec_form_api,
    dockerfile_runtime_settings,
    dockerfile_dependency_layer_before_code,
    dockerfile_writes_the_console_scripts,
]

# --- docker-compose.yml ----------------------------------------------------------------------------


def _env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.partition("=")[::2] for item in env)
    return {key: str(value) for key, value in env.items()}


def _mounts(service: dict[str, Any]) -> list[tuple[str, str]]:
    result = []
    for volume in service.get("volumes") or []:
        if isinstance(volume, str):
            source, _, rest = volume.partition(":")
            result.append((source, rest.split(":")[0]))
        else:
            result.append((str(volume.get("source")), str(volume.get("target"))))
    return result


def _services(doc: Compose) -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = doc.get("services") or {}
    return services


def compose_has_the_three_services(doc: Compose) -> list[str]:
    return [f"no `{name}` service" for name in APP_SERVICES if name not in _services(doc)]


def compose_one_local_image(doc: Compose) -> list[str]:
    services = _services(doc)
    problems = []
    images = {services.get(name, {}).get("image") for name in APP_SERVICES}
    if len(images) != 1 or None in images:
        problems.append(f"the app services do not share one image tag: {images}")
    for name in APP_SERVICES:
        if services.get(name, {}).get("pull_policy") != "never":
            problems.append(f"{name}: pull_policy is not `never`")
    builders = [name for name in APP_SERVICES if "build" in services.get(name, {})]
    if len(builders) != 1:
        problems.append(f"exactly one service should build the image, not {builders}")
    return problems


def compose_migrate_runs_alembic_once(doc: Compose) -> list[str]:
    migrate = _services(doc).get("migrate", {})
    problems = []
    if migrate.get("command") != ["alembic", "upgrade", "head"]:
        problems.append(f"migrate runs {migrate.get('command')!r}, not alembic upgrade head")
    if migrate.get("restart") != "no":  # an unquoted `no` is YAML's false, which compose refuses
        problems.append(f"migrate restart is {migrate.get('restart')!r}, not the string 'no'")
    return problems


def compose_app_waits_for_migrate(doc: Compose) -> list[str]:
    problems = []
    for name in ("api", "worker"):
        depends = _services(doc).get(name, {}).get("depends_on") or {}
        condition = depends.get("migrate", {}).get("condition") if isinstance(depends, dict) else None
        if condition != "service_completed_successfully":
            problems.append(f"{name} does not wait for migrate to complete successfully")
    return problems


def compose_one_named_volume_at_data(doc: Compose) -> list[str]:
    declared = set((doc.get("volumes") or {}).keys())
    problems = []
    sources = set()
    for name in APP_SERVICES:
        at_data = [source for source, target in _mounts(_services(doc).get(name, {})) if target == "/data"]
        if len(at_data) != 1:
            problems.append(f"{name} mounts {len(at_data)} volumes at /data")
        sources.update(at_data)
    if len(sources) != 1 or not sources <= declared:
        problems.append(f"the services must share one declared named volume at /data, got {sources}")
    return problems


def compose_database_url_on_volume(doc: Compose) -> list[str]:
    return [
        f"{name}: DATABASE_URL is {_env(_services(doc).get(name, {})).get('DATABASE_URL')!r}"
        for name in APP_SERVICES
        if _env(_services(doc).get(name, {})).get("DATABASE_URL") != DB_URL
    ]


def compose_init_everywhere(doc: Compose) -> list[str]:
    return [
        f"{name}: init is not true" for name in APP_SERVICES if _services(doc).get(name, {}).get("init") is not True
    ]


def _seconds(duration: object) -> float:
    total = 0.0
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", str(duration)):
        total += float(number) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]
    return total


def compose_worker_is_scalable(doc: Compose) -> list[str]:
    services = _services(doc)
    worker = services.get("worker", {})
    problems = [
        f"{name} has a container_name (blocks --scale)" for name, s in services.items() if "container_name" in s
    ]
    if worker.get("ports"):
        problems.append("the worker publishes ports (blocks --scale)")
    if worker.get("command") != ["python", "-m", "worker"]:
        problems.append(f"worker runs {worker.get('command')!r}")
    if "WORKER_ID" in _env(worker):
        problems.append("WORKER_ID is set: every scaled worker would share it")
    grace = Settings().shutdown_grace_seconds
    if _seconds(worker.get("stop_grace_period")) <= grace:
        problems.append(f"worker stop_grace_period {worker.get('stop_grace_period')!r} is not above {grace}s")
    return problems


def _with_defaults(value: str) -> str:
    """Interpolate `${VAR:-default}` the way compose does with VAR unset."""
    return re.sub(r"\$\{\w+(?::?-([^}]*))?\}", lambda m: m[1] or "", value)


def compose_api_port_on_loopback(doc: Compose) -> list[str]:
    ports = _services(doc).get("api", {}).get("ports") or []
    if not ports:
        return ["the api publishes no port"]
    problems = []
    for port in ports:
        if isinstance(port, dict):
            host_ip, target = port.get("host_ip"), str(port.get("target"))
        else:
            parts = _with_defaults(str(port)).split(":")
            host_ip, target = (parts[0] if len(parts) == 3 else None), parts[-1]
        if host_ip != "127.0.0.1" or target != "8000":
            problems.append(f"api port {port!r} is not 127.0.0.1:...:8000")
    return problems


def compose_healthchecks(doc: Compose) -> list[str]:
    services = _services(doc)
    problems = []
    api_test = " ".join(map(str, (services.get("api", {}).get("healthcheck") or {}).get("test") or []))
    if "/health" not in api_test or "python" not in api_test:
        problems.append(f"api healthcheck {api_test!r} does not request /health with python")
    worker_test = (services.get("worker", {}).get("healthcheck") or {}).get("test")
    if worker_test != ["CMD", "python", "-m", "worker.healthcheck"]:
        problems.append(f"worker healthcheck is {worker_test!r}")
    return problems


def compose_passes_log_format_json(doc: Compose) -> list[str]:
    return [
        f"{name}: LOG_FORMAT is not overridable with default json"
        for name in APP_SERVICES
        if _env(_services(doc).get(name, {})).get("LOG_FORMAT") != "${LOG_FORMAT:-json}"
    ]


def compose_hardened(doc: Compose) -> list[str]:
    """Read-only root filesystem with an in-memory /tmp, no capabilities, no privilege escalation."""
    problems = []
    for name in APP_SERVICES:
        service = _services(doc).get(name, {})
        if service.get("read_only") is not True:
            problems.append(f"{name}: the root filesystem is not read_only")
        if "/tmp" not in (service.get("tmpfs") or []):
            problems.append(f"{name}: no tmpfs at /tmp")
        if service.get("cap_drop") != ["ALL"]:
            problems.append(f"{name}: cap_drop is {service.get('cap_drop')!r}, not [ALL]")
        if service.get("cap_add"):
            problems.append(f"{name}: adds capabilities {service['cap_add']!r}")
        if "no-new-privileges:true" not in (service.get("security_opt") or []):
            problems.append(f"{name}: no-new-privileges is not set")
    return problems


COMPOSE_RULES: list[Callable[[Compose], list[str]]] = [
    compose_has_the_three_services,
    compose_one_local_image,
    compose_migrate_runs_alembic_once,
    compose_app_waits_for_migrate,
    compose_one_named_volume_at_data,
    compose_database_url_on_volume,
    compose_init_everywhere,
    compose_worker_is_scalable,
    compose_api_port_on_loopback,
    compose_healthchecks,
    compose_passes_log_format_json,
    compose_hardened,
]

# --- .env.example, README, .ci/run -----------------------------------------------------------------


def env_example_lists_every_setting(text: str) -> list[str]:
    return [f".env.example lacks {name}" for name in SETTINGS if not re.search(rf"^#?\s*{name}=", text, re.MULTILINE)]


def readme_documents_every_setting(text: str) -> list[str]:
    return [f"README settings table lacks {name}" for name in SETTINGS if f"| `{name}` |" not in text]


def readme_test_command(text: str) -> str | None:
    """The command in the fenced block after `<!-- ci:test-command -->` (what .ci/run executes)."""
    match = re.search(r"<!-- ci:test-command -->\s*```[a-z]*\n(.+?)\n", text)
    return match[1].strip() if match else None


# --- the real files --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


@pytest.fixture(scope="module")
def compose() -> Compose:
    doc: Compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return doc


@pytest.mark.parametrize("rule", DOCKERFILE_RULES, ids=lambda rule: rule.__name__)
def test_dockerfile(rule: Callable[[str], list[str]], dockerfile: str) -> None:
    assert rule(dockerfile) == []


@pytest.mark.parametrize("rule", COMPOSE_RULES, ids=lambda rule: rule.__name__)
def test_compose(rule: Callable[[Compose], list[str]], compose: Compose) -> None:
    assert rule(compose) == []


def test_env_example_lists_every_setting_with_its_default() -> None:
    text = (ROOT / ".env.example").read_text()
    assert env_example_lists_every_setting(text) == []
    for name, default in zip(Settings.__struct_fields__, Settings.__struct_defaults__, strict=True):
        value = "" if default is None else str(default)
        assert re.search(rf"^#?\s*{name.upper()}={re.escape(value)}$", text, re.MULTILINE), name


def test_readme_documents_every_setting() -> None:
    assert readme_documents_every_setting((ROOT / "README.md").read_text()) == []


def test_readme_test_command_is_the_one_ci_runs() -> None:
    assert readme_test_command((ROOT / "README.md").read_text()) == TEST_COMMAND
    assert "ci:test-command" in (ROOT / ".ci/run").read_text()


def test_ci_run_is_an_executable_strict_bash_script() -> None:
    script = ROOT / ".ci/run"
    text = script.read_text()
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in text
    assert os.access(script, os.X_OK)
    staged = subprocess.run(
        ["git", "ls-files", "-s", ".ci/run"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout
    if staged:  # outside a git checkout (e.g. an sdist) there is no index to ask
        assert staged.startswith("100755 "), staged


def test_ci_run_extracts_the_readme_command(tmp_path: Path) -> None:
    """The awk program in .ci/run finds exactly the README's command."""
    text = (ROOT / ".ci/run").read_text()
    awk = re.search(r"TEST_COMMAND=\$\(awk '(.+?)' README\.md\)", text, re.DOTALL)
    assert awk is not None
    result = subprocess.run(["awk", awk[1], str(ROOT / "README.md")], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == TEST_COMMAND
    # The virtual environment is part of the command: it works where the system Python refuses
    # global installs (PEP 668).
    assert shlex.split(result.stdout)[:4] == ["python3", "-m", "venv", ".venv"]


# --- every rule can fail ---------------------------------------------------------------------------


def _sub(pattern: str, replacement: str) -> Callable[[str], str]:
    def mutate(text: str) -> str:
        changed = re.sub(pattern, replacement, text, flags=re.MULTILINE)
        assert changed != text, f"mutation {pattern!r} did not apply"
        return changed

    return mutate


DOCKERFILE_BREAKS: list[tuple[Callable[[str], list[str]], Callable[[str], str]]] = [
    (dockerfile_base_is_slim_bookworm, _sub(r"python:3\.11-slim-bookworm", "python:3.12-slim")),
    (dockerfile_has_no_syntax_directive, lambda text: "# syntax=docker/dockerfile:1.7\n" + text),
    (dockerfile_has_no_cache_mounts, _sub(r"^RUN (.*pip install)", r"RUN --mount=type=cache,target=/root/.cache \1")),
    (dockerfile_pulls_nothing_else, lambda text: text + "COPY --from=ghcr.io/astral-sh/uv:latest /uv /bin/uv\n"),
    (dockerfile_runs_as_non_root, _sub(r"^USER .*$", "USER root")),
    (dockerfile_runs_as_non_root, _sub(r"^USER .*$\n", "")),
    (dockerfile_chowns_data_before_user, _sub(r"chown [^\n\\]*/data", "true")),
    (dockerfile_cmd_is_exec_form_api, _sub(r"^CMD .*$", "CMD python -m api")),
    (dockerfile_runtime_settings, _sub(r"^STOPSIGNAL .*$", "")),
    (dockerfile_runtime_settings, _sub(r"sqlite:////data/shop\.db", "sqlite:///shop.db")),
    (dockerfile_dependency_layer_before_code, _sub(r"--no-cache-dir ", "")),
    (
        dockerfile_dependency_layer_before_code,
        lambda text: text.replace("FROM ${PYTHON_IMAGE} AS build\n", "FROM ${PYTHON_IMAGE} AS build\nCOPY . /src\n"),
    ),
    (dockerfile_dependency_layer_before_code, _sub(r"--require-hashes ", "")),
    (
        dockerfile_dependency_layer_before_code,
        _sub(r"^COPY requirements/runtime\.lock .*$", "COPY pyproject.toml /opt/"),
    ),
    (dockerfile_writes_the_console_scripts, _sub(r"from shared\.cli import main", "from shared.cli import cli")),
]


@pytest.mark.parametrize(("rule", "mutate"), DOCKERFILE_BREAKS, ids=lambda x: getattr(x, "__name__", ""))
def test_dockerfile_rule_notices_a_break(
    rule: Callable[[str], list[str]], mutate: Callable[[str], str], dockerfile: str
) -> None:
    assert rule(mutate(dockerfile)) != []


def _set(service: str, key: str, value: object) -> Callable[[Compose], None]:
    def mutate(doc: Compose) -> None:
        doc["services"][service][key] = value

    return mutate


def _drop(service: str, key: str) -> Callable[[Compose], None]:
    def mutate(doc: Compose) -> None:
        del doc["services"][service][key]

    return mutate


def _set_env(service: str, name: str, value: str) -> Callable[[Compose], None]:
    def mutate(doc: Compose) -> None:
        doc["services"][service]["environment"] = {**_env(doc["services"][service]), name: value}

    return mutate


def _drop_service(name: str) -> Callable[[Compose], None]:
    def mutate(doc: Compose) -> None:
        del doc["services"][name]

    return mutate


COMPOSE_BREAKS: list[tuple[Callable[[Compose], list[str]], Callable[[Compose], None]]] = [
    (compose_has_the_three_services, _drop_service("migrate")),
    (compose_one_local_image, _set("worker", "image", "shopqueue:other")),
    (compose_one_local_image, _drop("api", "pull_policy")),
    (compose_one_local_image, _set("api", "build", ".")),
    (compose_migrate_runs_alembic_once, _set("migrate", "command", ["alembic", "upgrade", "+1"])),
    (compose_migrate_runs_alembic_once, _set("migrate", "restart", False)),
    (compose_app_waits_for_migrate, _set("worker", "depends_on", {"migrate": {"condition": "service_started"}})),
    (compose_app_waits_for_migrate, _set("api", "depends_on", ["migrate"])),
    (compose_one_named_volume_at_data, _set("worker", "volumes", ["other:/data"])),
    (compose_one_named_volume_at_data, _drop("api", "volumes")),
    (compose_database_url_on_volume, _set_env("api", "DATABASE_URL", "sqlite:///shop.db")),
    (compose_init_everywhere, _drop("migrate", "init")),
    (compose_worker_is_scalable, _set("worker", "container_name", "worker")),
    (compose_worker_is_scalable, _set("api", "container_name", "api")),
    (compose_worker_is_scalable, _set("worker", "ports", ["9000:9000"])),
    (compose_worker_is_scalable, _drop("worker", "stop_grace_period")),
    (compose_worker_is_scalable, _set("worker", "stop_grace_period", "20s")),
    (compose_worker_is_scalable, _set_env("worker", "WORKER_ID", "w1")),
    (compose_api_port_on_loopback, _set("api", "ports", ["8000:8000"])),
    (compose_api_port_on_loopback, _drop("api", "ports")),
    (compose_healthchecks, _drop("api", "healthcheck")),
    (compose_healthchecks, _drop("worker", "healthcheck")),
    (compose_passes_log_format_json, _set_env("worker", "LOG_FORMAT", "console")),
    (compose_hardened, _set("migrate", "read_only", False)),
    (compose_hardened, _drop("worker", "tmpfs")),
    (compose_hardened, _set("api", "cap_add", ["NET_BIND_SERVICE"])),
    (compose_hardened, _drop("api", "cap_drop")),
    (compose_hardened, _set("worker", "security_opt", [])),
]


@pytest.mark.parametrize(("rule", "mutate"), COMPOSE_BREAKS, ids=lambda x: getattr(x, "__name__", ""))
def test_compose_rule_notices_a_break(
    rule: Callable[[Compose], list[str]], mutate: Callable[[Compose], None], compose: Compose
) -> None:
    broken = copy.deepcopy(compose)
    mutate(broken)
    assert rule(broken) != []


def test_every_rule_has_a_break() -> None:
    broken_rules = {rule for rule, _ in DOCKERFILE_BREAKS} | {rule for rule, _ in COMPOSE_BREAKS}
    assert set(DOCKERFILE_RULES) | set(COMPOSE_RULES) <= broken_rules


def test_text_rules_notice_a_break() -> None:
    env_text = (ROOT / ".env.example").read_text()
    readme = (ROOT / "README.md").read_text()
    assert env_example_lists_every_setting(env_text.replace("WORKER_ID=", "WORKER_NAME=")) != []
    assert readme_documents_every_setting(readme.replace("| `WORKER_ID` |", "| WORKER_ID |")) != []
    assert readme_test_command(readme.replace("<!-- ci:test-command -->", "")) is None


# Left out of the compose file on purpose (it says why): each scaled worker makes its own id, and
# the API listens on 0.0.0.0:8000 inside its container (API_PORT publishes it).
NOT_IN_COMPOSE = {"HOST", "PORT", "WORKER_ID"}


@pytest.mark.parametrize("name", [field.upper() for field in Settings.__struct_fields__])
def test_every_setting_is_documented_and_reaches_the_containers(name: str) -> None:
    """A setting missing from the compose file cannot be set in the bundle; one missing from the
    README or .env.example is a behaviour nobody can find."""
    assert f"`{name}`" in (ROOT / "README.md").read_text(), "README's Settings table"
    assert re.search(rf"^# {name}=", (ROOT / ".env.example").read_text(), re.MULTILINE), ".env.example"
    environment = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["x-app"]["environment"]
    assert (name in environment) != (name in NOT_IN_COMPOSE), "docker-compose.yml"
