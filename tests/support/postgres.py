"""A real PostgreSQL server for the tests: the one TEST_POSTGRES_URL names (CI starts Debian's
cluster), or else a private throw-away cluster made with Debian's binaries (`initdb`, run as the
`postgres` user) on a free loopback port. Each test gets a fresh database copied from a template
migrated once by the real `alembic upgrade head`."""

from __future__ import annotations

import contextlib
import glob
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg

from tests.support.processes import free_port, run_alembic

TEMPLATE = "shopqueue_template"
INSTALL_HINT = "install Debian's postgresql package (apt-get install postgresql) or set TEST_POSTGRES_URL"


@dataclass
class PostgresServer:
    admin_url: str  # a superuser's libpq URL, e.g. postgresql://postgres@127.0.0.1:5432/postgres

    def url(self, database: str) -> str:
        """SQLAlchemy URL of one database on this server."""
        base = self.admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
        return f"{base}/{database}"

    def admin(self, sql: str) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql)

    def make_template(self) -> None:
        self.admin(f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)")
        self.admin(f"CREATE DATABASE {TEMPLATE}")
        run_alembic(self.url(TEMPLATE), "upgrade", "head")

    def fresh_database(self) -> str:
        name = f"t_{secrets.token_hex(6)}"
        self.admin(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
        return name

    def drop(self, name: str) -> None:
        with contextlib.suppress(psycopg.Error):
            self.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _binaries() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError(f"no PostgreSQL server for the tests: {INSTALL_HINT}")
    return Path(found[-1]).parent


# A throw-away cluster for tests: durability off for speed.
TEST_OPTIONS = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"


@contextlib.contextmanager
def private_cluster(settings: str = TEST_OPTIONS) -> Iterator[str]:
    """initdb + pg_ctl in a temporary directory owned by the `postgres` user; yields the admin URL.
    `settings` are extra `-c name=value` server options."""
    if shutil.which("runuser") is None:
        raise RuntimeError(f"cannot start PostgreSQL without runuser: {INSTALL_HINT}")
    binaries = _binaries()
    home = Path(tempfile.mkdtemp(prefix="shopqueue-pg-"))
    data = home / "data"
    shutil.chown(home, "postgres", "postgres")
    os.chmod(home, 0o700)
    port = free_port()

    def as_postgres(*command: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *command], check=True, capture_output=True, timeout=120)

    as_postgres(str(binaries / "initdb"), "-D", str(data), "--auth=trust", "-U", "postgres", "-E", "UTF8")
    options = f"-p {port} -k {home} -c listen_addresses=127.0.0.1 -c max_connections=400 {settings}"
    as_postgres(str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(home / "log"), "-w", "start")
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        with contextlib.suppress(subprocess.SubprocessError):
            as_postgres(str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(home, ignore_errors=True)


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    configured = os.environ.get("TEST_POSTGRES_URL", "")
    with contextlib.ExitStack() as stack:
        admin_url = configured or stack.enter_context(private_cluster())
        server = PostgresServer(admin_url)
        deadline = time.monotonic() + 30
        while True:
            try:
                server.admin("SELECT 1")
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        server.make_template()
        yield server
