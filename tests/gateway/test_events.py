"""The in-process event bus: fan-out, type filters, and lagging subscribers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gateway import events
from gateway.events import EventBus

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def received(i: int) -> events.MessageReceived:
    return events.MessageReceived(i, 1, 1, "sim", NOW)


async def collect(sub: events.Subscription) -> list[events.DomainEvent]:
    return [e async for e in sub]


async def test_every_subscriber_gets_every_event_in_order() -> None:
    bus = EventBus()
    a, b = bus.subscribe(), bus.subscribe()
    for i in range(3):
        bus.publish(received(i))
    a.close()
    b.close()
    assert await collect(a) == [received(0), received(1), received(2)]
    assert await collect(b) == [received(0), received(1), received(2)]
    assert bus.subscriber_count == 0


async def test_type_filter() -> None:
    bus = EventBus()
    sub = bus.subscribe(events.ConsentChanged)
    bus.publish(received(1))
    opt_out = events.ConsentChanged("+447700900123", True, NOW)
    bus.publish(opt_out)
    sub.close()
    assert await collect(sub) == [opt_out]


async def test_publish_without_subscribers_is_a_no_op() -> None:
    EventBus().publish(received(1))


async def test_a_lagging_subscriber_is_dropped_and_told(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(events, "SUBSCRIBER_QUEUE_SIZE", 3)
    bus = EventBus()
    slow, fast = bus.subscribe(), bus.subscribe()
    got = []
    for i in range(5):
        bus.publish(received(i))
        got.append(fast.queue.get_nowait())
    assert slow.lagged
    assert bus.subscriber_count == 1
    # the slow one ends (so an SSE client reconnects and resyncs) instead of blocking publish
    assert len(await collect(slow)) < 5
    assert got == [received(i) for i in range(5)]


async def test_missed_events_end_the_live_views_only() -> None:
    bus = EventBus()
    live = bus.subscribe(events.MessageReceived, resyncs=True)
    relay = bus.subscribe()
    bus.publish(received(1))
    assert bus.missed("the listener reconnected") == 1
    assert live.lagged
    # what was queued before still comes, then the live view ends (its page resyncs)
    assert await collect(live) == [received(1)]
    bus.publish(received(2))
    assert bus.subscriber_count == 1  # the relay keeps its subscription
    assert relay.queue.qsize() == 2
    assert bus.missed("again") == 0
    relay.close()
