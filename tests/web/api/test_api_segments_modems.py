"""POST /api/v1/segments (the composer's counter) and the modems: list, one, a test text
through one modem only."""

from __future__ import annotations

from apihelpers import CUSTOMER, CheckedClient, modem
from webhelpers import T0, assert_error_shape

from gateway.domain import MessageOrigin
from gateway.services import Services
from gateway.storage.db import Store


async def test_segments_count_a_draft(agent: CheckedClient) -> None:
    # 200 UTF-16 units: UCS-2 parts of 67 units, 33 emoji each (a pair is never split)
    emoji = "🙂" * 100
    response = await agent.post("/api/v1/segments", json={"text": emoji})
    assert await response.json() == {
        "object": "segments",
        "encoding": "ucs2",
        "parts": 4,
        "units": 200,
        "units_per_part": 67,
        "units_left": 65,
        "non_gsm_chars": ["🙂"],
        "max_parts": 10,
        "sendable": True,
    }
    plain = await (await agent.post("/api/v1/segments", json={"text": "Hi {x}"})).json()
    assert (plain["encoding"], plain["units"], plain["units_left"]) == ("gsm7", 8, 152)
    empty = await (await agent.post("/api/v1/segments", json={"text": ""})).json()
    assert (empty["parts"], empty["sendable"]) == (1, False)
    for payload, field in (
        ({}, "text"),
        ({"text": 1}, "text"),
        ({"text": "a", "x": 1}, "x"),
    ):
        response = await agent.post("/api/v1/segments", json=payload)
        await assert_error_shape(response, 400, "invalid_input", field=field)


async def test_modems_list_and_one(agent: CheckedClient, store: Store) -> None:
    await modem(store, "usb1", now=T0, state="offline", last_error="port vanished")
    await modem(store, "usb0", now=T0, state="ready", signal_dbm=-71, operator="EE")
    listed = await (await agent.get("/api/v1/modems")).json()
    assert listed["object"] == "list"
    assert [(m["name"], m["state"]) for m in listed["data"]] == [
        ("usb0", "ready"),
        ("usb1", "offline"),
    ]
    one = await (await agent.get("/api/v1/modems/usb1")).json()
    assert (one["object"], one["last_error"], one["queue_depth"]) == (
        "modem",
        "port vanished",
        0,
    )
    assert one["updated_at"] == "2026-03-01T09:00:00Z"
    response = await agent.get("/api/v1/modems/usb9")
    body = await assert_error_shape(response, 404, "not_found")
    assert body["error"] == "modem usb9 not found"


async def test_a_modem_test_is_pinned_to_that_modem(
    agent: CheckedClient, store: Store, services: Services
) -> None:
    await modem(store, "usb0", now=T0, state="ready")
    await modem(store, "usb1", now=T0, state="offline")
    response = await agent.post("/api/v1/modems/usb1/test", json={"to": CUSTOMER})
    assert response.status == 201
    message = await response.json()
    assert (message["modem"], message["origin"], message["status"]) == (
        "usb1",
        MessageOrigin.TEST.value,
        "queued",
    )
    assert "usb1" in message["body"]
    depth = await (await agent.get("/api/v1/modems/usb1")).json()
    assert depth["queue_depth"] == 1
    custom = await agent.post(
        "/api/v1/modems/usb0/test", json={"to": CUSTOMER, "body": "ping"}
    )
    assert (await custom.json())["body"] == "ping"
    response = await agent.post("/api/v1/modems/usb9/test", json={"to": CUSTOMER})
    await assert_error_shape(response, 404, "not_found")
    response = await agent.post("/api/v1/modems/usb0/test", json={"to": "x"})
    await assert_error_shape(response, 400, "invalid_input", field="to")
