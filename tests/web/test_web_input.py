"""U+0000 (NUL) in anything a request carries - a JSON body, a form field, a query or
path parameter - is refused with a 400 naming the field, before any handler or store
sees it: PostgreSQL text cannot hold it (a 500 there), SQLite would keep it, so both
engines refuse it alike (web.middleware.input_middleware, gateway.domain.refuse_nul)."""

from __future__ import annotations

import base64
from typing import Any

from aiohttp.test_utils import TestClient
from webhelpers import T0, assert_error_shape, sign_in

from gateway.domain import NumberKind, ThreadedMessage
from gateway.services import Services
from gateway.storage import queries

CUSTOMER = "+447700900123"
NUL = "order\x00 4839201"


async def _token(services: Services) -> dict[str, str]:
    made = await services.auth.create_token("admin", "tests", actor="test")
    return {"Authorization": f"Bearer {made.token}"}


async def _conversation(services: Services) -> int:
    def unit() -> ThreadedMessage:
        _, threaded = queries.receive_inbound_part(
            modem="usb0",
            sender=CUSTOMER,
            sender_kind=NumberKind.E164,
            pdu=b"input-test-pdu",
            text="hello",
            encoding="gsm7",
            concat=None,
            network_at=T0,
            received_at=T0,
            reopen_window_s=0,
        )
        assert threaded is not None
        return threaded

    return (await services.outbound._store.run(unit)).conversation.id


async def test_the_api_names_the_json_field_holding_a_nul(
    client: TestClient[Any, Any], services: Services
) -> None:
    auth = await _token(services)
    cid = await _conversation(services)
    for path, body, field in (
        ("/api/v1/messages", {"to": CUSTOMER, "body": NUL}, "body"),
        (
            "/api/v1/messages",
            {"to": CUSTOMER, "body": "Shipped", "context": {"order_id": NUL}},
            "context.order_id",
        ),
        (
            "/api/v1/messages",
            {"to": CUSTOMER, "body": "Shipped", "context": {NUL: "A-1"}},
            "context",
        ),
        (f"/api/v1/conversations/{cid}/tags", {"tags": ["vip", NUL]}, "tags[1]"),
        (f"/api/v1/conversations/{cid}/notes", {"body": NUL}, "body"),
        ("/api/v1/contacts", {"number": "+447700900456", "name": NUL}, "name"),
    ):
        response = await client.post(path, json=body, headers=auth)
        error = await assert_error_shape(response, 400, "invalid_input", field)
        assert "U+0000" in error["error"]
    search = await client.get(
        "/api/v1/conversations", params={"search": NUL}, headers=auth
    )
    await assert_error_shape(search, 400, "invalid_input", "search")
    # nothing was written: no message out, no tag, no note, no contact
    listed = await client.get("/api/v1/messages?direction=outbound", headers=auth)
    assert (await listed.json())["data"] == []
    thread = await services.inbox.thread(cid)
    assert (thread.conversation.tags, thread.notes) == ((), ())
    contacts = await client.get("/api/v1/contacts", headers=auth)
    assert [c["number"] for c in (await contacts.json())["data"]] == [CUSTOMER]


async def test_twilios_api_names_the_form_field_holding_a_nul(
    client: TestClient[Any, Any], services: Services
) -> None:
    made = await services.twilio.create_account("crm", actor="test")
    raw = f"{made.account.sid}:{made.auth_token}".encode()
    auth = {"Authorization": "Basic " + base64.b64encode(raw).decode()}
    path = f"/2010-04-01/Accounts/{made.account.sid}/Messages.json"
    form = {"To": CUSTOMER, "Body": NUL}
    response = await client.post(path, data=form, headers=auth)
    assert response.status == 400
    body = await response.json()
    assert (body["status"], body["code"]) == (400, 20001)
    assert "Body" in body["message"]
    listed = await client.get(path, headers=auth)
    assert (await listed.json())["messages"] == []


async def test_console_forms_name_the_field_holding_a_nul(
    client: TestClient[Any, Any], services: Services
) -> None:
    cid = await _conversation(services)
    csrf = await sign_in(client, "agent")
    for path, form, field in (
        (f"/conversations/{cid}/reply", {"body": NUL}, "body"),
        (
            f"/conversations/{cid}/reply",
            {"body": "Shipped today", "idempotency_key": NUL},
            "idempotency_key",
        ),
        (f"/conversations/{cid}/notes", {"body": NUL}, "body"),
    ):
        response = await client.post(path, data={"csrf_token": csrf, **form})
        assert response.status == 400, path
        assert f"{field}: the NUL character (U+0000) is not allowed" in (
            await response.text()
        )
    thread = await services.inbox.thread(cid)
    assert [m.body for m in thread.messages] == ["hello"]  # no reply went out
    assert thread.notes == ()

    csrf = await sign_in(client, "admin")
    form = {"csrf_token": csrf, "url": "https://example.com/hook", "description": NUL}
    response = await client.post("/webhooks/endpoints", data=form)
    assert response.status == 400
    assert "description: the NUL character" in await response.text()
    assert await services.webhooks.list_endpoints() == []
    # a path parameter and a query parameter
    response = await client.post(
        "/users/agent%00x/disable", data={"csrf_token": csrf}, allow_redirects=False
    )
    assert response.status == 400
    assert "username: the NUL character" in await response.text()
    response = await client.get("/dashboard", params={"queue": NUL})
    assert response.status == 400
    assert "queue: the NUL character" in await response.text()


async def test_signing_in_with_a_nul_is_refused_not_a_failure(
    client: TestClient[Any, Any],
) -> None:
    form = {"username": "agent\x00", "password": "correct horse battery"}
    response = await client.post("/login", data=form, allow_redirects=False)
    assert response.status == 400
    assert "username: the NUL character" in await response.text()
    assert (await client.get("/", allow_redirects=False)).status == 303  # not signed in
