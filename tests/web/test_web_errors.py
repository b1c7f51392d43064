"""One JSON error shape for every kind of failure on the API; the error page on the console."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from webhelpers import AiohttpClient, assert_error_shape, sign_in

from gateway.config import Settings
from gateway.errors import ModemUnavailable, StorageError
from gateway.services import Services
from web.access import Access
from web.app import create_app
from web.middleware import error_body
from web.routes import ROUTES, Route


async def _boom(request: web.Request) -> web.Response:
    raise RuntimeError("secret internals: /var/lib/smsgw/gateway.db")


async def _storage(request: web.Request) -> web.Response:
    raise StorageError("disk I/O error in /var/lib/smsgw/gateway.db")


async def _no_modem(request: web.Request) -> web.Response:
    raise ModemUnavailable("no modem is ready")


async def _json(request: web.Request) -> web.Response:
    return web.json_response(await request.json())


TEST_ROUTES = (
    Route("GET", "/api/v1/test/boom", _boom, "test.boom", Access.USER),
    Route("GET", "/api/v1/test/storage", _storage, "test.storage", Access.USER),
    Route("GET", "/api/v1/test/modem", _no_modem, "test.modem", Access.USER),
    Route("POST", "/api/v1/test/json", _json, "test.json", Access.USER),
    Route("GET", "/test/boom", _boom, "test.page_boom", Access.USER),
)


@pytest.fixture
async def api(
    services: Services, settings: Settings, aiohttp_client: AiohttpClient, users: None
) -> TestClient[Any, Any]:
    app = create_app(services, settings, routes=(*ROUTES, *TEST_ROUTES))
    client = await aiohttp_client(app)
    admin = await services.auth.create_token("admin", "t", actor="test")
    client.session.headers["Authorization"] = f"Bearer {admin.token}"
    return client


def test_error_body_is_the_one_shape() -> None:
    assert error_body("x", code="c", status=400) == {
        "ok": False,
        "error": "x",
        "code": "c",
        "status": 400,
        "field": None,
    }


async def test_unknown_path(api: TestClient[Any, Any]) -> None:
    body = await assert_error_shape(await api.get("/api/v1/nope"), 404, "not_found")
    assert body["error"] == "no such path: /api/v1/nope"


async def test_unknown_entity(api: TestClient[Any, Any]) -> None:
    body = await assert_error_shape(
        await api.get("/api/v1/users/999"), 404, "not_found"
    )
    assert body["error"] == "user 999 not found"


async def test_invalid_input_names_the_field(api: TestClient[Any, Any]) -> None:
    response = await api.get("/api/v1/audit?limit=lots")
    body = await assert_error_shape(response, 400, "invalid_input", field="limit")
    assert "whole number" in body["error"]
    response = await api.get("/api/v1/users/0")
    await assert_error_shape(response, 400, "invalid_input", field="id")
    response = await api.get("/api/v1/audit?limit=501")
    await assert_error_shape(response, 400, "invalid_input", field="limit")


async def test_unauthenticated_and_forbidden(
    api: TestClient[Any, Any], services: Services
) -> None:
    response = await api.get("/api/v1/users", headers={"Authorization": "Bearer x"})
    await assert_error_shape(response, 401, "unauthorized")
    agent = await services.auth.create_token("agent", "t", actor="test")
    headers = {"Authorization": f"Bearer {agent.token}"}
    response = await api.get("/api/v1/users", headers=headers)
    await assert_error_shape(response, 403, "forbidden")


async def test_method_not_allowed(api: TestClient[Any, Any]) -> None:
    response = await api.post("/api/v1/me", json={})
    body = await assert_error_shape(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == "GET"
    assert "POST is not allowed on /api/v1/me" in body["error"]


async def test_malformed_json(api: TestClient[Any, Any]) -> None:
    response = await api.post(
        "/api/v1/test/json",
        data=b'{"to": ',
        headers={"Content-Type": "application/json"},
    )
    body = await assert_error_shape(response, 400, "invalid_json")
    assert "not valid JSON" in body["error"]


async def test_unexpected_errors_are_logged_and_answered_without_internals(
    api: TestClient[Any, Any], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="web.middleware"):
        response = await api.get("/api/v1/test/boom")
        body = await assert_error_shape(response, 500, "internal")
    assert "secret" not in body["error"]
    assert "gateway's log" in body["error"]
    record = caplog.records[-1]
    assert record.exc_info is not None
    assert "secret internals" in str(record.exc_info[1])

    response = await api.get("/api/v1/test/storage")
    body = await assert_error_shape(response, 500, "storage")
    assert "/var/lib" not in body["error"]


async def test_a_gateway_error_keeps_its_status_and_message(
    api: TestClient[Any, Any],
) -> None:
    response = await api.get("/api/v1/test/modem")
    body = await assert_error_shape(response, 503, "modem_unavailable")
    assert body["error"] == "no modem is ready"


async def test_the_console_gets_an_error_page(
    client: TestClient[Any, Any], caplog: pytest.LogCaptureFixture
) -> None:
    await sign_in(client, "agent")
    response = await client.get("/no/such/page")
    assert response.status == 404
    assert response.content_type == "text/html"
    page = await response.text()
    assert "no such path: /no/such/page" in page
    assert 'href="/modems"' in page  # the navigation is there to go on
    response = await client.get("/users")
    assert response.status == 403
    assert "admins only" in await response.text()


async def test_the_console_hides_internals_too(
    services: Services, settings: Settings, aiohttp_client: AiohttpClient, users: None
) -> None:
    client = await aiohttp_client(
        create_app(services, settings, routes=(*ROUTES, *TEST_ROUTES))
    )
    await sign_in(client, "agent")
    response = await client.get("/test/boom")
    assert response.status == 500
    page = await response.text()
    assert "internal error" in page
    assert "secret" not in page


async def test_every_api_route_answers_errors_in_the_one_shape(
    api: TestClient[Any, Any],
) -> None:
    """Walk the router: each API route is made to fail - an id that is no id, a body that
    is no object, a name nobody has, a token nobody has - and answers the pinned shape."""
    checked = 0
    for route in ROUTES:
        if not route.path.startswith("/api/"):
            continue
        if "{id}" in route.path:
            path = route.path.replace("{id}", "0")
            response = await api.request(route.method, path, json={})
            await assert_error_shape(response, 400, "invalid_input", field="id")
        elif route.method in {"POST", "PATCH", "DELETE"}:
            path = route.path.replace("{name}", "usb0")
            response = await api.request(route.method, path, json=[])
            await assert_error_shape(response, 400, "invalid_json")
        elif "{name}" in route.path:
            response = await api.get(route.path.replace("{name}", "nobody"))
            await assert_error_shape(response, 404, "not_found")
        else:
            response = await api.get(route.path, headers={"Authorization": "Bearer x"})
            await assert_error_shape(response, 401, "unauthorized")
        checked += 1
    assert checked >= 25
