"""The webhook API (admins): endpoints, deliveries, replay and test events over real
services and a local receiver; every answer is checked against the OpenAPI document,
and every webhook operation shows a success and an error."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from webhelpers import assert_error_shape

from gateway import daemon as daemon_module
from gateway.domain import utcnow
from gateway.services import Services
from gateway.webhooks import relay as relay_module
from gateway.webhooks import signing
from gateway.webhooks.relay import WebhookRelay
from tests.gateway.gwhelpers import eventually
from tests.gateway.webhooks.receiver import Receiver
from tests.gateway.webhooks.test_webhook_relay import FAST
from tests.web.api.apihelpers import CUSTOMER, ApiDoc, CheckedClient, inbound
from web.api import webhook_docs
from web.api.openapi import document
from web.keys import ACCESS

ENDPOINTS = "/api/v1/webhooks/endpoints"
DELIVERIES = "/api/v1/webhooks/deliveries"


@pytest.fixture(autouse=True)
def _fast_relay(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(relay_module, "POLL_INTERVAL_S", 0.02)
    monkeypatch.setattr(relay_module, "SHUTDOWN_GRACE_S", 0.2)

    def fast(store: Any, bus: Any, settings: Any, **kwargs: Any) -> WebhookRelay:
        return WebhookRelay(store, bus, FAST, **kwargs)

    monkeypatch.setattr(daemon_module, "WebhookRelay", fast)


@pytest.fixture
def clock() -> Any:
    """The real clock: the relay's retries come due, receivers check timestamps."""
    return utcnow


@pytest.fixture
def doc(app: web.Application) -> ApiDoc:
    return ApiDoc(document(app[ACCESS]))


@pytest.fixture
async def admin(
    client: TestClient[Any, Any], services: Services, doc: ApiDoc
) -> CheckedClient:
    token = await services.auth.create_token("admin", "ops", actor="test")
    return CheckedClient(client, doc, token.token)


@pytest.fixture
async def agent(
    client: TestClient[Any, Any], services: Services, doc: ApiDoc
) -> CheckedClient:
    token = await services.auth.create_token("agent", "crm", actor="test")
    return CheckedClient(client, doc, token.token)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver()
    await found.up()
    yield found
    await found.down()


async def test_endpoints_are_made_read_changed_rotated_and_deleted(
    admin: CheckedClient, services: Services
) -> None:
    response = await admin.post(
        ENDPOINTS,
        json={
            "url": "https://crm.example.com/hooks/sms?token=abc",
            "description": "CRM",
            "events": ["message.received", "contact.opted_out"],
        },
    )
    assert response.status == 201
    made = await response.json()
    assert made["object"] == "webhook_endpoint"
    assert signing.secret_key(made["secret"])
    assert response.headers["Location"] == f"{ENDPOINTS}/{made['id']}"
    assert made["events"] == ["contact.opted_out", "message.received"]
    assert made["active"] is True
    path = f"{ENDPOINTS}/{made['id']}"

    one = await (await admin.get(path)).json()
    assert "secret" not in one
    assert one["secret_hint"] == made["secret"][:10] + "…"
    listed = await (await admin.get(ENDPOINTS)).json()
    assert [e["id"] for e in listed["data"]] == [made["id"]]
    assert "secret" not in listed["data"][0]

    changed = await (
        await admin.patch(path, json={"active": False, "description": None})
    ).json()
    assert (changed["active"], changed["description"]) == (False, None)
    assert changed["url"] == made["url"]  # left out: unchanged
    everything = await (await admin.patch(path, json={"events": []})).json()
    assert everything["events"] == []

    rotated = await (await admin.post(f"{path}/rotate-secret")).json()
    assert rotated["secret"] != made["secret"]
    assert rotated["rotating_until"] is not None

    gone = await (await admin.delete(path)).json()
    assert gone == {"object": "webhook_endpoint", "id": made["id"], "deleted": True}
    await assert_error_shape(await admin.get(path), 404, "not_found")
    actions = [a.action for a in await services.audit.list()]
    for action in ("create", "update", "rotate_secret", "delete"):
        assert f"webhook.endpoint.{action}" in actions


async def test_bad_input_is_refused_naming_the_field(admin: CheckedClient) -> None:
    for body, field in (
        ({"url": "ftp://x.example/"}, "url"),
        ({"url": "https://user:pw@x.example/"}, "url"),
        ({"url": "https://x.example/", "events": ["message.sent"]}, "events"),
        ({"url": "https://x.example/", "events": "message.status"}, "events"),
        ({"url": "https://x.example/", "active": "yes"}, "active"),
        ({"url": "https://x.example/", "secret": "whsec_mine"}, "secret"),
        ({}, "url"),
    ):
        response = await admin.post(ENDPOINTS, json=body)
        await assert_error_shape(response, 400, "invalid_input", field)
    await assert_error_shape(
        await admin.get(f"{DELIVERIES}?status=lost"), 400, "invalid_input", "status"
    )
    await assert_error_shape(
        await admin.get(f"{DELIVERIES}?cursor=abc"), 400, "invalid_input", "cursor"
    )


async def test_a_test_event_is_delivered_signed_and_its_attempt_logged(
    admin: CheckedClient, receiver: Receiver
) -> None:
    made = await (await admin.post(ENDPOINTS, json={"url": receiver.url})).json()
    receiver.secrets.append(made["secret"])
    response = await admin.post(f"{ENDPOINTS}/{made['id']}/test")
    assert response.status == 202
    queued = await response.json()
    assert (queued["event_type"], queued["status"]) == ("webhook.test", "pending")
    (request,) = await eventually(receiver.accepted)
    assert request.verified
    assert request.webhook_id == queued["event_id"]

    async def delivered() -> Any:
        found = await (await admin.get(f"{DELIVERIES}/{queued['id']}")).json()
        return found if found["status"] == "delivered" else None

    detail = await eventually(delivered)
    assert detail["endpoint_url"] == receiver.url
    assert detail["body"]["id"] == queued["event_id"]
    assert detail["body"]["type"] == "webhook.test"
    (attempt,) = detail["log"]
    assert (attempt["status_code"], attempt["outcome"]) == (204, "delivered")


async def test_a_dead_delivery_is_replayed_from_the_api_with_its_webhook_id(
    admin: CheckedClient, receiver: Receiver, services: Services
) -> None:
    receiver.mode = "400"
    made = await (
        await admin.post(
            ENDPOINTS, json={"url": receiver.url, "events": ["conversation.created"]}
        )
    ).json()
    receiver.secrets.append(made["secret"])
    await inbound(services.outbound._store, "where is my order?", now=utcnow())
    services.webhooks._woken()

    async def dead() -> Any:
        page = await (await admin.get(f"{DELIVERIES}?status=dead")).json()
        return page["data"] or None

    (delivery,) = await eventually(dead)
    assert delivery["attempts"] == FAST.max_rejected_attempts
    assert delivery["last_status_code"] == 400
    await assert_error_shape(
        await admin.post(f"{DELIVERIES}/999/replay"), 404, "not_found"
    )
    receiver.mode = "ok"
    response = await admin.post(f"{DELIVERIES}/{delivery['id']}/replay")
    assert response.status == 202
    replayed = await response.json()
    assert (replayed["status"], replayed["replays"]) == ("pending", 1)
    assert replayed["event_id"] == delivery["event_id"]
    # while pending, another replay is a conflict
    again = await admin.post(f"{DELIVERIES}/{delivery['id']}/replay")
    if again.status != 202:  # unless the relay was quicker than this request
        await assert_error_shape(again, 409, "conflict")
    (request,) = await eventually(receiver.accepted)
    assert request.webhook_id == delivery["event_id"]
    assert request.json["type"] == "conversation.created"
    assert request.json["data"]["contact"]["number"] == CUSTOMER
    assert request.verified
    # and the bulk replay: nothing is dead any more
    bulk = await (await admin.post(f"{ENDPOINTS}/{made['id']}/replay-dead")).json()
    assert bulk == {
        "object": "webhook_replay",
        "endpoint_id": made["id"],
        "replayed": 0,
    }


async def test_deliveries_page_with_cursors_and_filters(
    admin: CheckedClient, services: Services
) -> None:
    made = await (
        await admin.post(
            ENDPOINTS, json={"url": "http://127.0.0.1:9/x", "active": False}
        )
    ).json()
    for _ in range(3):
        await admin.post(f"{ENDPOINTS}/{made['id']}/test")
    first = await (
        await admin.get(f"{DELIVERIES}?limit=2&endpoint_id={made['id']}")
    ).json()
    assert first["has_more"]
    rest = await (
        await admin.get(
            f"{DELIVERIES}?limit=2&endpoint_id={made['id']}&cursor={first['next_cursor']}"
        )
    ).json()
    ids = [d["id"] for d in first["data"] + rest["data"]]
    assert ids == sorted(ids, reverse=True)
    assert len(ids) == 3
    assert not rest["has_more"]
    # a cursor is bound to its filters
    response = await admin.get(f"{DELIVERIES}?limit=2&cursor={first['next_cursor']}")
    await assert_error_shape(response, 400, "invalid_input", "cursor")
    typed = await (await admin.get(f"{DELIVERIES}?event_type=message.status")).json()
    assert typed["data"] == []


async def test_every_webhook_operation_answers_as_documented(
    admin: CheckedClient, agent: CheckedClient, receiver: Receiver
) -> None:
    """A success and an error of each webhook operation, checked against the document
    (the CheckedClient); agents are refused everywhere."""
    made = await (await admin.post(ENDPOINTS, json={"url": receiver.url})).json()
    path = f"{ENDPOINTS}/{made['id']}"
    test = await (await admin.post(f"{path}/test")).json()
    await eventually(receiver.accepted)
    calls = [
        ("GET", ENDPOINTS, {}),
        ("GET", path, {}),
        ("PATCH", path, {"json": {"description": "x"}}),
        ("POST", f"{path}/rotate-secret", {}),
        ("POST", f"{path}/replay-dead", {}),
        ("GET", DELIVERIES, {}),
        ("GET", f"{DELIVERIES}/{test['id']}", {}),
    ]
    for method, url, kwargs in calls:
        response = await admin.request(method, url, **kwargs)
        assert response.status < 300, (method, url, await response.text())

    async def replayable() -> bool:
        found = await (await admin.get(f"{DELIVERIES}/{test['id']}")).json()
        return bool(found["status"] == "delivered")

    await eventually(replayable)
    assert (await admin.post(f"{DELIVERIES}/{test['id']}/replay")).status == 202
    assert (await admin.delete(path)).status == 200
    for method, url, kwargs in [*calls, ("POST", ENDPOINTS, {"json": {"url": "x"}})]:
        response = await agent.request(method, url, **kwargs)
        await assert_error_shape(response, 403, "forbidden")
    for method, url in (
        ("GET", f"{ENDPOINTS}/999"),
        ("PATCH", f"{ENDPOINTS}/999"),
        ("DELETE", f"{ENDPOINTS}/999"),
        ("POST", f"{ENDPOINTS}/999/rotate-secret"),
        ("POST", f"{ENDPOINTS}/999/test"),
        ("POST", f"{ENDPOINTS}/999/replay-dead"),
        ("GET", f"{DELIVERIES}/999"),
        ("POST", f"{DELIVERIES}/999/replay"),
    ):
        kwargs = {"json": {}} if method == "PATCH" else {}
        await assert_error_shape(
            await admin.request(method, url, **kwargs), 404, "not_found"
        )
    await assert_error_shape(await admin.post(ENDPOINTS, json=[]), 400, "invalid_json")
    seen = admin.seen | agent.seen
    for op in webhook_docs.OPERATIONS:
        name = f"{op.method} {op.path}"
        statuses = {status for operation, status in seen if operation == name}
        assert any(s < 300 for s in statuses), f"{name}: no success checked"
        assert any(s >= 400 for s in statuses), f"{name}: no error checked"
