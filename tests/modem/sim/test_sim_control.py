"""The control API over HTTP, bad input included."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from simhelpers import FakeClock, connect

from modem import pdu
from modem.sim.control import create_app, state_view
from modem.sim.network import SimNetwork

MODEM = "+15550100001"
PHONE = "+4915112345678"


@pytest.fixture
def network() -> SimNetwork:
    net = SimNetwork(clock=FakeClock())
    net.add_modem(MODEM)
    return net


@pytest.fixture
async def client(network: SimNetwork) -> AsyncIterator[TestClient[Any, Any]]:
    async with TestClient(TestServer(create_app(network))) as test_client:
        yield test_client


async def test_a_phone_texts_a_modem(
    client: TestClient[Any, Any], network: SimNetwork
) -> None:
    resp = await client.post(
        f"/phones/{PHONE}/send", json={"to": MODEM, "text": "hello 👋"}
    )
    assert resp.status == 202
    assert await resp.json() == {
        "from": PHONE,
        "to": MODEM,
        "parts": 1,
        "at": "2026-11-27T17:41:58+00:00",  # when the modem got it (latency benchmarks)
    }
    (slot,) = network.modem(MODEM).state.storage("SM").listing()
    assert pdu.decode(slot.pdu).text == "hello 👋"  # type: ignore[union-attr]


async def test_percent_encoded_numbers_and_16_bit_refs(
    client: TestClient[Any, Any], network: SimNetwork
) -> None:
    resp = await client.post(
        "/phones/%2B4915112345678/send",
        json={"to": MODEM, "text": "x" * 200, "ref_bits": 16},
    )
    assert resp.status == 202
    assert (await resp.json())["parts"] == 2
    concat = pdu.decode(
        network.modem(MODEM).state.storage("SM").listing()[0].pdu
    ).concat
    assert concat is not None
    assert concat.ref_bits == 16


async def test_inbox_shows_what_a_modem_sent(
    client: TestClient[Any, Any], network: SimNetwork
) -> None:
    host = await connect(network.modem(MODEM))
    for part in pdu.encode_submit(PHONE, "y" * 170, concat_ref=5):
        await host.command(f"AT+CMGS={part.tpdu_length}", b"> ")
        host.send(part.hex + "\x1a")
        await host.wait_for(b"OK\r\n")
    resp = await client.get(f"/phones/{PHONE}/inbox")
    assert resp.status == 200
    body = await resp.json()
    assert body["number"] == PHONE
    (message,) = body["messages"]
    assert (message["from"], message["text"], message["parts"]) == (MODEM, "y" * 170, 2)
    assert message["references"] == [1, 2]
    assert message["received_at"].startswith("2026-11-27T17:41:58")


async def test_submissions_say_when_each_part_was_sent(
    client: TestClient[Any, Any], network: SimNetwork
) -> None:
    # benchmarks time a third-party sender (gammu-smsd) by these timestamps
    clock = network.scheduler.clock
    assert isinstance(clock, FakeClock)
    host = await connect(network.modem(MODEM))
    for part in pdu.encode_submit(PHONE, "z" * 170, concat_ref=6):
        await host.command(f"AT+CMGS={part.tpdu_length}", b"> ")
        host.send(part.hex + "\x1a")
        await host.wait_for(b"OK\r\n")
        clock.move(0.25)
    resp = await client.get("/submissions", params={"modem": MODEM})
    assert resp.status == 200
    (modem,) = (await resp.json())["modems"]
    assert modem["number"] == MODEM
    first, second = modem["submitted"]
    assert (first["reference"], second["reference"]) == (1, 2)
    assert first["tpdu_length"] > second["tpdu_length"] > 0
    assert first["at"] == "2026-11-27T17:41:58+00:00"
    assert second["at"] == "2026-11-27T17:41:58.250000+00:00"
    # the PDU as submitted: the crash harness finds a part sent twice by it
    parts = [
        pdu.decode(bytes.fromhex(s["pdu"]), has_smsc=True) for s in (first, second)
    ]
    assert [p.destination.number for p in parts] == [PHONE, PHONE]  # type: ignore[union-attr]
    assert [p.concat.seq for p in parts] == [1, 2]  # type: ignore[union-attr]
    assert (await (await client.get("/submissions")).json())["modems"] == [modem]
    resp = await client.get("/submissions", params={"modem": "+1999"})
    assert resp.status == 404


async def test_an_unknown_phone_has_an_empty_inbox(
    client: TestClient[Any, Any],
) -> None:
    resp = await client.get("/phones/+4915100000000/inbox")
    assert resp.status == 200
    assert (await resp.json())["messages"] == []


@pytest.mark.parametrize(
    ("path", "body", "status", "field"),
    [
        (f"/phones/{PHONE}/send", {"text": "hi"}, 400, "to"),
        (f"/phones/{PHONE}/send", {"to": 12, "text": "hi"}, 400, "to"),
        (f"/phones/{PHONE}/send", {"to": MODEM}, 400, "text"),
        (f"/phones/{PHONE}/send", {"to": MODEM, "text": ""}, 400, "text"),
        (f"/phones/{PHONE}/send", {"to": MODEM, "text": "x" * 10_001}, 400, "text"),
        (
            f"/phones/{PHONE}/send",
            {"to": MODEM, "text": "hi", "ref_bits": 12},
            400,
            "ref_bits",
        ),
        (f"/phones/{PHONE}/send", {"to": "+15550000000", "text": "hi"}, 404, "to"),
        (f"/phones/{PHONE}/send", ["to", MODEM], 400, "(body)"),
        ("/phones/nobody/send", {"to": MODEM, "text": "hi"}, 400, "number"),
        ("/faults", {"latency_ms": "slow"}, 400, "latency_ms"),
        ("/faults", {"explode": True}, 400, "explode"),
        ("/faults", {"modem": "+1999", "hang": True}, 404, "modem"),
        (f"/phones/{PHONE}", {"outcome": "lost"}, 400, "outcome"),
    ],
)
async def test_bad_input_gets_a_json_error_naming_the_field(
    client: TestClient[Any, Any], path: str, body: object, status: int, field: str
) -> None:
    method = (
        client.put
        if path.count("/") == 2 and path.startswith("/phones")
        else client.post
    )
    resp = await method(path, json=body)
    assert resp.status == status
    error = await resp.json()
    assert error["ok"] is False
    assert error["status"] == status
    assert error["field"] == field
    assert field in error["error"] or field == "(body)"


async def test_not_json_at_all(client: TestClient[Any, Any]) -> None:
    resp = await client.post(f"/phones/{PHONE}/send", data=b"{nope")
    assert resp.status == 400
    assert (await resp.json())["field"] == "(body)"


async def test_faults_apply_and_clear(
    client: TestClient[Any, Any], network: SimNetwork
) -> None:
    modem = network.modem(MODEM)
    resp = await client.post(
        "/faults", json={"modem": MODEM, "no_network": True, "latency_ms": 5}
    )
    assert resp.status == 200
    (view,) = (await resp.json())["modems"]
    assert view["registration"] == "not_registered"
    assert view["faults"] == {"latency_ms": 5.0, "no_network": True}
    assert not modem.state.registration.registered
    resp = await client.delete("/faults")
    assert resp.status == 200
    assert modem.state.registration.registered
    assert modem.faults.as_dict() == {}
    resp = await client.delete("/faults?modem=+1999")
    assert resp.status == 404


async def test_phone_outcome_and_listing(
    client: TestClient[Any, Any], network: SimNetwork
) -> None:
    resp = await client.put(f"/phones/{PHONE}", json={"outcome": "failed"})
    assert resp.status == 200
    assert (await resp.json())["outcome"] == "failed"
    resp = await client.get("/phones")
    assert (await resp.json())["phones"] == [
        {"number": PHONE, "outcome": "failed", "received": 0, "sent": 0, "pending": 0}
    ]


async def test_state_shows_modems_and_phones(
    client: TestClient[Any, Any], network: SimNetwork
) -> None:
    network.send_text(PHONE, MODEM, "hi")
    resp = await client.get("/state")
    assert resp.status == 200
    body = await resp.json()
    assert body == state_view(network)
    (modem,) = body["modems"]
    assert modem["number"] == MODEM
    assert modem["profile"] == "generic"
    assert modem["registration"] == "home"
    assert modem["storage"]["SM"] == {"used": 1, "capacity": 30}
    assert modem["cnmi"] == [2, 1, 0, 0, 0]
    assert modem["submitted"] == 0
    assert modem["faults"] == {}
    assert body["phones"][0]["sent"] == 1
