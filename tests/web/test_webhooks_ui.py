"""The Webhooks console (admins): add an endpoint and see its secret once, edit it,
send a test event and watch its delivery and attempts, replay it; untrusted text is
escaped, and the pages need no inline script or style (CSP)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from webhelpers import sign_in

from gateway.domain import utcnow
from gateway.services import Services
from gateway.webhooks import relay as relay_module
from tests.gateway.gwhelpers import eventually
from tests.gateway.webhooks.receiver import Receiver

SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
SECRET = re.compile(r"whsec_[A-Za-z0-9+/=]{40,}")


@pytest.fixture(autouse=True)
def _fast_relay(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(relay_module, "POLL_INTERVAL_S", 0.02)


@pytest.fixture
def clock() -> Any:
    return utcnow


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver()
    await found.up()
    yield found
    await found.down()


def assert_clean(page: str) -> None:
    """No inline script or style: the CSP forbids them."""
    assert " style=" not in page
    assert "<style" not in page
    assert re.findall(r"<script[^>]*>", page) == [
        m for m in re.findall(r"<script[^>]*>", page) if "src=" in m
    ]
    assert " on" + "click=" not in page


async def test_an_admin_adds_an_endpoint_sees_the_secret_once_and_tests_it(
    client: TestClient[Any, Any], services: Services, receiver: Receiver
) -> None:
    csrf = await sign_in(client, "admin")
    page = await (await client.get("/webhooks")).text()
    assert "<h1>Webhooks</h1>" in page
    assert "No webhook endpoints yet" in page
    assert_clean(page)

    response = await client.post(
        "/webhooks/endpoints",
        data=[
            ("csrf_token", csrf),
            ("url", receiver.url),
            ("description", SCRIPT),
            ("events", "message.received"),
            ("events", "webhook.test"),
            ("active", "yes"),
        ],
    )
    assert response.status == 400  # webhook.test is not an event type to pick
    assert "unknown event type" in await response.text()

    response = await client.post(
        "/webhooks/endpoints",
        data=[
            ("csrf_token", csrf),
            ("url", receiver.url),
            ("description", SCRIPT),
            ("events", "message.received"),
            ("events", "message.status"),
            ("active", "yes"),
        ],
    )
    assert response.status == 201
    page = await response.text()
    (secret,) = set(SECRET.findall(page))
    receiver.secrets.append(secret)
    assert "it is not shown again" in page
    assert ESCAPED in page
    assert SCRIPT not in page
    assert_clean(page)
    (endpoint,) = await services.webhooks.list_endpoints()
    assert endpoint.events == ("message.received", "message.status")

    # the endpoint's page and the list never show the secret again
    for path in ("/webhooks", f"/webhooks/endpoints/{endpoint.id}"):
        page = await (await client.get(path)).text()
        assert secret not in page
        assert endpoint.secret_hint in page
        assert ESCAPED in page

    response = await client.post(
        f"/webhooks/endpoints/{endpoint.id}/test",
        data={"csrf_token": csrf},
        allow_redirects=False,
    )
    assert response.status == 303
    delivery_page = response.headers["Location"]
    assert delivery_page.startswith("/webhooks/deliveries/")
    (request,) = await eventually(receiver.accepted)
    assert request.verified

    async def delivered() -> str | None:
        text = await (await client.get(delivery_page)).text()
        return text if "HTTP 204" in text else None

    page = await eventually(delivered)
    assert "webhook.test" in page
    assert request.webhook_id in page
    assert "&#34;type&#34;: &#34;webhook.test&#34;" in page  # the body, escaped JSON
    assert_clean(page)

    response = await client.post(
        delivery_page + "/replay", data={"csrf_token": csrf}, allow_redirects=False
    )
    assert response.status == 303
    await eventually(lambda: len(receiver.accepted()) == 2)
    assert receiver.accepted()[1].webhook_id == request.webhook_id

    page = await (await client.get("/webhooks?status=delivered")).text()
    assert "webhook.test" in page
    page = await (await client.get("/webhooks?type=message.status")).text()
    assert "No deliveries match" in page


async def test_edit_rotate_and_delete_an_endpoint(
    client: TestClient[Any, Any], services: Services
) -> None:
    csrf = await sign_in(client, "admin")
    made = await services.webhooks.create_endpoint(
        "https://crm.example.com/hooks", actor="test"
    )
    path = f"/webhooks/endpoints/{made.endpoint.id}"
    response = await client.post(
        path,
        data=[
            ("csrf_token", csrf),
            ("url", "https://crm.example.com/v2/hooks"),
            ("description", "CRM v2"),
            ("events", "contact.opted_out"),
            ("active", "no"),
        ],
        allow_redirects=False,
    )
    assert response.status == 303
    page = await (await client.get(path)).text()
    assert "https://crm.example.com/v2/hooks" in page
    assert "Disabled" in page
    assert '<option value="contact.opted_out" selected>' in page
    assert_clean(page)

    response = await client.post(f"{path}/rotate", data={"csrf_token": csrf})
    page = await response.text()
    (secret,) = set(SECRET.findall(page))
    assert secret != made.secret
    assert "previous secret also signs until" in page

    response = await client.post(f"{path}/delete", data={"csrf_token": csrf})
    assert response.status == 400  # the box was not ticked
    response = await client.post(
        f"{path}/delete",
        data={"csrf_token": csrf, "confirm": "yes"},
        allow_redirects=False,
    )
    assert response.status == 303
    assert await services.webhooks.list_endpoints() == []
    assert (await client.get(path)).status == 404


async def test_agents_do_not_see_the_webhooks_page(
    client: TestClient[Any, Any],
) -> None:
    await sign_in(client, "agent")
    page = await (await client.get("/")).text()
    assert 'href="/webhooks"' not in page
    response = await client.get("/webhooks")
    assert response.status == 403
