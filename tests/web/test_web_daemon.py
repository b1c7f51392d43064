"""The daemon serves the app on [web] host:port after the services, says where, and stops
it first."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import aiohttp
import pytest
from webhelpers import web_settings

from gateway.config import Settings
from gateway.daemon import Daemon
from gateway.errors import ConfigError


def _serving(tmp_path: Path, *, port: int) -> Settings:
    """Settings with the web server on; port 0 lets the system pick a free port (the
    settings refuse 0, which an operator never means)."""
    settings = web_settings(tmp_path)
    web = dataclasses.replace(settings.web, enabled=True, port=port)
    return dataclasses.replace(settings, web=web)


async def test_the_daemon_serves_the_console_and_tells_the_operator(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    daemon = Daemon(_serving(tmp_path, port=0))
    with caplog.at_level(logging.INFO, logger="gateway.daemon"):
        await daemon.start()
    try:
        url = daemon.web_url
        assert url is not None
        assert url.startswith("http://127.0.0.1:")
        messages = [r.getMessage() for r in caplog.records]
        assert f"web console and API at {url}" in messages
        hint = [m for m in messages if "no users yet" in m]
        assert hint
        assert "smsgw user add admin --role admin" in hint[0]
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{url}/healthz") as response:
                assert response.status == 200
                assert (await response.json())["ok"] is True
            async with session.get(f"{url}/", allow_redirects=False) as response:
                assert response.status == 303
    finally:
        await daemon.stop()
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientConnectionError):
            await session.get(f"{url}/healthz")


async def test_a_port_in_use_is_a_clear_configuration_error(tmp_path: Path) -> None:
    first = Daemon(_serving(tmp_path / "a", port=0))
    await first.start()
    try:
        assert first.web_url is not None
        port = int(first.web_url.rsplit(":", 1)[1])
        second = Daemon(_serving(tmp_path / "b", port=port))
        with pytest.raises(ConfigError, match=r"\[web\] port .*a free port"):
            await second.start()
    finally:
        await first.stop()
