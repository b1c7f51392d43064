"""The OpenAPI document: served without sign-in, valid OpenAPI 3.1, one operation per
API route (with its access level), and real answers of every operation - successes and
errors - match it (the CheckedClient validates each answer against the document)."""

from __future__ import annotations

import io
from typing import Any

import jsonschema_rs
from aiohttp import web
from aiohttp.test_utils import TestClient
from apihelpers import CUSTOMER, CheckedClient, inbound, modem
from schemathesis.specs.openapi.definitions import OPENAPI_31_VALIDATOR
from webhelpers import T0, assert_error_shape

from gateway.domain import ConsentSource
from gateway.services import Services
from gateway.storage.db import Store
from web.access import Access
from web.api.openapi import document, operations
from web.keys import ACCESS
from web.routes import ROUTES


def _api_routes() -> dict[tuple[str, str], str]:
    return {
        (route.method, route.path): route.name
        for route in ROUTES
        if route.path.startswith("/api/") or route.name == "healthz"
    }


async def test_the_document_is_served_without_sign_in(
    anonymous: CheckedClient, app: web.Application
) -> None:
    response = await anonymous.get("/api/v1/openapi.json")
    assert response.status == 200
    served = await response.json()
    assert served == document(app[ACCESS])
    assert served["openapi"] == "3.1.0"
    # a bad token is refused even here: a caller learns its token is wrong
    response = await anonymous.get(
        "/api/v1/openapi.json", headers={"Authorization": "Bearer nope"}
    )
    await assert_error_shape(response, 401, "unauthorized")


def test_the_document_is_valid_openapi_3_1(app: web.Application) -> None:
    doc = document(app[ACCESS])
    errors = [str(e) for e in OPENAPI_31_VALIDATOR.iter_errors(doc)]
    assert not errors, "\n".join(errors)
    for name, schema in doc["components"]["schemas"].items():
        assert jsonschema_rs.meta.is_valid(schema), name
    for path, methods in doc["paths"].items():
        for method, operation in methods.items():
            for parameter in operation.get("parameters", []):
                assert jsonschema_rs.meta.is_valid(parameter["schema"]), (path, method)
            body = operation.get("requestBody")
            if body is not None:
                schema = body["content"]["application/json"]["schema"]
                assert jsonschema_rs.meta.is_valid(schema), (path, method)


def test_every_api_route_is_documented_with_its_access(app: web.Application) -> None:
    documented = {(op.method, op.path): op.route for op in operations()}
    assert documented == _api_routes()
    doc = document(app[ACCESS])
    for op in operations():
        operation = doc["paths"][op.path][op.method.lower()]
        access = app[ACCESS][op.route]
        assert operation["x-access"] == access.value, op.route
        responses = operation["responses"]
        if access is Access.ADMIN:
            assert "403" in responses, op.route
        if access is Access.PUBLIC:
            assert operation["security"] == [], op.route
        else:
            assert "401" in responses, op.route
            assert "security" not in operation, op.route


async def test_account_endpoints(api: CheckedClient, agent: CheckedClient) -> None:
    me = await (await agent.get("/api/v1/me")).json()
    assert (me["object"], me["method"], me["user"]["object"]) == (
        "identity",
        "token",
        "user",
    )
    users = await (await api.get("/api/v1/users")).json()
    assert [u["username"] for u in users["data"]] == ["admin", "agent"]
    assert (users["has_more"], users["next_cursor"]) == (False, None)
    user = await (await api.get(f"/api/v1/users/{me['user']['id']}")).json()
    assert user["username"] == "agent"
    await assert_error_shape(await agent.get("/api/v1/users"), 403, "forbidden")


async def test_the_audit_log_pages_with_cursors(
    api: CheckedClient, services: Services
) -> None:
    for name in ("a", "b"):  # with the fixtures' users and token: 5 entries
        await services.auth.create_token("agent", name, actor="test")
    first = await (await api.get("/api/v1/audit?limit=3")).json()
    assert len(first["data"]) == 3
    assert first["has_more"]
    rest = await (
        await api.get(f"/api/v1/audit?limit=3&cursor={first['next_cursor']}")
    ).json()
    ids = [e["id"] for e in first["data"] + rest["data"]]
    assert ids == sorted(ids, reverse=True)
    assert len(set(ids)) == len(ids) == 5
    assert rest["has_more"] is False
    response = await api.get("/api/v1/audit?before=5")  # the old parameter: refused
    await assert_error_shape(response, 400, "invalid_input", field="before")


async def test_every_operation_answers_as_documented(
    api: CheckedClient,
    agent: CheckedClient,
    anonymous: CheckedClient,
    store: Store,
    services: Services,
    client: TestClient[Any, Any],
) -> None:
    """A success and an error from every documented operation, each checked against the
    document; the JSON error shape is pinned on each error."""
    await modem(store, "usb0", now=T0, state="ready")
    sent = await (
        await api.post("/api/v1/messages", json={"to": CUSTOMER, "body": "hi"})
    ).json()
    cid = (await inbound(store, "hello", now=T0)).conversation.id
    conv = f"/api/v1/conversations/{cid}"
    contact = await (
        await agent.post("/api/v1/contacts", json={"number": "+447700900555"})
    ).json()
    other = await (
        await agent.post("/api/v1/contacts", json={"number": "+447700900556"})
    ).json()
    await services.compliance.set_consent(
        "+447700900999", opted_out=True, source=ConsentSource.API, actor="test"
    )
    me = await (await agent.get("/api/v1/me")).json()
    big = {
        "data": io.BytesIO(b'{"to": "x", "body": "' + b"x" * 1024 * 1024 + b'"}'),
        "headers": {"Content-Type": "application/json"},
    }
    successes = [
        (api, "GET", "/api/v1/openapi.json", {}),
        (api, "GET", "/healthz", {}),
        (agent, "GET", "/api/v1/me", {}),
        (agent, "POST", "/api/v1/messages", {"json": {"to": CUSTOMER, "body": "x"}}),
        (agent, "GET", "/api/v1/messages", {}),
        (agent, "GET", f"/api/v1/messages/{sent['id']}", {}),
        (agent, "POST", "/api/v1/segments", {"json": {"text": "x"}}),
        (agent, "GET", "/api/v1/modems", {}),
        (agent, "GET", "/api/v1/modems/usb0", {}),
        (agent, "POST", "/api/v1/modems/usb0/test", {"json": {"to": CUSTOMER}}),
        (agent, "GET", "/api/v1/conversations", {}),
        (agent, "GET", conv, {}),
        (agent, "POST", f"{conv}/assign", {"json": {"assignee_id": None}}),
        (agent, "POST", f"{conv}/status", {"json": {"status": "pending"}}),
        (agent, "POST", f"{conv}/priority", {"json": {"priority": "high"}}),
        (agent, "POST", f"{conv}/notes", {"json": {"body": "n"}}),
        (agent, "POST", f"{conv}/tags", {"json": {"tags": ["a"]}}),
        (agent, "DELETE", f"{conv}/tags", {"json": {"tags": ["a"]}}),
        (agent, "POST", f"{conv}/reply", {"json": {"body": "r"}}),
        (agent, "GET", "/api/v1/contacts", {}),
        (agent, "POST", "/api/v1/contacts", {"json": {"number": "+447700900557"}}),
        (agent, "GET", "/api/v1/contacts/lookup?number=07700900555", {}),
        (agent, "GET", f"/api/v1/contacts/{contact['id']}", {}),
        (agent, "PATCH", f"/api/v1/contacts/{contact['id']}", {"json": {"name": "N"}}),
        (agent, "DELETE", f"/api/v1/contacts/{other['id']}", {}),
        (api, "GET", "/api/v1/users", {}),
        (api, "GET", f"/api/v1/users/{me['user']['id']}", {}),
        (api, "GET", "/api/v1/audit", {}),
    ]
    errors = [
        (anonymous, "GET", "/api/v1/me", {}, 401, "unauthorized", None),
        (
            agent,
            "POST",
            "/api/v1/messages",
            {"json": {"to": "+447700900999", "body": "x"}},
            409,
            "opted_out",
            None,
        ),
        (
            agent,
            "POST",
            "/api/v1/messages",
            big,
            413,
            "payload_too_large",
            None,
        ),
        (
            agent,
            "POST",
            "/api/v1/messages",
            {"data": "x"},
            415,
            "unsupported_media_type",
            None,
        ),
        (agent, "GET", "/api/v1/messages?limit=0", {}, 400, "invalid_input", "limit"),
        (agent, "GET", "/api/v1/messages/999", {}, 404, "not_found", None),
        (agent, "POST", "/api/v1/segments", {"json": []}, 400, "invalid_json", None),
        (
            agent,
            "GET",
            "/api/v1/modems",
            {"headers": {"Authorization": "Bearer x"}},
            401,
            "unauthorized",
            None,
        ),
        (agent, "GET", "/api/v1/modems/usb9", {}, 404, "not_found", None),
        (
            agent,
            "POST",
            "/api/v1/modems/usb9/test",
            {"json": {"to": CUSTOMER}},
            404,
            "not_found",
            None,
        ),
        (agent, "GET", "/api/v1/conversations?q=%00", {}, 400, "invalid_input", "q"),
        (agent, "GET", "/api/v1/conversations/9", {}, 404, "not_found", None),
        (
            agent,
            "POST",
            f"{conv}/assign",
            {"json": {}},
            400,
            "invalid_input",
            "assignee_id",
        ),
        (
            agent,
            "POST",
            f"{conv}/status",
            {"json": {"status": "x"}},
            400,
            "invalid_input",
            "status",
        ),
        (agent, "POST", f"{conv}/priority", {"json": []}, 400, "invalid_json", None),
        (
            agent,
            "POST",
            "/api/v1/conversations/9/notes",
            {"json": {"body": "n"}},
            404,
            "not_found",
            None,
        ),
        (
            agent,
            "POST",
            f"{conv}/tags",
            {"json": {"tags": "a"}},
            400,
            "invalid_input",
            "tags",
        ),
        (
            agent,
            "DELETE",
            f"{conv}/tags",
            {"data": "x"},
            415,
            "unsupported_media_type",
            None,
        ),
        (
            agent,
            "POST",
            f"{conv}/reply",
            {"json": {"body": ""}},
            400,
            "invalid_input",
            "body",
        ),
        (agent, "GET", "/api/v1/contacts?limit=x", {}, 400, "invalid_input", "limit"),
        (
            agent,
            "POST",
            "/api/v1/contacts",
            {"json": {"number": "+447700900555"}},
            409,
            "conflict",
            None,
        ),
        (
            agent,
            "GET",
            "/api/v1/contacts/lookup?number=07700900999",
            {},
            404,
            "not_found",
            None,
        ),
        (agent, "GET", "/api/v1/contacts/0", {}, 400, "invalid_input", "id"),
        (agent, "PATCH", "/api/v1/contacts/999", {"json": {}}, 404, "not_found", None),
        (agent, "DELETE", "/api/v1/contacts/999", {}, 404, "not_found", None),
        (agent, "GET", "/api/v1/users", {}, 403, "forbidden", None),
        (api, "GET", "/api/v1/users/999", {}, 404, "not_found", None),
        (agent, "GET", "/api/v1/audit", {}, 403, "forbidden", None),
        (
            api,
            "GET",
            "/api/v1/openapi.json",
            {"headers": {"Authorization": "Bearer x"}},
            401,
            "unauthorized",
            None,
        ),
    ]
    for caller, method, path, kwargs in successes:
        response = await caller.request(method, path, **kwargs)
        assert response.status < 300, (method, path, await response.text())
    for caller, method, path, kwargs, status, code, field in errors:
        response = await caller.request(method, path, **kwargs)
        await assert_error_shape(response, status, code, field)

    seen = api.seen | agent.seen | anonymous.seen
    for op in operations():
        if op.tag == "webhooks":  # tests/web/test_webhooks_api.py covers these
            continue
        if op.tag in ("templates", "notifications"):  # test_templates_api.py and
            continue  # test_notifications_api.py (tests/web/api/) cover these
        if op.tag == "metrics":  # tests/web/api/test_metrics_api.py covers it
            continue
        name = f"{op.method} {op.path}"
        statuses = {status for operation, status in seen if operation == name}
        assert any(s < 300 for s in statuses), f"{name}: no success checked"
        if op.route != "healthz":  # it has no error of its own to show
            assert any(s >= 400 for s in statuses), f"{name}: no error checked"


async def test_a_request_line_too_long_for_the_parser_is_a_documented_400(
    agent: CheckedClient,
) -> None:
    """Found by schemathesis: aiohttp's parser refuses a request line over 8190 bytes
    in plain text before the app (and its JSON errors) sees it; the document says so."""
    response = await agent.get("/api/v1/messages?number=" + "1" * 9000)
    assert (response.status, response.content_type) == (400, "text/plain")
