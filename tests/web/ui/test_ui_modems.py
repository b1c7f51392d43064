"""The Modems page: state, signal, operator, registration, queue and last error; a test
text through one chosen modem, refused with the reason when it cannot go."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from uihelpers import store_of
from webhelpers import T0

from gateway.domain import ConsentSource, MessageOrigin
from gateway.services import Services
from gateway.storage import queries


async def _modems(services: Services) -> None:
    store = store_of(services)  # the test writes what a running daemon would
    await store.run(
        queries.upsert_modem,
        "usb0",
        now=T0,
        state="ready",
        signal_dbm=-71,
        operator="EE",
        registration="home",
        own_number="+447700900001",
    )
    await store.run(
        queries.upsert_modem, "usb1", now=T0, state="sim_locked", last_error="SIM PIN"
    )


async def test_the_page_shows_every_modem(
    client: TestClient[Any, Any], services: Services, csrf: str
) -> None:
    await _modems(services)
    page = await (await client.get("/modems")).text()
    for text in ("usb0", "+447700900001", "badge-ready", "-71 dBm", "EE", "(home)"):
        assert text in page, text
    for text in ("usb1", "badge-sim_locked", "SIM PIN"):
        assert text in page, text
    assert "Send a test text" in page
    assert '<option value="usb1">usb1 (sim_locked)</option>' in page


async def test_a_test_text_goes_through_the_chosen_modem_only(
    client: TestClient[Any, Any], services: Services, csrf: str
) -> None:
    await _modems(services)
    form = {"csrf_token": csrf, "modem": "usb1", "to": "07700 900123", "body": ""}
    response = await client.post("/modems/test", data=form, allow_redirects=False)
    assert response.status == 303
    location = response.headers["Location"]
    assert location.startswith("/modems?test=")
    message = await services.outbound.get(int(location.rsplit("=", 1)[1]))
    assert message.origin is MessageOrigin.TEST
    assert message.number == "+447700900123"
    assert message.modem == "usb1"
    page = await (await client.get(location)).text()
    assert f"Test text #{message.id} to +447700900123 through usb1" in page
    assert "<strong>queued</strong>" in page


async def test_a_test_text_that_cannot_go_says_why(
    client: TestClient[Any, Any], services: Services, csrf: str
) -> None:
    await _modems(services)
    await services.compliance.set_consent(
        "+447700900123", opted_out=True, source=ConsentSource.AGENT, actor="t"
    )
    for fields, status, reason in (
        ({"modem": "usb0", "to": "not a number"}, 400, "to:"),
        ({"modem": "usb9", "to": "+447700900456"}, 404, "usb9"),
        ({"modem": "usb0", "to": "+447700900123"}, 409, "has opted out"),
    ):
        form = {"csrf_token": csrf, "body": "ping", **fields}
        response = await client.post("/modems/test", data=form)
        assert response.status == status, fields
        page = await response.text()
        assert "Not sent:" in page
        assert reason in page
        assert 'value="ping"' in page  # what was typed is kept
    assert (await client.post("/modems/test", data={"modem": "usb0"})).status == 403
