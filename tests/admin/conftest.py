"""Admin API tests: the real app (lifespan included) with an ADMIN_TOKEN, on a real migrated SQLite file."""

from __future__ import annotations

from collections.abc import Iterator

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from api.app import create_app
from shared.config import Settings

TOKEN = "s3cret-admin-token"  # noqa: S105 - the tests' own token


@pytest.fixture
def admin_settings(settings: Settings) -> Settings:
    return msgspec.structs.replace(settings, admin_token=TOKEN)


@pytest.fixture
def anonymous(admin_settings: Settings) -> Iterator[TestClient[Litestar]]:
    """A client that presents no token."""
    with TestClient(create_app(admin_settings)) as test_client:
        yield test_client


@pytest.fixture
def client(anonymous: TestClient[Litestar]) -> TestClient[Litestar]:
    """The operator: every request carries `Authorization: Bearer <ADMIN_TOKEN>`."""
    anonymous.headers["Authorization"] = f"Bearer {TOKEN}"
    return anonymous
