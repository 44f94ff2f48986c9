"""Settings, read from the environment in one place and passed down explicitly."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import msgspec

from shared.queue.limits import LimitSpecError, parse_concurrency_limits, parse_rate_limits


class ConfigError(ValueError):
    """A setting has a value the program cannot run with."""


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Every knob of the API and the worker. Field names are the lower-cased environment variables."""

    database_url: str = "sqlite:///shop.db"
    # Where invoices and other files go; empty means "beside the SQLite file" (or ./data for PostgreSQL).
    data_dir: str = ""
    admin_token: str = ""
    host: str = "0.0.0.0"  # noqa: S104 - the API listens on every interface inside its container
    port: int = 8000
    log_level: str = "INFO"
    log_format: Literal["json", "console"] = "console"
    busy_timeout_ms: int = 5000
    max_body_bytes: int = 64 * 1024
    # Header fields of one request together (names, values, `: ` and CRLF), 431 above it.
    max_header_bytes: int = 16 * 1024

    # Modules whose job types the worker runs and the API can enqueue (`module` or `module:attribute`).
    job_modules: str = "shared.shop.jobs"
    worker_concurrency: int = 32
    # Added to a worker process's nice value at start-up (0-19; 0 leaves it): on a host shared with
    # the API, busy workers then give the CPU to the API's requests first, and when nothing else
    # wants the CPU they run at full speed all the same.
    worker_nice: int = 10
    # Claimed jobs a worker keeps ready beyond its running ones, so a freed slot starts the next job
    # without waiting for the database. Empty: automatic, up to CLAIM_BATCH while jobs take under
    # 50 ms and none for longer jobs (which other workers may as well take); 0: never.
    prefetch: int | None = None
    poll_interval: float = 1.0
    wake_interval: float = 0.001
    claim_batch: int = 64
    lease_seconds: float = 60.0
    heartbeat_seconds: float = 5.0
    shutdown_grace_seconds: float = 25.0
    job_timeout_seconds: float = 120.0
    job_timeouts: str = ""  # per-type overrides: "generate_invoice=60,send_email=15"
    retry_base_seconds: float = 2.0
    retry_max_seconds: float = 3600.0
    worker_id: str = ""  # empty: hostname, pid and a random part
    # Flow control, global across workers: overrides of the job types' own limits
    # ("send_email=120/60,sync_inventory=none"; "none" lifts them all) and of their per-key
    # concurrency limits ("sync_inventory=2").
    rate_limits: str = ""
    concurrency_limits: str = ""
    # A job waiting this long is claimed as if it had the next priority level up (again after each
    # further period), so low priorities cannot starve; 0 turns aging off.
    priority_aging_seconds: float = 300.0
    # cleanup_completed_jobs deletes completed jobs older than this many days (its default).
    cleanup_after_days: float = 7.0

    simulated_latency_scale: float = 1.0
    simulated_failure_rate: float | None = None
    # Where the simulated providers record deliveries (they stand for remote services, so not in the
    # shop's database); empty: a SQLite file `providers.db` in the data directory.
    providers_database_url: str = ""

    def __post_init__(self) -> None:
        if self.database_url.startswith("sqlite") and ":memory:" in self.database_url:
            raise ConfigError("DATABASE_URL: an in-memory SQLite database cannot be shared by processes")
        for name in ("worker_concurrency", "claim_batch", "busy_timeout_ms", "max_body_bytes", "max_header_bytes"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name.upper()} must be at least 1")
        if self.prefetch is not None and self.prefetch < 0:
            raise ConfigError("PREFETCH must not be negative")
        if not self.job_module_list():
            raise ConfigError("JOB_MODULES must name at least one module")
        for name in (
            "poll_interval",
            "wake_interval",
            "lease_seconds",
            "heartbeat_seconds",
            "job_timeout_seconds",
            "retry_base_seconds",
        ):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name.upper()} must be positive")
        if self.heartbeat_seconds >= self.lease_seconds:
            raise ConfigError("HEARTBEAT_SECONDS must be shorter than LEASE_SECONDS")
        rate = self.simulated_failure_rate
        if rate is not None and not 0 <= rate <= 1:
            raise ConfigError("SIMULATED_FAILURE_RATE must be between 0 and 1")
        for name in ("simulated_latency_scale", "priority_aging_seconds", "cleanup_after_days"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name.upper()} must not be negative")
        if not 0 <= self.worker_nice <= 19:
            raise ConfigError("WORKER_NICE must be between 0 and 19")
        self.timeout_overrides()  # fail at start-up, not at the first job
        self._check_limits()

    def _check_limits(self) -> None:
        for name, parse in (("rate_limits", parse_rate_limits), ("concurrency_limits", parse_concurrency_limits)):
            try:
                parse(getattr(self, name))
            except LimitSpecError as exc:
                raise ConfigError(f"{name.upper()}: {exc}") from exc

    def timeout_overrides(self) -> dict[str, float]:
        """Parse JOB_TIMEOUTS (`type=seconds,...`) into a mapping."""
        result: dict[str, float] = {}
        for part in filter(None, (p.strip() for p in self.job_timeouts.split(","))):
            name, sep, value = part.partition("=")
            try:
                seconds = float(value)
            except ValueError:
                seconds = -1
            if not sep or not name.strip() or seconds <= 0:
                raise ConfigError(f"JOB_TIMEOUTS: expected type=seconds, got {part!r}")
            result[name.strip()] = seconds
        return result

    def job_module_list(self) -> list[str]:
        return [part.strip() for part in self.job_modules.split(",") if part.strip()]

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def resolved_providers_url(self) -> str:
        return self.providers_database_url or f"sqlite:///{self.resolved_data_dir() / 'providers.db'}"

    def resolved_data_dir(self) -> Path:
        """The directory for generated files: DATA_DIR, else the SQLite file's directory."""
        if self.data_dir:
            return Path(self.data_dir)
        if self.is_sqlite:
            path = self.database_url.split(":///", 1)[1]
            return Path(path).resolve().parent if path else Path.cwd()
        return Path.cwd() / "data"


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from environment variables (upper-case field names); empty values mean default."""
    env = os.environ if environ is None else environ
    raw = {
        field: env[field.upper()] for field in Settings.__struct_fields__ if env.get(field.upper(), "").strip() != ""
    }
    try:
        return msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as exc:
        # msgspec says "at `$.port`"; users set PORT, so name the variable.
        message = str(exc)
        for field in Settings.__struct_fields__:
            message = message.replace(f"`$.{field}`", field.upper())
        raise ConfigError(message) from exc
