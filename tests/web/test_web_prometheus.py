"""GET /metrics: who may read it ([metrics] prometheus, scrape_token, loopback through no
proxy), refusals in the one error shape, and the text format prometheus_client parses.
The values against real traffic: tests/integration/test_ops_metrics.py."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, make_mocked_request
from prometheus_client.parser import text_string_to_metric_families
from webhelpers import (
    PASSWORD,
    AiohttpClient,
    assert_error_shape,
    cheap_argon2,
    sign_in,
    web_settings,
)

from gateway.auth.errors import Forbidden
from gateway.daemon import Daemon
from tests.conftest import ROOT
from web import keys
from web.app import create_app
from web.prometheus import guard, is_loopback

TOKEN = "s3cret-scrape-token"


@pytest.fixture
async def scrape_client(
    tmp_path: Path,
    aiohttp_client: AiohttpClient,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[TestClient[Any, Any]]:
    cheap_argon2(monkeypatch)
    settings = web_settings(tmp_path, f"[metrics]\n{request.param}\n")
    daemon = Daemon(settings)
    services = await daemon.start()
    try:
        yield await aiohttp_client(create_app(services, settings))
    finally:
        await daemon.stop()


@pytest.mark.parametrize("scrape_client", [""], indirect=True)
async def test_loopback_without_a_token_reads_the_text_format(
    scrape_client: TestClient[Any, Any],
) -> None:
    response = await scrape_client.get("/metrics")
    assert response.status == 200
    assert response.content_type == "text/plain"
    families = {
        f.name: f for f in text_string_to_metric_families(await response.text())
    }
    assert {
        "smsgw_messages",
        "smsgw_outbound_queue_depth",
        "smsgw_inbound_reassemblies_pending",
        "smsgw_webhook_deliveries",
        "smsgw_webhook_attempts",
        "smsgw_database_bytes",
        "smsgw_modem_state",
        "smsgw_modem_errors",
        "smsgw_modem_reconnects",
        "smsgw_modem_storage_used",
    } <= set(families)
    (main,) = [
        s
        for s in families["smsgw_database_bytes"].samples
        if s.labels["file"] == "main"
    ]
    assert main.value > 0


@pytest.mark.parametrize("scrape_client", [""], indirect=True)
async def test_openmetrics_when_prometheus_asks_for_it(
    scrape_client: TestClient[Any, Any],
) -> None:
    response = await scrape_client.get(
        "/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"}
    )
    assert response.status == 200
    assert response.content_type == "application/openmetrics-text"
    assert (await response.text()).endswith("# EOF\n")


@pytest.mark.parametrize("scrape_client", [""], indirect=True)
@pytest.mark.parametrize(
    "header", ["X-Forwarded-For", "Forwarded", "X-Real-IP", "Via", "X-Forwarded-Host"]
)
async def test_a_proxied_request_needs_the_token(
    scrape_client: TestClient[Any, Any], header: str
) -> None:
    response = await scrape_client.get("/metrics", headers={header: "203.0.113.9"})
    body = await assert_error_shape(response, 403, "forbidden")
    assert header in body["error"]
    assert "scrape_token" in body["error"]


@pytest.mark.parametrize("scrape_client", [f"scrape_token = {TOKEN}"], indirect=True)
async def test_with_a_token_only_the_bearer_token_reads_it(
    scrape_client: TestClient[Any, Any],
) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": f"Bearer {TOKEN}x"},
    ):
        response = await scrape_client.get("/metrics", headers=headers)
        body = await assert_error_shape(response, 401, "unauthorized")
        assert "scrape_token" in body["error"]
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    # a signed-in console session is no scrape credential
    await sign_in_admin(scrape_client)
    response = await scrape_client.get("/metrics")
    assert response.status == 401
    for headers in (
        {"Authorization": f"Bearer {TOKEN}"},
        {"Authorization": f"bearer {TOKEN}", "X-Forwarded-For": "203.0.113.9"},
    ):
        response = await scrape_client.get("/metrics", headers=headers)
        assert response.status == 200, headers
        assert "smsgw_messages" in await response.text()


@pytest.mark.parametrize("scrape_client", ["prometheus = no"], indirect=True)
async def test_switched_off_it_is_not_there(
    scrape_client: TestClient[Any, Any],
) -> None:
    response = await scrape_client.get("/metrics")
    body = await assert_error_shape(response, 404, "not_found")
    assert "[metrics] prometheus" in body["error"]


async def sign_in_admin(client: TestClient[Any, Any]) -> None:
    await client.app[keys.AUTH].add_user("admin", PASSWORD, role="admin", actor="t")
    await sign_in(client, "admin")


@pytest.mark.parametrize(
    ("address", "local"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("192.168.1.20", False),
        ("::ffff:10.0.0.1", False),
        ("2001:db8::1", False),
        ("", False),
        (None, False),
        ("not an address", False),
    ],
)
def test_loopback_addresses(address: str | None, local: bool) -> None:
    assert is_loopback(address) is local


async def test_a_remote_client_without_a_token_is_refused(tmp_path: Path) -> None:
    app = web.Application()
    app[keys.SETTINGS] = web_settings(tmp_path)
    transport = mock.Mock()
    transport.get_extra_info.return_value = ("192.0.2.7", 51000)
    request = make_mocked_request("GET", "/metrics", app=app, transport=transport)
    assert request.remote == "192.0.2.7"

    async def handler(request: web.Request) -> web.StreamResponse:
        raise AssertionError("the handler must not run")

    with pytest.raises(Forbidden, match="only this machine"):
        await guard(request, handler)


@pytest.mark.parametrize("scrape_client", [""], indirect=True)
async def test_every_series_is_in_the_readme_and_nothing_else(
    scrape_client: TestClient[Any, Any],
) -> None:
    text = await (await scrape_client.get("/metrics")).text()
    served = {f.name for f in text_string_to_metric_families(text)}
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Prometheus", 1)[1].split("\n## ", 1)[0]
    listed = {
        name.removesuffix("_total")
        for name in re.findall(r"^\| `(smsgw_[a-z_]+)` \|", section, re.M)
    }
    assert served == listed
