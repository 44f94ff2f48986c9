from __future__ import annotations

import pytest

from shared.config import ConfigError, Settings, load_settings


def test_defaults() -> None:
    settings = load_settings({})
    assert settings.database_url == "sqlite:///shop.db"
    assert settings.worker_concurrency == 32
    assert settings.simulated_failure_rate is None
    assert settings.log_format == "console"


def test_values_come_from_upper_case_variables() -> None:
    settings = load_settings(
        {
            "DATABASE_URL": "sqlite:////data/shop.db",
            "WORKER_CONCURRENCY": "3",
            "POLL_INTERVAL": "0.5",
            "SIMULATED_FAILURE_RATE": "0.3",
            "LOG_FORMAT": "json",
            "JOB_TIMEOUTS": "generate_invoice=30, send_email=5",
            "PORT": "",  # empty means default
        }
    )
    assert settings.worker_concurrency == 3
    assert settings.poll_interval == 0.5
    assert settings.simulated_failure_rate == 0.3
    assert settings.port == 8000
    assert settings.timeout_overrides() == {"generate_invoice": 30.0, "send_email": 5.0}
    assert str(settings.resolved_data_dir()) == "/data"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PORT": "eighty"}, "PORT"),
        ({"WORKER_CONCURRENCY": "0"}, "WORKER_CONCURRENCY"),
        ({"SIMULATED_FAILURE_RATE": "2"}, "SIMULATED_FAILURE_RATE"),
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT"),
        ({"DATABASE_URL": "sqlite:///:memory:"}, "in-memory"),
        ({"HEARTBEAT_SECONDS": "90"}, "HEARTBEAT_SECONDS"),
        ({"JOB_TIMEOUTS": "send_email"}, "JOB_TIMEOUTS"),
        ({"WORKER_NICE": "20"}, "WORKER_NICE"),
        ({"WORKER_NICE": "-1"}, "WORKER_NICE"),
    ],
)
def test_bad_values_are_refused_with_the_variable_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(env)


def test_settings_built_directly_are_checked_too() -> None:
    with pytest.raises(ConfigError, match="WORKER_CONCURRENCY"):
        Settings(worker_concurrency=0)
    with pytest.raises(ConfigError, match="PREFETCH"):
        Settings(prefetch=-1)
