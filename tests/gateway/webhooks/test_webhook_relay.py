"""The relay against a local receiver: order per conversation with other conversations
going ahead, each kind of answer handled as gateway.webhooks.policy documents, every
attempt logged, dead letters and replay, a bounded stop, no secret in any log line, and
two nodes on one database sending each delivery once (leases)."""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest

from gateway.config import Settings, WebhookSettings
from gateway.domain import WebhookStatus, utcnow
from gateway.events import EventBus
from gateway.storage import webhook_queries
from gateway.storage.db import Store, open_database
from gateway.storage.models import WebhookDelivery, WebhookEvent
from gateway.webhooks import relay as relay_module
from gateway.webhooks.relay import WebhookRelay
from gateway.webhooks.service import WebhookService
from tests.gateway.gwhelpers import eventually
from tests.gateway.webhooks.receiver import Receiver

FAST = WebhookSettings(
    timeout_s=0.5,
    concurrency=4,
    retry_base_s=0.02,
    retry_max_s=0.1,
    max_age_s=60.0,
    max_rejected_attempts=3,
    retention_s=86400.0,
)


@dataclass
class Kit:
    store: Store
    relay: WebhookRelay
    service: WebhookService
    receiver: Receiver
    endpoint_id: int
    secret: str

    async def emit(self, event_type: str, conversation: int | None, n: int) -> str:
        """Record an event as a unit of work would (its data says which it is)."""
        event_id = await self.store.run(
            webhook_queries.record_event,
            event_type,
            {"n": n, "conversation": conversation},
            conversation_id=conversation,
            now=utcnow(),
        )
        assert event_id is not None
        self.relay.wake()
        return event_id

    async def deliveries(self, **filters: Any) -> list[Any]:
        return await self.service.list_deliveries(limit=500, **filters)


@pytest.fixture(autouse=True)
def _fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(relay_module, "POLL_INTERVAL_S", 0.02)
    monkeypatch.setattr(relay_module, "SHUTDOWN_GRACE_S", 0.2)


@asynccontextmanager
async def make_kit(
    store: Store,
    settings: WebhookSettings = FAST,
    *,
    up: bool = True,
    node: str = "test",
    clock: Callable[[], datetime] = utcnow,
    start: bool = True,
) -> AsyncIterator[Kit]:
    receiver = Receiver()
    if up:
        await receiver.up()
    relay = WebhookRelay(store, EventBus(), settings, node=node, clock=clock)
    service = WebhookService(store, settings, wake=relay.wake)
    made = await service.create_endpoint(receiver.url, actor="test")
    receiver.secrets.append(made.secret)
    if start:
        await relay.start()
    try:
        yield Kit(store, relay, service, receiver, made.endpoint.id, made.secret)
    finally:
        await relay.stop()
        await receiver.down()


@pytest.fixture
async def kit(store: Store) -> AsyncIterator[Kit]:
    async with make_kit(store) as made:
        yield made


def order_of(receiver: Receiver, conversation: int) -> list[int]:
    return [
        r.json["data"]["n"]
        for r in receiver.accepted()
        if r.json["data"]["conversation"] == conversation
    ]


async def test_delivered_signed_with_the_headers_receivers_expect(kit: Kit) -> None:
    event_id = await kit.emit("message.received", 1, 1)
    (request,) = await eventually(kit.receiver.accepted)
    assert request.verified
    assert request.webhook_id == event_id
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"].startswith("smsgw-webhooks/")
    assert int(request.headers["webhook-timestamp"]) > 0
    body = request.json
    assert body["id"] == event_id
    assert body["type"] == "message.received"
    assert body["data"] == {"n": 1, "conversation": 1}
    (delivery,) = await eventually(
        lambda: kit.deliveries(status="delivered"), what="marked delivered"
    )
    detail = await kit.service.get_delivery(delivery.id)
    (attempt,) = detail.attempts
    assert (attempt.status_code, attempt.outcome, attempt.error) == (
        204,
        "delivered",
        None,
    )
    assert attempt.duration_ms >= 0
    assert detail.body["id"] == event_id


async def test_order_is_kept_per_conversation_while_others_go_ahead(
    kit: Kit,
) -> None:
    kit.receiver.mode = "503"
    for n in range(1, 4):
        await kit.emit("message.received", 1, n)
    await eventually(lambda: len(kit.receiver.answered(503)) >= 3)
    # conversation 1 is stuck behind its first event: only that one was tried
    assert {r.json["data"]["n"] for r in kit.receiver.requests} == {1}
    kit.receiver.mode = "ok"
    for n in range(1, 4):
        await kit.emit("message.status", 2, n)
    await eventually(lambda: len(kit.receiver.accepted()) == 6, what="all six")
    assert order_of(kit.receiver, 1) == [1, 2, 3]
    assert order_of(kit.receiver, 2) == [1, 2, 3]
    assert all(r.verified for r in kit.receiver.requests)


async def test_unordered_events_are_not_held_up(kit: Kit) -> None:
    kit.receiver.mode = "hang"
    await kit.emit("contact.opted_out", None, 1)
    await eventually(lambda: kit.receiver.requests)
    kit.receiver.mode = "ok"
    await kit.emit("contact.opted_out", None, 2)
    (request,) = await eventually(kit.receiver.accepted)
    assert request.json["data"]["n"] == 2  # the first still hangs; the second went


async def test_a_timeout_is_a_failure_retried_with_the_same_webhook_id(
    kit: Kit,
) -> None:
    kit.receiver.mode = "hang"
    event_id = await kit.emit("message.received", 1, 1)
    await eventually(lambda: len(kit.receiver.requests) >= 2, what="tried twice")
    kit.receiver.mode = "ok"
    await eventually(kit.receiver.accepted)
    assert {r.webhook_id for r in kit.receiver.requests} == {event_id}
    (delivery,) = await eventually(lambda: kit.deliveries(status="delivered"))
    attempts = (await kit.service.get_delivery(delivery.id)).attempts
    assert attempts[0].error == "no answer within 0.5 s"
    assert attempts[0].status_code is None
    assert attempts[0].outcome == "retry"
    assert attempts[-1].outcome == "delivered"


async def test_a_refused_event_is_dead_lettered_and_its_conversation_goes_on(
    kit: Kit,
) -> None:
    kit.receiver.mode = "400"
    await kit.emit("message.received", 1, 1)
    (dead,) = await eventually(lambda: kit.deliveries(status="dead"))
    assert dead.attempts == FAST.max_rejected_attempts
    assert dead.last_status_code == 400
    assert dead.last_error == "refused 3 time(s), last with HTTP 400"
    attempts = (await kit.service.get_delivery(dead.id)).attempts
    assert [a.outcome for a in attempts] == ["retry", "retry", "dead"]
    assert attempts[0].response is not None
    assert attempts[0].response.startswith("nope nope")
    assert len(attempts[0].response) == webhook_queries.RESPONSE_CHARS
    kit.receiver.mode = "ok"
    await kit.emit("message.received", 1, 2)
    await eventually(lambda: order_of(kit.receiver, 1) == [2])
    # replay keeps the webhook-id; it arrives after the later one, which went first
    replayed = await kit.service.replay(dead.id, actor="test")
    assert replayed.status is WebhookStatus.PENDING
    assert replayed.replays == 1
    await eventually(lambda: order_of(kit.receiver, 1) == [2, 1])
    assert kit.receiver.accepted()[-1].webhook_id == dead.event_id


async def test_retryable_4xx_and_5xx_are_retried_until_the_receiver_takes_them(
    kit: Kit,
) -> None:
    for status in ("429", "408", "409", "425", "500", "503"):
        kit.receiver.mode = status
        kit.receiver.requests.clear()
        await kit.emit("message.received", 1, int(status))
        await eventually(lambda: len(kit.receiver.requests) >= 4, what=status)
        kit.receiver.mode = "ok"
        await eventually(
            lambda s=status: order_of(kit.receiver, 1)[-1:] == [int(s)], what=status
        )
    assert await kit.deliveries(status="dead") == []


async def test_410_disables_the_endpoint_and_its_deliveries_wait_in_order(
    kit: Kit,
) -> None:
    kit.receiver.mode = "503"
    await kit.emit("message.received", 1, 1)
    await kit.emit("message.received", 1, 2)
    await kit.emit("message.received", 3, 1)
    await eventually(lambda: len(kit.receiver.answered(503)) >= 2)
    kit.receiver.mode = "410"
    await eventually(lambda: kit.receiver.answered(410))
    endpoint = await eventually(lambda: _disabled(kit), what="the endpoint is disabled")
    assert endpoint.disabled_reason.startswith("the receiver answered 410 Gone")
    # nothing new is queued for a disabled endpoint; what was queued waits
    none = await kit.store.run(
        webhook_queries.record_event, "x.y", {}, conversation_id=1, now=utcnow()
    )
    assert none is None
    tried = len(kit.receiver.requests)
    kit.receiver.mode = "ok"
    assert [d.status for d in await kit.deliveries()] == [WebhookStatus.PENDING] * 3
    assert len(kit.receiver.requests) == tried
    await kit.service.update_endpoint(kit.endpoint_id, active=True, actor="test")
    await eventually(lambda: len(kit.receiver.accepted()) == 3)
    assert order_of(kit.receiver, 1) == [1, 2]
    assert order_of(kit.receiver, 3) == [1]
    endpoint = await kit.service.get_endpoint(kit.endpoint_id)
    assert endpoint.active
    assert endpoint.disabled_reason is None
    outcomes = {
        a.outcome
        for d in await kit.deliveries()
        for a in (await kit.service.get_delivery(d.id)).attempts
    }
    assert "disabled" in outcomes


async def _disabled(kit: Kit) -> Any:
    endpoint = await kit.service.get_endpoint(kit.endpoint_id)
    return None if endpoint.active else endpoint


async def test_dead_lettered_after_max_age_with_a_last_attempt_at_that_age(
    store: Store,
) -> None:
    settings = dataclasses.replace(FAST, max_age_s=0.3, retry_base_s=0.05)
    async with make_kit(store, settings, up=False) as kit:
        await kit.emit("message.received", 1, 1)
        (dead,) = await eventually(lambda: kit.deliveries(status="dead"))
        assert dead.last_error == "still failing 0.3 s after it was queued"
        detail = await kit.service.get_delivery(dead.id)
        assert {a.status_code for a in detail.attempts} == {None}
        assert all("ClientConnectorError" in (a.error or "") for a in detail.attempts)
        assert detail.attempts[-1].outcome == "dead"
        age = (detail.attempts[-1].at - dead.queued_at).total_seconds()
        assert age >= 0.3
        assert [a.outcome for a in detail.attempts][:-1] == ["retry"] * (
            len(detail.attempts) - 1
        )
        # a later event of the conversation went next, and dies too while down
        await kit.receiver.up()
        replayed = await kit.service.replay_dead(kit.endpoint_id, actor="test")
        assert replayed == 1
        await eventually(lambda: kit.receiver.accepted())


async def test_a_test_event_goes_to_its_endpoint_even_when_disabled(kit: Kit) -> None:
    await kit.service.update_endpoint(kit.endpoint_id, active=False, actor="test")
    delivery = await kit.service.send_test(kit.endpoint_id, actor="user:alice")
    (request,) = await eventually(kit.receiver.accepted)
    assert request.json["type"] == "webhook.test"
    assert request.json["data"]["endpoint_id"] == kit.endpoint_id
    assert request.webhook_id == delivery.event_id
    assert request.verified


async def test_a_test_event_answered_410_is_dead_not_retried(kit: Kit) -> None:
    kit.receiver.mode = "410"
    await kit.service.send_test(kit.endpoint_id, actor="test")
    (dead,) = await eventually(lambda: kit.deliveries(status="dead"))
    assert dead.last_error == "the receiver answered 410 Gone"
    assert len(kit.receiver.requests) == 1
    assert not (await kit.service.get_endpoint(kit.endpoint_id)).active


async def test_a_rotated_secret_signs_beside_the_old_one_during_the_grace(
    kit: Kit,
) -> None:
    old = kit.secret
    rotated = await kit.service.rotate_secret(kit.endpoint_id, actor="test")
    assert rotated.secret != old
    assert rotated.endpoint.rotating_until is not None
    kit.receiver.secrets[:] = [rotated.secret]
    await kit.emit("message.received", 1, 1)
    (request,) = await eventually(kit.receiver.accepted)
    assert request.verified  # with the new secret
    assert len(request.headers["webhook-signature"].split()) == 2
    kit.receiver.secrets[:] = [old]
    await kit.emit("message.received", 1, 2)
    await eventually(lambda: len(kit.receiver.accepted()) == 2)
    assert kit.receiver.accepted()[1].verified  # and with the old one


async def test_stop_cuts_a_hanging_request_short_and_it_goes_again_at_start(
    store: Store,
) -> None:
    settings = dataclasses.replace(FAST, timeout_s=30.0)
    receiver = Receiver(mode="hang")
    await receiver.up()
    try:
        relay = WebhookRelay(store, EventBus(), settings, node="test")
        service = WebhookService(store, settings)
        made = await service.create_endpoint(receiver.url, actor="test")
        receiver.secrets.append(made.secret)
        await relay.start()
        await store.run(
            webhook_queries.record_event, "x.y", {}, conversation_id=1, now=utcnow()
        )
        relay.wake()
        await eventually(lambda: receiver.requests)
        async with asyncio.timeout(5):
            await relay.stop()  # bounded by SHUTDOWN_GRACE_S, not the 30 s timeout
        (delivery,) = await service.list_deliveries()
        assert delivery.status is WebhookStatus.PENDING
        (attempt,) = (await service.get_delivery(delivery.id)).attempts
        assert attempt.outcome == "interrupted"
        receiver.mode = "ok"
        relay = WebhookRelay(store, EventBus(), settings, node="test")
        await relay.start()
        try:
            (request,) = await eventually(receiver.accepted)
            assert request.webhook_id == delivery.event_id
        finally:
            await relay.stop()
    finally:
        await receiver.down()


async def test_secrets_and_bodies_never_reach_the_log(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with make_kit(store) as kit:
        kit.receiver.mode = "503"
        await store.run(
            webhook_queries.record_event,
            "message.received",
            {"body": "my card number is 4111"},
            conversation_id=1,
            now=utcnow(),
        )
        kit.relay.wake()
        await eventually(lambda: len(kit.receiver.requests) >= 2)
        kit.receiver.mode = "400"
        await eventually(lambda: kit.deliveries(status="dead"))
        # ours (peewee's own DEBUG lines echo SQL parameters; the receiver's access
        # log is the receiver's)
        text = "\n".join(
            r.getMessage() for r in caplog.records if r.name.startswith("gateway")
        )
        assert "failed (HTTP 503)" in text
        assert "dead-lettered" in text
        assert kit.secret not in text
        assert kit.secret[6:20] not in text
        assert "4111" not in text
        assert "source=test" not in text  # URLs may carry tokens: ids are logged
        assert repr(kit.secret) not in repr(await kit.service.list_endpoints())


# ------------------------------------------------------------------ several nodes


def _leased_event(node: str, until: datetime) -> str:
    """ON THE DB THREAD, in one unit: an event whose delivery `node` claimed and has not
    settled (it is sending it, or it died doing so); the webhook-id."""
    event_id = webhook_queries.record_event(
        "contact.opted_out",
        {"n": 0, "conversation": None},
        conversation_id=None,
        now=utcnow(),
    )
    assert event_id is not None
    event = WebhookEvent.get(WebhookEvent.event_id == event_id)
    WebhookDelivery.update(claimed_by=node, claimed_until=until).where(
        WebhookDelivery.event == event.id
    ).execute()
    return event_id


def _lease_of(event_id: str) -> tuple[str | None, datetime | None]:
    row = (
        WebhookDelivery.select(WebhookDelivery)
        .join(WebhookEvent)
        .where(WebhookEvent.event_id == event_id)
        .get()
    )
    return row.claimed_by, row.claimed_until


async def test_two_nodes_on_one_database_send_each_delivery_once(
    store: Store, settings: Settings
) -> None:
    # held requests must not time out (a retry would be a second request by design)
    slow = dataclasses.replace(FAST, timeout_s=30.0)
    other = await open_database(settings)  # node b's own store, on the same database
    try:
        async with make_kit(store, slow, node="a") as kit:
            kit.receiver.mode = "hold"
            b = WebhookRelay(other, EventBus(), slow, node="b")
            await b.start()
            try:
                ids = [await kit.emit("contact.opted_out", None, n) for n in range(8)]
                b.wake()
                # both nodes at their concurrency, all eight requests held at once
                await eventually(lambda: len(kit.receiver.requests) >= 8)
                assert (kit.relay.in_flight, b.in_flight) == (4, 4)
                kit.receiver.let_through()
                for conversation in (1, 2, 3):
                    for n in range(1, 5):
                        ids.append(await kit.emit("message.received", conversation, n))
                b.wake()
                await eventually(
                    lambda: len(kit.receiver.accepted()) >= len(ids), what="all sent"
                )
                delivered = await eventually(
                    lambda: _all_delivered(kit, len(ids)), what="all recorded"
                )
                assert {d.event_id for d in delivered} == set(ids)
            finally:
                await b.stop()
    finally:
        await other.close()
    sent = collections.Counter(r.webhook_id for r in kit.receiver.requests)
    assert sent == collections.Counter(
        ids
    )  # each exactly once, by one node or the other
    for conversation in (1, 2, 3):  # and in order across the nodes
        assert order_of(kit.receiver, conversation) == [1, 2, 3, 4]


async def _all_delivered(kit: Kit, n: int) -> list[Any]:
    delivered = await kit.deliveries(status="delivered")
    return delivered if len(delivered) == n else []


async def test_a_delivery_whose_node_died_mid_request_goes_when_its_lease_runs_out(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    ahead = [timedelta(0)]
    async with make_kit(store, node="b", clock=lambda: utcnow() + ahead[0]) as kit:
        lease = timedelta(seconds=relay_module.lease_s(FAST))
        # node a claimed it and died mid-request: its lease stands until it runs out
        orphan = await store.run(_leased_event, "a", utcnow() + lease)
        later = await kit.emit("contact.opted_out", None, 1)
        (request,) = await eventually(kit.receiver.accepted)
        assert request.webhook_id == later  # the orphan was passed over meanwhile
        ahead[0] = lease
        kit.relay.wake()
        await eventually(lambda: len(kit.receiver.accepted()) == 2)
        assert kit.receiver.accepted()[1].webhook_id == orphan  # its webhook-id kept
        await eventually(lambda: _all_delivered(kit, 2))
        assert await store.run(_lease_of, orphan) == (None, None)
    assert len(kit.receiver.requests) == 2
    assert "the lease of node a ran out" in caplog.text


async def test_a_node_starting_again_sends_what_its_previous_run_held_at_once(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    # far off: only the release at start can send ours before the test times out
    until = utcnow() + timedelta(hours=1)
    async with make_kit(store, node="b", start=False) as kit:
        ours = await store.run(_leased_event, "b", until)  # b's run before a crash
        theirs = await store.run(_leased_event, "a", until)  # node a, sending it now
        await kit.relay.start()
        (request,) = await eventually(kit.receiver.accepted)
        assert request.webhook_id == ours
        later = await kit.emit("contact.opted_out", None, 1)
        await eventually(lambda: len(kit.receiver.accepted()) == 2)
        assert kit.receiver.accepted()[1].webhook_id == later  # a's is still a's
        assert await store.run(_lease_of, theirs) == ("a", until)
    assert len(kit.receiver.requests) == 2
    assert "1 webhook delivery lease(s) of this node's previous run released" in (
        caplog.text
    )
