"""The Twilio accounts console (admins): create an account (its auth token shown once),
change its inbound URL, modems and webhooks, rotate the token (the old one stops)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from webhelpers import sign_in

from gateway.services import Services
from gateway.twilio.errors import TwilioApiError

TOKEN_RE = re.compile(r"<code>([0-9a-f]{32})</code>")
SID_RE = re.compile(r"<code>(AC[0-9a-f]{32})</code>")


async def test_an_admin_manages_twilio_accounts(
    client: TestClient[Any, Any], services: Services
) -> None:
    csrf = await sign_in(client, "admin")
    page = await (await client.get("/twilio")).text()
    assert "No Twilio accounts yet" in page
    assert 'href="/twilio"' in page  # the admin's nav link

    response = await client.post(
        "/twilio/accounts",
        data={
            "csrf_token": csrf,
            "name": "Helpdesk",
            "inbound_url": "https://helpdesk.example.com/sms",
        },
    )
    assert response.status == 201
    page = await response.text()
    assert "Copy the auth token now" in page
    (sid,) = set(SID_RE.findall(page))
    (token,) = TOKEN_RE.findall(page)
    account = await services.twilio.authenticate(sid, token)
    assert account.inbound_url == "https://helpdesk.example.com/sms"

    page = await (await client.get(f"/twilio/accounts/{sid}")).text()
    assert token not in page  # shown once
    assert account.token_hint in page
    assert f"/twilio/accounts/{sid}" in await (await client.get("/twilio")).text()

    response = await client.post(
        f"/twilio/accounts/{sid}",
        data={
            "csrf_token": csrf,
            "name": "Helpdesk",
            "inbound_url": "",
            "webhooks": "off",
        },
        allow_redirects=False,
    )
    assert response.status == 303
    updated = await services.twilio.get_account(sid)
    assert (updated.inbound_url, updated.webhooks_active) == (None, False)

    response = await client.post(
        f"/twilio/accounts/{sid}",
        data={"csrf_token": csrf, "name": "Helpdesk", "inbound_url": "ftp://x"},
    )
    assert response.status == 400
    assert "inbound_url" in await response.text()

    page = await (
        await client.post(f"/twilio/accounts/{sid}/rotate", data={"csrf_token": csrf})
    ).text()
    (rotated,) = TOKEN_RE.findall(page)
    assert rotated != token
    assert await services.twilio.authenticate(sid, rotated)
    with pytest.raises(TwilioApiError):
        await services.twilio.authenticate(sid, token)

    response = await client.get("/twilio/accounts/AC" + "0" * 32)
    assert response.status == 404


async def test_agents_see_no_twilio_link(client: TestClient[Any, Any]) -> None:
    await sign_in(client, "agent")
    page = await (await client.get("/")).text()
    assert 'href="/twilio"' not in page
