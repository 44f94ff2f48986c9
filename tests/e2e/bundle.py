"""Drive the real Docker Compose bundle from tests: one compose project, reached on 127.0.0.1 only.

Nothing here mocks anything: `docker compose` runs the image built from this tree, HTTP goes through
the port the api publishes on 127.0.0.1, and SQL runs inside a container: with python's sqlite3
module against /data/shop.db on the project's volume, or, for the bundle on PostgreSQL
(docker-compose.postgres.yml), with psycopg against the container's DATABASE_URL.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
POSTGRES_OVERRIDE = ROOT / "docker-compose.postgres.yml"
# The compose files of each database the bundle runs on.
COMPOSE_FILES = {"sqlite": (COMPOSE_FILE,), "postgres": (COMPOSE_FILE, POSTGRES_OVERRIDE)}
DB_PATH = "/data/shop.db"
PROVIDERS_DB_PATH = "/data/providers.db"  # the simulated providers keep their own file on the volume

T = TypeVar("T")

# Runs inside a container: {"query", "params"} on stdin, the rows as a JSON list of lists on stdout.
_SQL_SCRIPT = """
import json, sqlite3, sys
request = json.load(sys.stdin)
conn = sqlite3.connect(request["path"], timeout=10)
try:
    rows = conn.execute(request["query"], request["params"]).fetchall()
    conn.commit()
finally:
    conn.close()
json.dump([list(row) for row in rows], sys.stdout)
"""

# The same on PostgreSQL: the shop's database is the container's DATABASE_URL (its password in
# PGPASSWORD). Queries keep SQLite's `?` placeholders; values JSON cannot hold (timestamps, Decimal)
# come back as text.
_PG_SQL_SCRIPT = """
import json, os, re, sys, psycopg
request = json.load(sys.stdin)
url = re.sub(r"^postgresql\\+\\w+://", "postgresql://", os.environ["DATABASE_URL"])
with psycopg.connect(url, autocommit=True) as conn:
    cursor = conn.execute(request["query"].replace("%", "%%").replace("?", "%s"), request["params"])
    rows = cursor.fetchall() if cursor.description else []
json.dump([list(row) for row in rows], sys.stdout, default=str)
"""


class ComposeError(RuntimeError):
    """A `docker compose` command failed; the message holds its output."""


def docker_unavailable_reason() -> str | None:
    """None when a Docker engine and the compose plugin answer; otherwise why not."""
    if shutil.which("docker") is None:
        return "no `docker` command on PATH"
    for command in (["docker", "info"], ["docker", "compose", "version"]):
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        except subprocess.TimeoutExpired:
            return f"`{' '.join(command)}` did not answer within 60s"
        if result.returncode != 0:
            last = (result.stderr.strip().splitlines() or ["(no output)"])[-1]
            return f"`{' '.join(command)}` failed: {last}"
    return None


def docker(*args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """A plain `docker` command (inspect, kill, exec, logs of one container); output captured."""
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, check=False)
    if check and result.returncode != 0:
        raise ComposeError(f"docker {' '.join(args)} exited {result.returncode}\n{result.stdout}\n{result.stderr}")
    return result


IMAGE_LABEL = "com.shopqueue.image"  # on every stage of our Dockerfile


def prune_untagged() -> None:
    """Remove images of ours that a rebuild left untagged (never the tagged ones in use)."""
    docker("image", "prune", "--force", "--filter", f"label={IMAGE_LABEL}", check=False)


def untagged_images() -> list[str]:
    listing = docker("images", "--quiet", "--filter", "dangling=true", "--filter", f"label={IMAGE_LABEL}").stdout
    return listing.split()


def json_log_events(text: str) -> list[dict[str, Any]]:
    """The JSON objects among log lines (LOG_FORMAT=json); other lines are skipped."""
    events = []
    for line in text.splitlines():
        start = line.find("{")
        if start < 0:
            continue
        try:
            event = json.loads(line[start:])
        except ValueError:
            continue
        if isinstance(event, dict):
            events.append(event)
    return events


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(
    probe: Callable[[], T | None],
    *,
    timeout: float,
    interval: float = 0.25,
    what: str = "condition",
) -> T:
    """Call `probe` until it returns something other than None or False; return that.

    Exceptions from `probe` count as "not yet"; the last one is reported if time runs out.
    """
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while True:
        try:
            value = probe()
        except Exception as exc:  # "not ready yet" comes in many shapes
            last_error = exc
        else:
            if value is not None and value is not False:
                return value
        if time.monotonic() >= deadline:
            detail = f"; last error: {last_error!r}" if last_error else ""
            raise TimeoutError(f"{what} not reached within {timeout}s{detail}")
        time.sleep(interval)


@dataclass
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Bundle:
    """One compose project (`-p name`) of the shop, its API published on 127.0.0.1:api_port."""

    name: str
    api_port: int
    env: dict[str, str] = field(repr=False)
    admin_token: str = ""
    database: str = "sqlite"  # or "postgres": docker-compose.postgres.yml on top

    @property
    def files(self) -> tuple[Path, ...]:
        return COMPOSE_FILES[self.database]

    # ---- docker compose ------------------------------------------------------------------------

    def compose(
        self, *args: str, check: bool = True, timeout: float = 300, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        # --env-file /dev/null: a developer's .env must not change what the tests run.
        files = [arg for path in self.files for arg in ("-f", str(path))]
        command = ["docker", "compose", *files, "--env-file", os.devnull, "-p", self.name, *args]
        result = subprocess.run(
            command,
            cwd=ROOT,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            raise ComposeError(
                f"{' '.join(command)} exited {result.returncode}\n"
                f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
            )
        return result

    def up(
        self,
        *services: str,
        build: bool = False,
        wait: bool = True,
        timeout: int = 240,
        scale: Mapping[str, int] | None = None,
    ) -> None:
        """`up -d` (optionally `--build`, `--scale service=n`, `--wait` until running and healthy) of
        `services` or all."""
        args = ["up", "-d"]
        if build:
            args.append("--build")
        for service, replicas in (scale or {}).items():
            args += ["--scale", f"{service}={replicas}"]
        if wait:
            args += ["--wait", "--wait-timeout", str(timeout)]
        try:
            self.compose(*args, *services, timeout=timeout + 120)
        except ComposeError as exc:
            raise ComposeError(f"{exc}\n--- logs\n{self.logs()}") from None

    def down(self, *, volumes: bool = False) -> None:
        """Remove the containers (and with `volumes`, the data volume too)."""
        self.compose("down", "--remove-orphans", *(["--volumes"] if volumes else []), timeout=180)

    def stop(self, *services: str, timeout: float = 180) -> None:
        """`docker compose stop`: SIGTERM, then SIGKILL after each service's stop_grace_period."""
        self.compose("stop", *services, timeout=timeout)

    def ps(self, *services: str) -> list[dict[str, Any]]:
        """Every container of the project, running or exited (compose's JSON form)."""
        out = self.compose("ps", "--all", "--format", "json", *services).stdout.strip()
        if not out:
            return []
        if out.startswith("["):  # older compose prints one array
            rows: list[dict[str, Any]] = json.loads(out)
            return rows
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def inspect(self, container: str) -> dict[str, Any]:
        info: dict[str, Any] = json.loads(docker("inspect", container, timeout=60).stdout)[0]
        return info

    def containers(self, service: str) -> list[str]:
        """Names of the service's containers (running or exited), in replica order."""
        return sorted(c["Name"] for c in self.ps(service))

    def hostname(self, container: str) -> str:
        """The container's hostname (its id prefix): the first part of its worker id and locks."""
        hostname: str = self.inspect(container)["Config"]["Hostname"]
        return hostname

    def health(self, container: str) -> str | None:
        """`.State.Health.Status` (starting, healthy, unhealthy), None without a healthcheck."""
        health = self.inspect(container)["State"].get("Health")
        return None if health is None else str(health["Status"])

    def kill(self, container: str, signal: str = "KILL") -> None:
        """`docker kill` (SIGKILL by default): no handler runs, nothing is cleaned up."""
        docker("kill", "--signal", signal, container, timeout=60)

    def container_logs(self, container: str) -> str:
        result = docker("logs", container, check=False, timeout=60)
        return result.stdout + result.stderr

    def logs(self, *services: str) -> str:
        result = self.compose("logs", "--no-color", "--timestamps", *services, check=False, timeout=60)
        return result.stdout + result.stderr

    # ---- inside the containers ---------------------------------------------------------------------

    def exec(self, service: str, *command: str, stdin: str | None = None, timeout: float = 120) -> str:
        """`docker compose exec -T service command...` in a running container; its stdout."""
        return self.compose("exec", "-T", service, *command, stdin=stdin, timeout=timeout).stdout

    def run_once(self, *command: str, stdin: str | None = None, timeout: float = 120) -> str:
        """`docker compose run --rm --no-deps` of the image with the volume; works with nothing running."""
        return self.compose("run", "--rm", "--no-deps", "-T", "migrate", *command, stdin=stdin, timeout=timeout).stdout

    def python(self, code: str, *, service: str | None = "api", stdin: str | None = None) -> str:
        """Run `python -c code` in `service` (exec), or in a throw-away container when service is None."""
        if service is None:
            return self.run_once("python", "-c", code, stdin=stdin)
        return self.exec(service, "python", "-c", code, stdin=stdin)

    def sql(
        self, query: str, params: Sequence[Any] = (), *, service: str | None = "api", path: str | None = None
    ) -> list[list[Any]]:
        """Run one SQL statement (`?` placeholders) against the shop's database inside a container, or
        against the SQLite file at `path` (the providers' records); rows as lists."""
        script = _SQL_SCRIPT
        if path is None:
            path = DB_PATH
            script = _PG_SQL_SCRIPT if self.database == "postgres" else _SQL_SCRIPT
        request = json.dumps({"path": path, "query": query, "params": list(params)})
        rows: list[list[Any]] = json.loads(self.python(script, service=service, stdin=request))
        return rows

    def seconds_from_now(self, seconds: float) -> str:
        """A SQL expression for now plus `seconds`, comparable with the database's timestamps."""
        if self.database == "postgres":
            return f"(now() + interval '{seconds:g} seconds')"
        return f"datetime('now', '{seconds:+g} seconds')"

    def scalar(self, query: str, params: Sequence[Any] = (), *, service: str | None = "api") -> Any:
        rows = self.sql(query, params, service=service)
        return rows[0][0] if rows else None

    # ---- HTTP through 127.0.0.1 -----------------------------------------------------------------

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.api_port}{path}"

    def request(
        self,
        method: str,
        path: str,
        body: object | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 15,
    ) -> HttpResponse:
        """One HTTP request to the published API port; error statuses are returned, not raised."""
        data = None if body is None else json.dumps(body).encode()
        all_headers = {"Accept": "application/json", **(headers or {})}
        if data is not None:
            all_headers.setdefault("Content-Type", "application/json")
        request = urllib.request.Request(self.url(path), data=data, method=method, headers=all_headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - loopback only
                return HttpResponse(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as exc:
            return HttpResponse(exc.code, dict(exc.headers), exc.read())

    def get_json(self, path: str, expect: int = 200) -> Any:
        response = self.request("GET", path)
        assert response.status == expect, (path, response.status, response.body[:500])
        return response.json()

    def post_order(
        self,
        items: Sequence[Mapping[str, object]],
        *,
        user_id: str = "e2e-user",
        idempotency_key: str | None = None,
        payment_token: str | None = None,
    ) -> HttpResponse:
        body: dict[str, object] = {"userId": user_id, "items": [dict(item) for item in items]}
        if payment_token is not None:
            body["paymentToken"] = payment_token
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        return self.request("POST", "/orders", body, headers)

    def admin(self, method: str, path: str, body: object | None = None) -> HttpResponse:
        return self.request(method, path, body, {"Authorization": f"Bearer {self.admin_token}"})

    def wait_http_ok(self, path: str = "/health", timeout: float = 60) -> HttpResponse:
        def probe() -> HttpResponse | None:
            response = self.request("GET", path, timeout=5)
            return response if response.status == 200 else None

        return wait_until(probe, timeout=timeout, what=f"200 from {self.url(path)}")
