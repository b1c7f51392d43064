"""What the gateway reports, through the real services: each change writes its webhook
event in the unit that commits it, with the documented payload."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gateway.domain import ConsentKind, ConsentSource, ConversationStatus, utcnow
from gateway.storage import queries
from gateway.storage.models import WebhookEndpoint, WebhookEvent
from modem.events import ModemState
from tests.gateway.gwhelpers import (
    CUSTOMER,
    OTHER,
    FakeModem,
    eventually,
    fake_rig,
    rig,
)

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def add_endpoint(events: list[str] | None = None) -> int:
    """ON THE DB THREAD: a bare endpoint row (the relay is not under test here)."""
    row = WebhookEndpoint.create(
        url="http://127.0.0.1:9/hook",
        secret="whsec_" + "A" * 44,
        events=events or [],
        created_at=T0,
        updated_at=T0,
    )
    return int(row.id)


def recorded() -> list[tuple[str, int | None, dict[str, Any]]]:
    """ON THE DB THREAD: every event, in order: (type, conversation id, data)."""
    return [
        (e.type, e.conversation_id, e.data)
        for e in WebhookEvent.select().order_by(WebhookEvent.id)
    ]


def types(events: list[tuple[str, int | None, dict[str, Any]]]) -> list[str]:
    return [t for t, _, _ in events]


async def test_a_conversation_reported_from_first_text_to_reopen(
    tmp_path: Path,
) -> None:
    async with rig(tmp_path) as r:
        await r.store.run(add_endpoint)
        r.text("Hello, where is my order?")
        (first,) = await eventually(r.messages)
        conversation = first.conversation_id
        await r.settle()
        reply = await r.services.outbound.send(
            CUSTOMER, "It ships today", conversation_id=conversation
        )
        await eventually(
            lambda: _has(r, "message.status", 2), what="sent and delivered"
        )
        await r.store.run(
            queries.set_conversation_status,
            conversation,
            ConversationStatus.PENDING,
            now=utcnow(),
        )
        r.text("STOP")
        await eventually(lambda: _has(r, "contact.opted_out", 1))
        await r.settle()
        await r.services.compliance.set_consent(
            CUSTOMER, opted_out=False, source=ConsentSource.AGENT, actor="user:alice"
        )
        events = await r.store.run(recorded)

    assert types(events) == [
        "conversation.created",
        "message.received",
        "message.status",  # the reply: sent
        "message.status",  # delivered (the simulated network reports it)
        "conversation.status_changed",  # pending -> open: the customer wrote
        "message.received",
        "contact.opted_out",
        "message.status",  # the confirmation: sent
        "message.status",  # delivered
        "contact.opted_in",  # an agent's word, ordered in the same conversation
    ]
    assert {c for _, c, _ in events} == {conversation}
    created, received = events[0][2], events[1][2]
    assert created["conversation"]["status"] == "open"
    assert created["contact"]["number"] == CUSTOMER
    assert created["contact"]["kind"] == "e164"
    message = received["message"]
    assert message["body"] == "Hello, where is my order?"
    assert message["number"] == CUSTOMER
    assert (message["direction"], message["status"]) == ("inbound", "received")
    assert datetime.fromisoformat(message["created_at"]).tzinfo is not None
    sent, delivered = events[2][2], events[3][2]
    assert sent["message"]["id"] == reply.id
    assert "body" not in sent["message"]
    assert (sent["previous_status"], sent["message"]["status"]) == ("sending", "sent")
    assert (delivered["previous_status"], delivered["message"]["status"]) == (
        "sent",
        "delivered",
    )
    changed = events[4][2]
    assert (changed["previous_status"], changed["conversation"]["status"]) == (
        "pending",
        "open",
    )
    opted_out, opted_in = events[6][2], events[9][2]
    assert opted_out["contact"]["number"] == CUSTOMER
    assert opted_out["source"] == "keyword"
    assert opted_out["message_id"] == events[5][2]["message"]["id"]
    assert (opted_in["source"], opted_in["actor"]) == ("agent", "user:alice")


async def _has(r: Any, event_type: str, n: int) -> bool:
    return types(await r.store.run(recorded)).count(event_type) >= n


async def test_a_reopened_conversation_and_an_outbound_first_conversation(
    tmp_path: Path,
) -> None:
    async with rig(tmp_path) as r:
        await r.store.run(
            add_endpoint, ["conversation.created", "conversation.status_changed"]
        )
        r.text("first")
        (first,) = await eventually(r.messages)
        await r.store.run(
            queries.set_conversation_status,
            first.conversation_id,
            ConversationStatus.RESOLVED,
            now=utcnow(),
        )
        r.text("one more thing")
        await eventually(lambda: _has(r, "conversation.status_changed", 1))
        await r.services.outbound.send(OTHER, "We have news about your order")
        await r.settle()
        events = await r.store.run(recorded)
    assert types(events) == [
        "conversation.created",
        "conversation.status_changed",
        "conversation.created",
    ]
    reopened = events[1][2]
    assert reopened["previous_status"] == "resolved"
    assert reopened["conversation"]["status"] == "open"
    outbound_first = events[2][2]
    assert outbound_first["contact"]["number"] == OTHER
    assert outbound_first["conversation"]["status"] == "pending"


async def test_a_message_refused_at_the_radio_is_reported_failed(
    tmp_path: Path,
) -> None:
    modem = FakeModem("usb0", state=ModemState.SEARCHING)
    async with fake_rig(tmp_path, modems=(modem,)) as r:
        await r.store.run(add_endpoint, ["message.status"])
        message = await r.outbound.send(CUSTOMER, "queued before the STOP")
        await r.store.run(
            queries.record_consent,
            CUSTOMER,
            ConsentKind.OPT_OUT,
            ConsentSource.KEYWORD,
            now=utcnow(),
        )
        modem.state = ModemState.READY
        r.dispatcher.wake()
        (event,) = await eventually(lambda: r.store.run(recorded))
    assert event[0] == "message.status"
    data = event[2]["message"]
    assert (data["id"], data["status"], data["error"]) == (
        message.id,
        "failed",
        "recipient opted out",
    )
    assert modem.sent == []
