"""GET /events/inbox: signed-in users only; the inbox's domain events as server-sent
events carrying ids and states, never anyone's text."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient
from uihelpers import inbound
from webhelpers import T0

from gateway import events
from gateway.services import Services
from web.ui.live import INBOX_EVENTS, encode_inbox_event

WITHIN_S = 5.0


async def _next_event(response: ClientResponse) -> tuple[str, Any]:
    """The next `event:`/`data:` pair on the stream (keep-alive comments skipped)."""
    async with asyncio.timeout(WITHIN_S):
        name = None
        while True:
            line = (await response.content.readline()).decode()
            if line.startswith("event: "):
                name = line[7:].strip()
            elif line.startswith("data: ") and name is not None:
                return name, json.loads(line[6:])


async def test_the_stream_needs_a_session(client: TestClient[Any, Any]) -> None:
    response = await client.get("/events/inbox", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/login?next=%2Fevents%2Finbox"


async def test_changes_reach_the_stream_as_they_happen(
    client: TestClient[Any, Any], services: Services, csrf: str
) -> None:
    cid = (await inbound(services, "hello", now=T0)).conversation.id
    response = await client.get("/events/inbox")
    assert response.status == 200
    assert response.content_type == "text/event-stream"
    # first, the bus's count as the stream began (the page compares it with its own)
    assert await _next_event(response) == (
        "hello",
        {"published": services.bus.published},
    )

    # an agent's action through the console is on the stream at once
    form = {"csrf_token": csrf, "assignee": "me"}
    done = await client.post(
        f"/conversations/{cid}/assign", data=form, allow_redirects=False
    )
    assert done.status == 303
    assert await _next_event(response) == (
        "conversation.assigned",
        {"conversation_id": cid, "assignee_id": 2},
    )
    form = {"csrf_token": csrf, "body": "on it"}
    await client.post(f"/conversations/{cid}/notes", data=form, allow_redirects=False)
    name, data = await _next_event(response)
    assert name == "note.added"
    assert data["conversation_id"] == cid
    assert "on it" not in json.dumps(data)

    # what the daemon publishes: new texts, delivery ticks; modem news is not the inbox's
    services.bus.publish(events.ModemStatus("usb0", "ready", "", T0))
    services.bus.publish(events.MessageReceived(9, cid, 1, "usb0", T0))
    services.bus.publish(events.MessageStatusChanged(10, cid, "delivered", None, T0))
    assert await _next_event(response) == (
        "message.received",
        {"conversation_id": cid, "message_id": 9},
    )
    assert await _next_event(response) == (
        "message.status",
        {"conversation_id": cid, "message_id": 10, "status": "delivered"},
    )
    response.close()


def test_every_inbox_event_has_a_name_and_no_text() -> None:
    samples: list[events.DomainEvent] = [
        events.MessageReceived(1, 2, 3, "usb0", T0),
        events.MessageQueued(1, 2, T0),
        events.MessageStatusChanged(1, 2, "failed", "<b>network said no</b>", T0),
        events.ConversationCreated(2, 3, T0),
        events.ConversationStatusChanged(2, "resolved", T0),
        events.ConversationAssigned(2, None, T0),
        events.PriorityChanged(2, "high", T0),
        events.ConversationTagged(2, ("<script>",), (), ("<script>",), T0),
        events.NoteAdded(2, 5, 1, T0),
        events.ConversationRead(2, 1, 1, T0),
        events.ConversationFlagged(2, 1, "opt-out wording", T0),
        events.ContactChanged(3, "updated", T0),
        events.ConsentChanged("+447700900123", True, T0),
        events.AutomationHandedOver(2, "said 'ridiculous'", True, "escalations", 1, T0),
    ]
    assert {type(e) for e in samples} == set(INBOX_EVENTS)
    for event in samples:
        encoded = encode_inbox_event(event)
        assert encoded is not None, event
        name, data = encoded
        text = json.dumps(data)
        for secret in (
            "<",
            "network said",
            "+447700900123",
            "opt-out wording",
            "ridiculous",
        ):
            assert secret not in text, (name, text)
    # a message outside any conversation (a bare API send) is nobody's inbox news
    assert encode_inbox_event(events.MessageQueued(1, None, T0)) is None
    assert encode_inbox_event(events.ModemStatus("usb0", "ready", "", T0)) is None


async def test_the_page_carries_the_count_its_reads_began_at(
    client: TestClient[Any, Any], services: Services, csrf: str
) -> None:
    cid = (await inbound(services, "hello", now=T0)).conversation.id
    services.bus.publish(events.MessageReceived(9, cid, 1, "usb0", T0))
    count = services.bus.published
    assert count > 0
    html = await (await client.get("/")).text()
    assert f'data-published="{count}"' in html
    response = await client.get("/events/inbox")
    # nothing happened in between: the page has nothing to fetch again
    assert await _next_event(response) == ("hello", {"published": count})
    response.close()


async def test_missed_events_end_the_stream_so_the_page_resyncs(
    client: TestClient[Any, Any], services: Services, csrf: str
) -> None:
    response = await client.get("/events/inbox")
    name, _ = await _next_event(response)
    assert name == "hello"
    assert services.bus.missed("the listener reconnected") == 1
    async with asyncio.timeout(WITHIN_S):
        rest = await response.content.read()
    assert b"event:" not in rest  # it ended; the browser reconnects and fetches again
    assert response.content.at_eof()
