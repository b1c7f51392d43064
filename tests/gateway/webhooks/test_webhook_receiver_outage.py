"""MUST SHOW (issue 4): a webhook receiver down for a while, then back: every event
arrives after, signatures valid, order per conversation kept; 4xx, 5xx and timeouts each
handled as documented (gateway.webhooks.policy, README "Webhooks").

Real traffic through the real services: simulated phones text the box's simulated
modem, agents reply, a customer texts STOP; the receiver is a local aiohttp app that is
first not listening, then answers 503, then hangs past the timeout, then comes back."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from gateway import daemon as daemon_module
from gateway.storage.models import WebhookEvent
from gateway.webhooks import relay as relay_module
from gateway.webhooks.relay import WebhookRelay
from tests.gateway.gwhelpers import CUSTOMER, OTHER, Rig, eventually, rig
from tests.gateway.webhooks.receiver import Receiver
from tests.gateway.webhooks.test_webhook_relay import FAST


@pytest.fixture(autouse=True)
def _fast_relay(monkeypatch: pytest.MonkeyPatch) -> None:
    """The daemon's relay with short timings (the settings' floors are for operators)."""
    monkeypatch.setattr(relay_module, "POLL_INTERVAL_S", 0.02)
    monkeypatch.setattr(relay_module, "SHUTDOWN_GRACE_S", 0.2)

    def fast(store: Any, bus: Any, settings: Any, **kwargs: Any) -> WebhookRelay:
        return WebhookRelay(store, bus, FAST, **kwargs)

    monkeypatch.setattr(daemon_module, "WebhookRelay", fast)


def events_in_order() -> list[tuple[str, str, int | None]]:
    """ON THE DB THREAD: (webhook-id, type, conversation) of every event, in order."""
    return [
        (e.event_id, e.type, e.conversation_id)
        for e in WebhookEvent.select().order_by(WebhookEvent.id)
    ]


async def first_errors(r: Rig) -> list[str]:
    """What the attempts of the first delivery (the first event) got."""
    deliveries = await r.services.webhooks.list_deliveries(limit=500)
    first = min(deliveries, key=lambda d: d.id)
    detail = await r.services.webhooks.get_delivery(first.id)
    return [a.error or f"HTTP {a.status_code}" for a in detail.attempts]


async def everything_arrived(r: Rig, receiver: Receiver) -> list[Any] | None:
    recorded = await r.store.run(events_in_order)
    accepted = {req.webhook_id for req in receiver.accepted()}
    return recorded if {e for e, _, _ in recorded} <= accepted else None


def by_conversation(
    ids: list[str], conversation_of: dict[str, int | None]
) -> dict[int | None, list[str]]:
    grouped: dict[int | None, list[str]] = defaultdict(list)
    for webhook_id in ids:
        grouped[conversation_of[webhook_id]].append(webhook_id)
    return dict(grouped)


async def test_a_receiver_down_then_back_gets_every_event_signed_and_in_order(
    tmp_path: Path,
) -> None:
    receiver = Receiver()  # not listening yet: connections are refused
    try:
        async with rig(tmp_path) as r:
            hooks = r.services.webhooks
            made = await hooks.create_endpoint(
                receiver.url, description="helpdesk", actor="test"
            )
            receiver.secrets.append(made.secret)

            # Down: customers text, an agent replies, one customer texts STOP.
            r.text("Hello, where is my order?")
            r.text("Do you ship to Norway?", sender=OTHER)
            await eventually(lambda: r.messages(OTHER))
            (first,) = await eventually(r.messages)
            await r.services.outbound.send(
                CUSTOMER, "It ships today", conversation_id=first.conversation_id
            )
            r.text("STOP", sender=OTHER)
            await r.settle()
            errors = await eventually(
                lambda: _matching(first_errors(r), "ClientConnectorError", 2)
            )
            assert all("ClientConnectorError" in e for e in errors)

            # Up, but failing: 503s, then requests that hang past the timeout.
            receiver.mode = "503"
            await receiver.up()
            await eventually(lambda: _matching(first_errors(r), "HTTP 503", 2))
            receiver.mode = "hang"
            await eventually(lambda: _matching(first_errors(r), "no answer within", 1))
            assert receiver.accepted() == []

            # Back: everything queued arrives, and so does what happens meanwhile.
            receiver.mode = "ok"
            r.text("Thanks, and where is it now?")
            await r.settle()
            recorded = await eventually(
                lambda: everything_arrived(r, receiver), what="every event delivered"
            )
            # the receiver answered; the relay commits each answer right after
            deliveries = await eventually(
                lambda: _all_delivered(hooks), what="every delivery marked delivered"
            )
            first_delivery = min(deliveries, key=lambda d: d.id)
            attempts = (await hooks.get_delivery(first_delivery.id)).attempts
    finally:
        await receiver.down()

    types = [t for _, t, _ in recorded]
    for expected in (
        "conversation.created",
        "message.received",
        "message.status",
        "contact.opted_out",
    ):
        assert expected in types
    assert types.count("conversation.created") == 2
    assert types.count("message.received") == 4

    # every request signed (those that failed too); every event taken, at least once
    # (an answer later than timeout_s on a loaded machine is tried again, with the same
    # webhook-id: receivers drop the repeat, and so does this check)
    assert receiver.requests
    assert all(req.verified for req in receiver.requests)
    accepted = list(dict.fromkeys(req.webhook_id for req in receiver.accepted()))
    assert sorted(accepted) == sorted(e for e, _, _ in recorded)

    # order per conversation: as the events happened
    conversation_of = {e: c for e, _, c in recorded}
    assert None not in conversation_of.values()
    assert by_conversation(accepted, conversation_of) == by_conversation(
        [e for e, _, _ in recorded], conversation_of
    )
    assert len(by_conversation(accepted, conversation_of)) == 2

    # the first event's log: refused, 503, timed out, then delivered
    kinds = [
        (a.status_code, (a.error or "").split(":")[0], a.outcome) for a in attempts
    ]
    assert kinds[0] == (None, "ClientConnectorError", "retry")
    assert (503, "", "retry") in kinds
    assert (None, "no answer within 0.5 s", "retry") in kinds
    assert kinds[-1] == (204, "", "delivered")
    assert all(k[2] == "retry" for k in kinds[:-1])


async def _all_delivered(hooks: Any) -> list[Any] | None:
    deliveries = await hooks.list_deliveries(limit=500)
    done = {d.status.value for d in deliveries} == {"delivered"}
    return list(deliveries) if done else None


async def _matching(errors: Any, text: str, n: int) -> list[str] | None:
    found = [e for e in await errors if text in e]
    return found if len(found) >= n else None


async def test_a_refusing_then_gone_receiver_as_documented(tmp_path: Path) -> None:
    """4xx: a refused event is dead-lettered after max_rejected_attempts and its
    conversation goes on; 410: the endpoint is disabled, what is queued waits, and is
    delivered in order once an admin enables it again; replay keeps the webhook-id."""
    receiver = Receiver(mode="400")
    await receiver.up()
    try:
        async with rig(tmp_path) as r:
            hooks = r.services.webhooks
            made = await hooks.create_endpoint(
                receiver.url, events=["message.received"], actor="test"
            )
            receiver.secrets.append(made.secret)
            r.text("first, refused")
            (dead,) = await eventually(lambda: hooks.list_deliveries(status="dead"))
            assert dead.attempts == FAST.max_rejected_attempts
            assert len(receiver.answered(400)) == FAST.max_rejected_attempts

            receiver.mode = "ok"
            r.text("second, taken")
            await eventually(receiver.accepted)
            assert _bodies(receiver) == ["second, taken"]

            receiver.mode = "410"
            r.text("third, gone")
            await eventually(lambda: receiver.answered(410))
            endpoint = await eventually(lambda: _disabled(hooks, made.endpoint.id))
            assert "410" in (endpoint.disabled_reason or "")
            receiver.mode = "ok"
            await hooks.update_endpoint(made.endpoint.id, active=True, actor="test")
            await eventually(lambda: len(receiver.accepted()) == 2)
            assert _bodies(receiver) == ["second, taken", "third, gone"]

            await hooks.replay(dead.id, actor="user:admin")
            await eventually(lambda: len(receiver.accepted()) == 3)
            assert _bodies(receiver)[-1] == "first, refused"
            assert receiver.accepted()[-1].webhook_id == dead.event_id
            assert all(req.verified for req in receiver.requests)
    finally:
        await receiver.down()


def _bodies(receiver: Receiver) -> list[str]:
    return [req.json["data"]["message"]["body"] for req in receiver.accepted()]


async def _disabled(hooks: Any, endpoint_id: int) -> Any:
    endpoint = await hooks.get_endpoint(endpoint_id)
    return None if endpoint.active else endpoint
