"""The Twilio API's edges through the web app (no modem needed): HTTP Basic only, the
path's account, Twilio's error JSON for every failure (a route that does not exist, a
wrong method, bad parameters, a bug), unknown parameters ignored and MediaUrl refused."""

from __future__ import annotations

import base64
import logging
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from gateway.services import Services
from gateway.twilio.records import AccountToken

ERROR_KEYS = {"code", "message", "more_info", "status"}


def basic(sid: str, token: str) -> dict[str, str]:
    raw = base64.b64encode(f"{sid}:{token}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


@pytest.fixture
async def account(services: Services) -> AccountToken:
    return await services.twilio.create_account("crm", actor="test")


def messages(made: AccountToken) -> str:
    return f"/2010-04-01/Accounts/{made.account.sid}/Messages.json"


async def twilio_error(response: Any, status: int, code: int) -> dict[str, Any]:
    assert response.status == status
    assert response.content_type == "application/json"
    body: dict[str, Any] = await response.json()
    assert set(body) == ERROR_KEYS
    assert (body["status"], body["code"]) == (status, code)
    assert body["more_info"] == f"https://www.twilio.com/docs/errors/{code}"
    assert body["message"]
    return body


async def test_only_a_twilio_account_may_call(
    client: TestClient[Any, Any], account: AccountToken
) -> None:
    path = messages(account)
    sid, token = account.account.sid, account.auth_token
    for headers in (
        {},
        {"Authorization": f"Bearer {token}"},
        {"Authorization": "Basic !!!"},
        {"Authorization": "Basic " + base64.b64encode(b"no colon").decode()},
        basic(sid, token.upper()),
        basic(sid.lower(), token),
    ):
        response = await client.get(path, headers=headers)
        await twilio_error(response, 401, 20003)
        assert response.headers["WWW-Authenticate"] == 'Basic realm="Twilio API"'
    response = await client.get(path, headers=basic(sid, token))
    assert response.status == 200
    body = await response.json()
    assert body["messages"] == []
    assert (body["page"], body["page_size"], body["next_page_uri"]) == (0, 50, None)
    assert body["uri"] == f"{path}?PageSize=50&Page=0"


async def test_every_failure_is_twilio_json(
    client: TestClient[Any, Any],
    account: AccountToken,
    services: Services,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    auth = basic(account.account.sid, account.auth_token)
    path = messages(account)
    base = f"/2010-04-01/Accounts/{account.account.sid}"
    await twilio_error(await client.put(path, headers=auth), 405, 20004)
    await twilio_error(await client.get(f"{base}/Calls.json", headers=auth), 404, 20404)
    await twilio_error(
        await client.get(f"{base}/Messages/SMnope.json", headers=auth), 404, 20404
    )
    for query, name in (
        ("PageSize=0", "PageSize"),
        ("PageSize=ten", "PageSize"),
        ("Page=-1", "Page"),
        ("PageToken=PZ12", "PageToken"),
        ("DateSent=2026-13-01", "DateSent"),
        ("DateSent%3C=yesterday", "DateSent<"),
        ("To=%2B447700900123&To=%2B447700900456", "To"),
    ):
        response = await client.get(f"{path}?{query}", headers=auth)
        body = await twilio_error(response, 400, 20001)
        assert name in body["message"], query

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug with secrets inside")

    monkeypatch.setattr(services.twilio, "list_messages", broken)
    caplog.set_level(logging.ERROR)
    body = await twilio_error(await client.get(path, headers=auth), 500, 20500)
    assert "secrets" not in body["message"]
    assert "a bug with secrets inside" in caplog.text  # logged, for the operator


async def test_the_create_form(
    client: TestClient[Any, Any], account: AccountToken
) -> None:
    auth = basic(account.account.sid, account.auth_token)
    path = messages(account)
    form = {
        "To": "+447700900123",
        "Body": "Hello from the helpdesk",
        "From": "+15005550006",  # a number at Twilio: ignored, the box chooses
        "MessagingServiceSid": "MG" + "0" * 32,
        "ApplicationSid": "AP" + "0" * 32,
        "MaxPrice": "0.05",
        "SmartEncoded": "true",
        "SomethingNew": "ignored",
    }
    response = await client.post(path, data=form, headers=auth)
    assert response.status == 201, await response.text()
    body = await response.json()
    assert (body["status"], body["to"], body["from"]) == (
        "queued",
        "+447700900123",
        None,  # no modem took it yet
    )
    fetched = await client.get(body["uri"], headers=auth)
    assert (await fetched.json())["sid"] == body["sid"]

    media = dict(form, MediaUrl="https://example.com/cat.jpg")
    await twilio_error(await client.post(path, data=media, headers=auth), 400, 21620)
    twice = [("To", "+447700900123"), ("To", "+447700900456"), ("Body", "Hi")]
    await twilio_error(await client.post(path, data=twice, headers=auth), 400, 20001)
    national = {"To": "07700 900123", "Body": "read in the box's region"}
    response = await client.post(path, data=national, headers=auth)
    assert (await response.json())["to"] == "+447700900123"
    # a browser page of another site cannot use credentials the browser holds
    cross = {**auth, "Sec-Fetch-Site": "cross-site"}
    await twilio_error(await client.post(path, data=form, headers=cross), 403, 20003)
