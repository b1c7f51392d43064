"""Rules saved on the Automation page drive the running daemon: the real daemon with its
embedded simulated modem and phones, the console's routes in process; the triage menu
and a collection flow typed into the forms, then a phone texts and gets what the forms
said, and the rule tester had said the same beforehand."""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from webhelpers import PASSWORD, AiohttpClient, sign_in, web_settings

from gateway.daemon import Daemon
from gateway.services import Services
from modem.sim.network import SimNetwork
from tests.gateway.gwhelpers import eventually
from web.app import create_app

pytestmark = pytest.mark.integration

PHONE = "+447700900555"
ASK = "Sorry about that. Reply with your order number."
MENU = "Hi! Reply 1 for billing, 2 for delivery."


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[tuple[Services, SimNetwork, str]]:
    settings = web_settings(tmp_path, "[outbound]\nparts_per_minute = 600\n")
    settings = dataclasses.replace(
        settings,
        simulator=dataclasses.replace(
            settings.simulator, enabled=True, control_port=_free_port()
        ),
    )
    daemon = Daemon(settings)
    services = await daemon.start()
    try:
        assert daemon.simulator is not None
        await services.auth.add_user("admin", PASSWORD, role="admin", actor="test")

        async def ready() -> bool:
            return any(m.state == "ready" for m in await services.overview.modems())

        await eventually(ready, within=15.0)
        yield services, daemon.simulator.network, settings.simulator.number
    finally:
        await daemon.stop()


async def test_a_menu_and_a_flow_typed_into_the_forms_reach_the_phone(
    running: tuple[Services, SimNetwork, str], aiohttp_client: AiohttpClient
) -> None:
    services, network, modem_number = running
    client: TestClient[Any, Any] = await aiohttp_client(
        create_app(services, services.settings)
    )
    csrf = await sign_in(client, "admin")
    forms: list[tuple[str, dict[str, str]]] = [
        ("/automation/triage", {"intro": "Hi!", "ask": "yes"}),
        (
            "/automation/flows",
            {
                "name": "Order number",
                "fields.1.name": "order_number",
                "fields.1.prompt": ASK,
                "fields.1.kind": "pattern",
                "fields.1.pattern": r"\b(\d{6,10})\b",
                "fields.1.save_to_contact": "yes",
            },
        ),
        ("/automation/triage/options", {"key": "1", "label": "billing"}),
    ]
    for path, data in forms:
        answer = await client.post(
            path, data={"csrf_token": csrf, **data}, allow_redirects=False
        )
        assert answer.status == 303, await answer.text()
    flow = (await services.automation.view()).snapshot.flows[0]
    answer = await client.post(
        "/automation/triage/options",
        data={
            "csrf_token": csrf,
            "key": "2",
            "label": "delivery",
            "queue": "delivery",
            "flow_id": str(flow.id),
        },
        allow_redirects=False,
    )
    assert answer.status == 303

    tested = await client.post(
        "/automation/test", data={"csrf_token": csrf, "text": "Hello\n2\n4839201"}
    )
    said = await tested.text()
    for text in (MENU, ASK, "Thanks - one moment while I connect you to an agent."):
        assert text in said

    def inbox() -> list[str]:
        return [m.text for m in network.inbox(PHONE)]

    network.send_text(PHONE, modem_number, "Hello")
    await eventually(lambda: MENU in inbox())
    network.send_text(PHONE, modem_number, "2")
    await eventually(lambda: ASK in inbox())
    network.send_text(PHONE, modem_number, "it's 4839201")
    await eventually(lambda: len(inbox()) == 3)
    assert inbox()[-1].startswith("Thanks - one moment while I connect you")
    contact = await services.contacts.lookup(PHONE)
    assert contact.contact.attributes["order_number"] == "4839201"
