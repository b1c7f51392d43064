"""The web app over real services (a temporary database, no modems), served in process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from webhelpers import PASSWORD, AiohttpClient, Clock, cheap_argon2, web_settings

from gateway.config import Settings
from gateway.daemon import Daemon
from gateway.services import Services
from web.app import create_app


@pytest.fixture(autouse=True)
def _cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap_argon2(monkeypatch)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return web_settings(tmp_path)


@pytest.fixture
async def services(settings: Settings, clock: Clock) -> AsyncIterator[Services]:
    daemon = Daemon(settings, clock=clock)
    services = await daemon.start()
    yield services
    await daemon.stop()


@pytest.fixture
async def users(services: Services) -> None:
    """An admin ("admin") and an agent ("agent")."""
    await services.auth.add_user("admin", PASSWORD, role="admin", actor="test")
    await services.auth.add_user("agent", PASSWORD, role="agent", actor="test")


@pytest.fixture
def app(services: Services, settings: Settings) -> web.Application:
    return create_app(services, settings)


@pytest.fixture
async def client(
    app: web.Application, aiohttp_client: AiohttpClient, users: None
) -> TestClient[Any, Any]:
    return await aiohttp_client(app)
