"""Helpers for web tests (imported by name: tests/ has no packages)."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient

from gateway.auth import passwords
from gateway.config import Settings, parse_settings

# pytest-aiohttp's aiohttp_client fixture
AiohttpClient = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"
ERROR_KEYS = {"ok", "error", "code", "status", "field"}
_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]*)">')


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 at its cheapest: the tests check the logic, not the cost."""
    monkeypatch.setattr(passwords, "TIME_COST", 1)
    monkeypatch.setattr(passwords, "MEMORY_COST_KIB", 8)
    monkeypatch.setattr(passwords, "PARALLELISM", 1)


def web_settings(tmp_path: Path, ini: str = "", *, web: str = "") -> Settings:
    """Settings with no modem and no simulator (the tests serve the app themselves);
    `web` adds lines to [web], `ini` adds sections."""
    text = textwrap.dedent(
        """
        [gateway]
        default_region = GB
        [simulator]
        enabled = no
        [web]
        enabled = no
        """
    )
    text += textwrap.dedent(web) + textwrap.dedent(ini)
    return parse_settings(text, base_dir=tmp_path, source=str(tmp_path / "gateway.ini"))


async def sign_in(client: TestClient[Any, Any], username: str) -> str:
    """Sign in through the form (forgetting any earlier session); the page's CSRF token."""
    client.session.cookie_jar.clear()
    response = await client.post(
        "/login",
        data={"username": username, "password": PASSWORD},
        allow_redirects=False,
    )
    assert response.status == 303, await response.text()
    return csrf_of(await (await client.get("/")).text())


def csrf_of(page: str) -> str:
    match = _CSRF_META.search(page)
    assert match is not None, "the page has no CSRF token"
    assert match[1], "the page's CSRF token is empty"
    return match[1]


async def assert_error_shape(
    response: ClientResponse, status: int, code: str, field: str | None = None
) -> dict[str, Any]:
    """The one JSON error shape, with this status, code and field."""
    assert response.status == status
    assert response.content_type == "application/json"
    body: dict[str, Any] = await response.json()
    assert set(body) == ERROR_KEYS
    assert body["ok"] is False
    assert (body["status"], body["code"], body["field"]) == (status, code, field)
    assert isinstance(body["error"], str)
    assert body["error"]
    return body
